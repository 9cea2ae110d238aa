// Issue 18, item 3: the move under SIGKILL. Worker processes (the same startWorkers() as
// apps/worker) move 1,500 customers from a deleted step to a webhook step of the new version and
// are SIGKILLed, all of them, each time the move has made progress — so the migration job dies
// mid-page and is taken over by a fresh process. No run may be lost or moved twice, and each moved
// customer's message is stored once (one outbox row per run) and recorded as sent once; the
// analytics counters and rollups move with each run exactly once (they agree with a recount).
import type { Prisma } from "@postpath/db";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import type { StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { enqueueMigration, type StoredChoices } from "./move.ts";
import {
  runProgress,
  sleep,
  startEngineHarness,
  waitFor,
  type EngineHarness,
  ofJourney,
} from "./testing/harness.ts";
import { recountFigures, rollupFigures } from "./testing/recount.ts";
import { workerFleet, type WorkerFleet } from "./testing/worker-fleet.ts";
import { startSink, type Sink } from "./testing/sink.ts";

const CUSTOMERS = 1500;
const WORKERS = 2;
/** Kill every worker when the move has reached these fractions of the customers. */
const KILL_AT = [0.1, 0.3, 0.5, 0.7, 0.9];

describe("issue 18: the move under SIGKILL", () => {
  let db: TestDatabase;
  let sink: Sink;
  let h: EngineHarness;
  let workers: WorkerFleet;

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await startSink();
    h = await startEngineHarness({ db, workers: false });
    workers = workerFleet({ databaseUrl: db.url, prefix: h.prefix });
  });
  afterAll(async () => {
    workers?.killAll();
    await h?.close();
    await sink?.close();
    await db?.drop();
  });

  it("no run lost or moved twice; each message stored and sent once", async () => {
    const v1: StepSpec[] = [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "reminder" },
      { id: "reminder", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "end" },
      { id: "end", type: "flow.exit" },
    ];
    const { journeyId, versionId: first } = await h.publish("move crash", v1);
    for (let i = 0; i < WORKERS; i++) workers.spawn();
    for (let i = 0; i < CUSTOMERS; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          track(h.ctx, h.workspaceId, { userId: `c${i + k}`, event: "purchase" }),
        ),
      );
    await waitFor(
      "every customer waiting at the reminder",
      async () =>
        (await db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) ===
        CUSTOMERS,
      { progress: () => runProgress(db, journeyId) },
    );
    const { versionId: second } = await h.publish(
      "move crash",
      [
        { ...v1[0]!, next: "ping" },
        {
          id: "ping",
          type: "action.webhook",
          data: { url: `${sink.url}/ping`, body: '{"c":"{{ customer.externalId }}"}' },
          next: "end",
        },
        { id: "end", type: "flow.exit" },
      ],
      {},
      journeyId,
    );
    const choices: StoredChoices = {
      mode: "move",
      deletedSteps: { reminder: "ping" },
      changedWaits: "keepDueTime",
      labels: { ping: "SMS reminder" },
    };
    const m = await db.prisma.journeyMigration.create({
      data: {
        workspaceId: h.workspaceId,
        journeyId,
        fromVersionIds: [first],
        toVersionId: second,
        choices: choices as unknown as Prisma.InputJsonValue,
        total: CUSTOMERS,
      },
    });
    await enqueueMigration(h.ctx, m.id, 0);

    let midMoveKills = 0;
    for (const fraction of KILL_AT) {
      const at = await waitFor(
        `the move to pass ${fraction * 100} %`,
        async () => {
          const r = await db.prisma.journeyMigration.findUniqueOrThrow({ where: { id: m.id } });
          return r.moved + r.exited >= fraction * CUSTOMERS || r.status !== "RUNNING" ? r : null;
        },
        { progress: () => runProgress(db, journeyId) },
      );
      if (at.status !== "RUNNING") break;
      workers.killAll();
      const r = await db.prisma.journeyMigration.findUniqueOrThrow({ where: { id: m.id } });
      if (r.status === "RUNNING" && r.moved < CUSTOMERS) midMoveKills++;
      for (let i = 0; i < WORKERS; i++) workers.spawn();
      await sleep(50);
    }
    const done = await waitFor(
      "the migration to finish",
      async () => {
        const r = await db.prisma.journeyMigration.findUniqueOrThrow({ where: { id: m.id } });
        return r.status === "DONE" ? r : null;
      },
      { progress: () => runProgress(db, journeyId) },
    );
    await waitFor(
      "every moved customer's message to be sent and their run to end",
      async () =>
        (await db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) ===
        CUSTOMERS,
      { progress: () => runProgress(db, journeyId) },
    );
    await sleep(1000); // a straggling redelivery shows up before counting

    const runs = await db.prisma.journeyRun.findMany({ where: { journeyId } });
    const moved = await db.prisma.runTrace.groupBy({
      by: ["runId"],
      where: { kind: "run.moved" },
      _count: { _all: true },
    });
    const messages = await db.prisma.message.findMany({
      where: { ...(await ofJourney(db, journeyId)) },
      select: { idempotencyKey: true, status: true, runId: true },
    });
    const sent = await db.prisma.runTrace.groupBy({
      by: ["runId"],
      where: { kind: "message.sent", stepId: "ping" },
      _count: { _all: true },
    });
    const redelivered = [...sink.processed.values()].filter((n) => n > 1).length;
    console.log(
      `move under SIGKILL: ${CUSTOMERS} customers, ${midMoveKills} kills of every worker mid-move; ` +
        `${done.moved} moved; ${messages.length} outbox rows, ${sink.deliveries.length} HTTP deliveries of ` +
        `${sink.processed.size} distinct keys (${redelivered} keys delivered more than once)`,
    );
    expect(midMoveKills).toBeGreaterThan(0); // the test did interrupt the move
    expect(done).toMatchObject({ moved: CUSTOMERS, exited: 0, kept: 0 });
    expect(runs).toHaveLength(CUSTOMERS);
    expect(runs.every((r) => r.versionId === second)).toBe(true);
    // Each run moved exactly once.
    expect(moved).toHaveLength(CUSTOMERS);
    expect(moved.every((t) => t._count._all === 1)).toBe(true);
    // One outbox row per run, each recorded as sent once, each key at the receiver.
    expect(messages).toHaveLength(CUSTOMERS);
    expect(new Set(messages.map((x) => x.runId)).size).toBe(CUSTOMERS);
    expect(messages.every((x) => x.status === "SENT")).toBe(true);
    expect(sent).toHaveLength(CUSTOMERS);
    expect(sent.every((t) => t._count._all === 1)).toBe(true);
    expect(sink.processed.size).toBe(CUSTOMERS);
    const keys = new Set(messages.map((x) => x.idempotencyKey));
    for (const k of sink.processed.keys()) expect(keys.has(k)).toBe(true);
    // Analytics per version add up: all moved out of version 1's reminder (not completed there)
    // and moved in at version 2's ping (not entered there), each exactly once although workers
    // died mid-move: the counters and rollups move in the run's own transaction.
    const c1 = await db.prisma.stepCounter.aggregate({
      where: { versionId: first, stepId: "reminder" },
      _sum: { entered: true, completed: true, movedIn: true, movedOut: true },
    });
    expect(c1._sum).toEqual({ entered: CUSTOMERS, completed: 0, movedIn: 0, movedOut: CUSTOMERS });
    const c2 = await db.prisma.stepCounter.aggregate({
      where: { versionId: second, stepId: "ping" },
      _sum: { entered: true, completed: true, movedIn: true, movedOut: true },
    });
    expect(c2._sum).toEqual({ entered: 0, completed: CUSTOMERS, movedIn: CUSTOMERS, movedOut: 0 });
    // The rollups (per version, step, A/B variant, day) agree with a recount from the raw rows.
    const rolled = await rollupFigures(db, journeyId);
    expect(rolled.get(`${second} ping `)).toMatchObject({ movedIn: CUSTOMERS, sent: CUSTOMERS });
    expect(rolled.get(`${first} reminder `)).toMatchObject({
      entered: CUSTOMERS,
      movedOut: CUSTOMERS,
    });
    expect(rolled).toEqual(await recountFigures(h.ctx, journeyId));
  }, 3_600_000);
});
