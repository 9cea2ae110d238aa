// Redis restarted mid-run: a Redis this test starts itself (AOF on), SIGKILLed while runs wait on
// delayed jobs and sends are in flight, then started again on the same data directory. Workers
// reconnect; whatever the AOF lost (up to its last fsync) the sweeper re-creates from Postgres.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createProvider } from "@postpath/channels";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertRedis } from "./queues.ts";
import { localRedisArgs } from "./runtime.ts";
import { track } from "./ingest.ts";
import {
  runProgress,
  sleep,
  startEngineHarness,
  waitFor,
  type EngineHarness,
} from "./testing/harness.ts";
import { startSink, type Sink } from "./testing/sink.ts";

const CUSTOMERS = 300;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe("Redis restart", () => {
  let dir: string;
  let port: number;
  let url: string;
  let redis: ChildProcess | null = null;
  let sink: Sink;
  let h: EngineHarness;

  async function startRedis(): Promise<void> {
    // The same durable Redis that `pnpm start` starts when none is running.
    redis = spawn("redis-server", localRedisArgs(String(port), dir), { stdio: "ignore" });
    await waitFor(
      "redis up",
      async () => {
        try {
          await assertRedis(url);
          return true;
        } catch {
          return false;
        }
      },
      10_000,
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "pp-redis-"));
    port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    await startRedis();
    sink = await startSink();
    h = await startEngineHarness({
      redisUrl: url,
      providers: { webhook: createProvider("webhook", { secret: "s", timeoutMs: 2000 }) },
      sendRetry: { attempts: 10, backoffMs: 200 },
      workers: {
        sweepEveryMs: 2000,
        sweepGraceMs: 4000,
        lockDurationMs: 5000,
        stalledIntervalMs: 2000,
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    redis?.kill("SIGKILL");
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("no customer is lost and runs resume after Redis dies and comes back", async () => {
    const { journeyId } = await h.publish("restart", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m1" },
      {
        id: "m1",
        type: "action.webhook",
        data: { url: `${sink.url}/1`, body: '{"c":"{{ customer.externalId }}"}' },
        next: "w",
      },
      { id: "w", type: "wait.duration", data: { amount: 3, unit: "seconds" }, next: "m2" },
      {
        id: "m2",
        type: "action.webhook",
        data: { url: `${sink.url}/2`, body: '{"c":"{{ customer.externalId }}"}' },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    for (let i = 0; i < CUSTOMERS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          track(h.ctx, h.workspaceId, { userId: `u${i + k}`, event: "purchase" }),
        ),
      );
    }
    await waitFor(
      "some runs waiting",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) >
        CUSTOMERS / 3,
      { progress: () => runProgress(h.db, journeyId) },
    );
    redis!.kill("SIGKILL");
    await new Promise((r) => redis!.once("exit", r));
    await sleep(1500);
    await startRedis();

    await waitFor(
      "every run completed",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) ===
        CUSTOMERS,
      { progress: () => runProgress(h.db, journeyId) },
    );
    await sleep(500);
    const messages = await h.db.prisma.message.findMany({
      select: { idempotencyKey: true, status: true },
    });
    expect(messages).toHaveLength(CUSTOMERS * 2);
    expect(messages.every((m) => m.status === "SENT")).toBe(true);
    expect(sink.processed.size).toBe(CUSTOMERS * 2);
    const keys = new Set(messages.map((m) => m.idempotencyKey));
    for (const k of sink.processed.keys()) expect(keys.has(k)).toBe(true);
    console.log(
      `Redis restart: ${sink.deliveries.length} deliveries of ${sink.processed.size} keys (${sink.deliveries.length - sink.processed.size} redeliveries absorbed by the receiver)`,
    );
  }, 3_600_000); // waits above fail when nothing moves for 2 min, however slow the machine
});
