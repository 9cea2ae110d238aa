// issue 14 (bench/landing-page): `pnpm start` with RUN_WORKER runs the journey workers in a worker
// thread of the server process (worker-thread.ts), off the event loop that renders pages. The real
// main.ts on a test database and the machine's Redis: it says the worker runs in this process, an
// event tracked over HTTP is processed by the thread's workers, and SIGTERM lets the thread close
// its workers and connections before the process exits 0.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { createTestDatabase, waitFor, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const tsx = path.resolve(import.meta.dirname, "../node_modules/.bin/tsx");
const main = path.resolve(import.meta.dirname, "main.ts");
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

describe("issue 14: the in-process worker runs in its own thread", () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  const key = `pp_${randomBytes(12).toString("hex")}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    const ws = await db.prisma.workspace.create({
      data: { name: "Thread", slug: `thread-${Date.now()}` },
    });
    await db.prisma.apiKey.create({
      data: {
        workspaceId: ws.id,
        name: "thread",
        prefix: key.slice(0, 8),
        keyHash: createHash("sha256").update(key).digest("hex"),
      },
    });
  });
  afterAll(async () => {
    try {
      if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
    await db?.drop();
  });

  it("processes tracked events and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    child = spawn(tsx, [main], {
      detached: true, // its own group, so afterAll can kill tsx and the server together
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
        DATABASE_URL: db.url,
        REDIS_URL,
        REDIS_AUTOSTART: "false",
        QUEUE_PREFIX: `thread-${randomBytes(4).toString("hex")}`,
        HOST: "127.0.0.1",
        PORT: String(port),
        SEED_DEMO: "false",
        LOG_LEVEL: "error",
        RUN_WORKER: "true",
        POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
        WEB_DIST: "/nonexistent",
      },
    });
    let stdout = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    // It prints its banner once the worker thread consumes and the server listens.
    await waitFor("the server to start", () => {
      if (child?.exitCode !== null) throw new Error(`the server exited (${child?.exitCode})`);
      return Promise.resolve(stdout.includes("Postpath is running at"));
    });
    expect(stdout).toContain("Worker: in this process");

    const res = await fetch(`${base}/v1/track`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ userId: "u1", event: "purchase", properties: { sku: "X1" } }),
    });
    expect(res.status).toBe(200);
    const { eventId } = (await res.json()) as { eventId: string };
    // Processed (matched against triggers and waits) by the workers of the thread.
    await waitFor("the worker thread to process the event", async () => {
      const [row] = await db.query<{ processed: boolean }>(
        `SELECT "processedAt" IS NOT NULL AS processed FROM "Event" WHERE id = $1`,
        [eventId],
      );
      return row?.processed;
    });

    // tsx passes the signal on to the server; the server's answer is its exit code.
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
