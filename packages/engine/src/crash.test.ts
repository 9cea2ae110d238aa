// Failure is tested, not hoped for: worker processes are SIGKILLed over and over while 2,000
// customers flow through a journey with two webhook sends and a wait (woken by timer buckets).
// The receiver records every delivery with its idempotency key (Standard Webhooks `webhook-id`).
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import {
  runProgress,
  sleep,
  startEngineHarness,
  waitFor,
  type EngineHarness,
} from "./testing/harness.ts";
import { workerFleet, type WorkerFleet } from "./testing/worker-fleet.ts";
import { startSink, type Sink } from "./testing/sink.ts";

const CUSTOMERS = 2000;
const WORKERS = 3;
const KILL_FOR_MS = 75_000;

describe("SIGKILL loop", () => {
  let db: TestDatabase;
  let sink: Sink;
  let h: EngineHarness;
  let workers: WorkerFleet;

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSink();
    h = await startEngineHarness({ db, workers: false });
    workers = workerFleet({
      databaseUrl: db.url,
      prefix: h.prefix,
      // The 1 s wait goes through timer buckets (small pages, so buckets continue in other jobs),
      // which SIGKILLs interrupt like any other job.
      timers: { directWithinMs: 0, bucketMs: 200, pageSize: 25 },
    });
  });
  afterAll(async () => {
    workers?.killAll();
    await h?.close();
    await sink?.close();
    await db?.drop();
  });

  it(`every customer reaches the end; no message lost; each idempotency key processed once`, async () => {
    const { journeyId } = await h.publish("crash", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m1" },
      {
        id: "m1",
        type: "action.webhook",
        data: { url: `${sink.url}/m1`, body: '{"c":"{{ customer.externalId }}","step":1}' },
        next: "w",
      },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "seconds" }, next: "m2" },
      {
        id: "m2",
        type: "action.webhook",
        data: { url: `${sink.url}/m2`, body: '{"c":"{{ customer.externalId }}","step":2}' },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    for (let i = 0; i < WORKERS; i++) workers.spawn();
    const started = Date.now();
    // Ingest while workers start and die.
    const ingest = (async () => {
      for (let i = 0; i < CUSTOMERS; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            track(h.ctx, h.workspaceId, {
              userId: `u${i + k}`,
              event: "purchase",
              messageId: `p-${i + k}`,
            }),
          ),
        );
      }
    })();
    let kills = 0;
    while (Date.now() - started < KILL_FOR_MS) {
      await sleep(5000 + Math.random() * 4000);
      const victims = [...workers.running];
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (victim) {
        victim.kill("SIGKILL");
        kills++;
      }
      workers.spawn();
      const done = await db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } });
      if (done === CUSTOMERS) break;
    }
    await ingest;
    const killedAt = Date.now();
    try {
      await waitFor(
        "every run to complete",
        async () =>
          (await db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) ===
          CUSTOMERS,
        { progress: () => runProgress(db, journeyId) },
      );
    } catch (err) {
      // Say where things stand before failing.
      const stuck = await db.prisma.journeyRun.findFirst({
        where: { journeyId, status: { not: "COMPLETED" } },
      });
      console.log(
        JSON.stringify(
          {
            runs: await db.prisma.journeyRun.groupBy({
              by: ["status", "currentStepId"],
              where: { journeyId },
              _count: { _all: true },
            }),
            messages: await db.prisma.message.groupBy({ by: ["status"], _count: { _all: true } }),
            queues: {
              runs: await h.ctx.queues.runs.getJobCounts(),
              sends: await h.ctx.queues.sends.getJobCounts(),
              events: await h.ctx.queues.events.getJobCounts(),
              jobs: await h.ctx.queues.jobs.getJobCounts(),
            },
            stuck,
            stuckMessages: stuck
              ? await db.prisma.message.findMany({ where: { runId: stuck.id } })
              : [],
            stuckTraces: stuck
              ? await db.prisma.runTrace.findMany({
                  where: { runId: stuck.id },
                  orderBy: { id: "asc" },
                })
              : [],
            failedRunJobs: (await h.ctx.queues.runs.getFailed(0, 3)).map((j) => ({
              id: j.id,
              reason: j.failedReason,
            })),
            failedSendJobs: (await h.ctx.queues.sends.getFailed(0, 3)).map((j) => ({
              id: j.id,
              reason: j.failedReason,
            })),
            now: new Date().toISOString(),
          },
          (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
          1,
        ),
      );
      throw err;
    }
    await sleep(1000); // any straggling redelivery shows up before counting

    const runs = await db.prisma.journeyRun.count({ where: { journeyId } });
    const messages = await db.prisma.message.findMany({
      select: { idempotencyKey: true, status: true, runId: true, stepId: true },
    });
    const sentTraces = await db.prisma.runTrace.groupBy({
      by: ["runId", "stepId"],
      where: { kind: "message.sent" },
      _count: { _all: true },
    });
    const redelivered = [...sink.processed.values()].filter((n) => n > 1).length;
    console.log(
      `SIGKILL test: ${CUSTOMERS} customers, ${kills} kills over ${Math.round((killedAt - started) / 1000)} s, finished after ${Math.round((Date.now() - started) / 1000)} s; ` +
        `${messages.length} outbox rows, ${sink.deliveries.length} HTTP deliveries of ${sink.processed.size} distinct keys ` +
        `(${sink.deliveries.length - sink.processed.size} redeliveries, ${redelivered} keys answered 2xx more than once — the at-least-once window a deduplicating receiver absorbs)`,
    );
    expect(runs).toBe(CUSTOMERS); // one run per customer: no double enrolment
    expect(messages).toHaveLength(CUSTOMERS * 2); // one outbox row per (run, step)
    expect(messages.every((m) => m.status === "SENT")).toBe(true);
    // None lost: every outbox key reached the receiver. Nothing extra: the receiver saw no key
    // that isn't an outbox row.
    const keys = new Set(messages.map((m) => m.idempotencyKey));
    expect(sink.processed.size).toBe(keys.size);
    for (const k of sink.processed.keys()) expect(keys.has(k)).toBe(true);
    // Our own record: each (run, step) recorded as sent exactly once.
    expect(sentTraces).toHaveLength(CUSTOMERS * 2);
    expect(sentTraces.every((t) => t._count._all === 1)).toBe(true);
  }, 3_600_000); // waits above fail when nothing moves for 2 min, however slow the machine
});
