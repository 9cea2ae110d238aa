// The README's first command: `pnpm start` without DATABASE_URL keeps its data in an embedded
// PGlite database under the data folder, seeds the demo workspace, prints a write key and runs the
// journey workers on its own thread. The real main.ts, twice on the same folder: an event sent
// with the printed key enrols the customer in the demo journey; after a SIGTERM (exit 0) and a
// second start, nothing is seeded again, the customer and the run are still there, and the run's
// wait, timed before the restart, still reaches the email step.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_JOURNEY_NAME, DEMO_PASSWORD } from "@postpath/api";
import { trpcHttp, waitFor } from "./testing/harness.ts";
import { freePort, killGroup, serverCommand } from "./testing/server-process.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

type Started = { child: ChildProcess; base: string; stdout: () => string; exit: Promise<number> };

/** CPU ticks used so far by the server's process group: progress while it starts. */
function groupTicks(pgid: number): number {
  let ticks = 0;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]); // pgrp, utime, stime
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

async function start(dataDir: string, queuePrefix: string): Promise<Started> {
  const port = await freePort();
  const child = spawn(serverCommand.command, serverCommand.args, {
    cwd: serverCommand.cwd,
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      POSTPATH_DATA_DIR: dataDir,
      REDIS_URL,
      REDIS_AUTOSTART: "false",
      QUEUE_PREFIX: queuePrefix,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "error",
      WEB_DIST: "/nonexistent",
    },
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number>((r) => child.once("exit", (code) => r(code ?? -1)));
  await waitFor(
    "the embedded server to start",
    () => {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
      return Promise.resolve(out.includes("Postpath is running at"));
    },
    { progress: () => Promise.resolve(groupTicks(child.pid!)) },
  );
  return { child, base: `http://127.0.0.1:${port}`, stdout: () => out, exit };
}

describe("pnpm start with the embedded database", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "postpath-embedded-"));
  const queuePrefix = `embedded-${randomBytes(4).toString("hex")}`;
  let running: Started | undefined;

  afterAll(() => {
    killGroup(running?.child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs the demo journey, and keeps customers, runs and timers across a restart", async () => {
    running = await start(dataDir, queuePrefix);
    const banner = running.stdout();
    expect(banner).toContain(`Database: embedded PGlite in ${dataDir}`);
    expect(banner).toContain("Worker: in this process");
    const writeKey = /Demo ingest write key: (pp_\S+)/.exec(banner)?.[1];
    expect(writeKey).toBeDefined();

    const auth = `Basic ${Buffer.from(`${writeKey}:`).toString("base64")}`;
    const send = (kind: string, body: unknown) =>
      fetch(`${running!.base}/v1/${kind}`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect(
      (await send("identify", { userId: "ada", traits: { email: "ada@example.com" } })).status,
    ).toBe(200);
    expect((await send("track", { userId: "ada", event: "purchase" })).status).toBe(200);

    const runsOf = async (base: string) => {
      const api = trpcHttp(base);
      const signIn = await api.mutation("auth.signIn", {
        email: "marketer@postpath.local",
        password: DEMO_PASSWORD,
      });
      expect(signIn.status).toBe(200);
      return async () => {
        const found = await api.query("customers.search", { query: "ada" });
        const id = (found.body.result?.data as { items: { id: string }[] } | undefined)?.items[0]
          ?.id;
        if (!id) return [];
        const runs = await api.query("customers.runs", { id });
        return (
          (runs.body.result?.data as {
            items: { journeyName: string; status: string; messages: { channel: string }[] }[];
          }) ?? { items: [] }
        ).items;
      };
    };
    const runs = await runsOf(running.base);
    const [entered] = await waitFor("the demo journey to enrol the customer", async () => {
      const items = await runs();
      return items.length > 0 ? items : null;
    });
    expect(entered!.journeyName).toBe(DEMO_JOURNEY_NAME);
    expect(entered!.messages).toEqual([]); // still in the 30 s wait

    running.child.kill("SIGTERM");
    expect(await running.exit).toBe(0);

    running = await start(dataDir, queuePrefix);
    expect(running.stdout()).toContain(`Demo ingest write key: ${writeKey}`);
    const after = await runsOf(running.base);
    expect((await after()).map((r) => r.journeyName)).toEqual([DEMO_JOURNEY_NAME]);
    // The wait's timer outlived the restart: the run reaches the thank-you email.
    const [emailed] = await waitFor(
      "the run to reach the email step after the restart",
      async () => {
        const items = await after();
        return items[0]?.messages.length ? items : null;
      },
    );
    expect(emailed!.messages.map((m) => m.channel)).toEqual(["email"]);

    running.child.kill("SIGTERM");
    expect(await running.exit).toBe(0);
  });
});
