// issue 14/15: HTTP_PROCESSES=2 — the real main.ts on a test database and the machine's Redis
// serves HTTP from two processes on one port (node:cluster) while the first process supervises
// them and runs the journey workers. Tracked events sent over fresh connections are stored and
// processed; an HTTP process killed with SIGKILL is replaced while the other keeps answering;
// SIGTERM stops the supervisor and every HTTP process, exit code 0.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createTestDatabase, waitFor, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  killGroup,
  spawnServer,
  workspaceWithWriteKey,
} from "./testing/server-process.ts";

/** The HTTP processes of a supervisor: its children running main.ts (not tsx's esbuild). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      if (
        Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid &&
        fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("main.ts")
      )
        out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** POST /v1/track on a connection of its own (no keep-alive: each may reach either process). */
function track(
  port: number,
  key: string,
  userId: string,
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ userId, event: "purchase", messageId: `m-${userId}` });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/track",
        method: "POST",
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("issue 14/15: HTTP_PROCESSES runs the server's HTTP on several processes", () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let key = "";

  beforeAll(async () => {
    db = await createTestDatabase();
    key = await workspaceWithWriteKey(db, "Processes");
  });
  afterAll(async () => {
    killGroup(child);
    await db?.drop();
  });

  it("serves from two processes, replaces a killed one and stops all on SIGTERM", async () => {
    const port = await freePort();
    child = spawnServer({
      db,
      port,
      runWorker: true,
      stdout: "pipe",
      env: { HTTP_PROCESSES: "2" },
    });
    let stdout = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
    await waitFor("the server to start", () => {
      if (child?.exitCode !== null) throw new Error(`the server exited (${child?.exitCode})`);
      return Promise.resolve(stdout.includes("Postpath is running at"));
    });
    expect(stdout).toContain("(2 HTTP processes)");
    expect(stdout).toContain("Worker: in this process");
    const first = childrenOf(child.pid!);
    expect(first).toHaveLength(2);

    // Fresh connections, spread by the supervisor over both processes: every event stored once
    // and processed by the supervisor's workers.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => track(port, key, `u${i}`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    await waitFor("the 20 events to be processed", async () => {
      const [row] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "Event" WHERE "processedAt" IS NOT NULL`,
      );
      return row?.n === 20;
    });

    // One HTTP process dies: the other answers meanwhile, and a new one takes its place.
    process.kill(first[0]!, "SIGKILL");
    await waitFor("the killed process to be gone", () => Promise.resolve(!alive(first[0]!)));
    const during = await Promise.all(
      Array.from({ length: 5 }, (_, i) => track(port, key, `v${i}`)),
    );
    expect(during.map((a) => a.status)).toEqual(Array(5).fill(200));
    await waitFor("a new HTTP process", () => {
      const now = childrenOf(child!.pid!);
      return Promise.resolve(now.length === 2 && !now.includes(first[0]!));
    });
    expect(stdout).toContain("an HTTP process ended; starting a new one");
    // The replacement listens too: after it starts, requests keep succeeding.
    await waitFor("answers from the replaced set of processes", async () => {
      const again = await Promise.all(
        Array.from({ length: 6 }, (_, i) => track(port, key, `w${i}`)),
      );
      return again.every((a) => a.status === 200);
    });
    const [stored] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Event"`);
    expect(stored?.n).toBe(31);

    const last = childrenOf(child.pid!);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(last.filter(alive)).toEqual([]);
  });
});
