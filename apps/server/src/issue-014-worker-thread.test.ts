// issue 14 (bench/landing-page): `pnpm start` with RUN_WORKER runs the journey workers in a worker
// thread of the server process (worker-thread.ts), off the event loop that renders pages. The real
// main.ts on a test database and the machine's Redis: it says the worker runs in this process, an
// event tracked over HTTP is processed by the thread's workers, and SIGTERM lets the thread close
// its workers and connections before the process exits 0.
import type { ChildProcess } from "node:child_process";
import { createTestDatabase, waitFor, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  killGroup,
  spawnServer,
  workspaceWithWriteKey,
} from "./testing/server-process.ts";

describe("issue 14: the in-process worker runs in its own thread", () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let key = "";

  beforeAll(async () => {
    db = await createTestDatabase();
    key = await workspaceWithWriteKey(db, "Thread");
  });
  afterAll(async () => {
    killGroup(child);
    await db?.drop();
  });

  it("processes tracked events and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    child = spawnServer({ db, port, runWorker: true, stdout: "pipe" });
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
