// Issue 13, item 8: a correlated event sent right after the purchase that triggers the journey was
// sometimes processed before the run existed (or before it parked); the run then parked and timed
// out although the event had arrived. A run that parks looks back for matching events received
// since its trigger, so the order in which the two jobs run does not matter. Each ordering is
// forced here by driving the jobs by hand (no workers), then workers drain what was queued.
import { createProvider } from "@postpath/channels";
import type { StepSpec } from "@postpath/journey";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { processEventJob } from "./events.ts";
import { track } from "./ingest.ts";
import { processRunJob } from "./runner.ts";
import { startSink, type Sink } from "./testing/sink.ts";
import { startEngineHarness, type EngineHarness, waitFor } from "./testing/harness.ts";

let sink: Sink;
let h: EngineHarness | undefined;

beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink?.close();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  sink.deliveries.length = 0;
});

const hook = (id: string): StepSpec => ({
  id,
  type: "action.webhook",
  data: {
    url: `${sink.url}/${id}`,
    body:
      id === "arrived" ? `{"step":"${id}","serial":"{{ registered.serial }}"}` : `{"step":"${id}"}`,
  },
  next: "end",
});

async function setUp(): Promise<{ h: EngineHarness; journeyId: string; customerId: string }> {
  const harness = await startEngineHarness({
    providers: { webhook: createProvider("webhook", { secret: "s", timeoutMs: 2000 }) },
    workers: false,
  });
  h = harness;
  const { journeyId } = await harness.publish("registration", [
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
    {
      id: "w",
      type: "wait.event",
      data: {
        event: "registered",
        // Short: without the look-back the run times out and "late" is delivered instead.
        timeout: { amount: 4, unit: "seconds" },
        correlate: { property: "serial", triggerProperty: "serial" },
      },
      next: { arrived: "arrived", timedOut: "late" },
    },
    hook("arrived"),
    hook("late"),
  ]);
  return { h: harness, journeyId, customerId: await harness.customer("ann") };
}

const purchase = (x: EngineHarness) =>
  track(x.ctx, x.workspaceId, {
    userId: "ann",
    event: "purchase",
    properties: { serial: "S1" },
    timestamp: new Date(Date.now() - 1000).toISOString(),
  });
const registered = (x: EngineHarness) =>
  track(x.ctx, x.workspaceId, {
    userId: "ann",
    event: "registered",
    properties: { serial: "S1" },
  });

async function theRun(x: EngineHarness, journeyId: string, customerId: string) {
  const r = await x.db.prisma.journeyRun.findFirst({ where: { journeyId, customerId } });
  if (!r) throw new Error("no run");
  return r;
}
/**
 * Runs a job by hand and takes its queued copy out of Redis, as if a worker had run it then: what
 * the workers find afterwards is only what these jobs queued.
 */
async function entered(x: EngineHarness, runId: string) {
  const out = await processRunJob(x.ctx, { runId, seq: 0, input: { kind: "entered" } });
  await (await x.ctx.queues.runs.getJob(`${runId}-0-entered`))?.remove();
  return out;
}
/** The job an event job queued for a run at seq 0 (before it entered): a no-op there. */
async function eventAtSeq0(x: EngineHarness, runId: string, eventId: string) {
  const out = await processRunJob(x.ctx, { runId, seq: 0, input: { kind: "event", eventId } });
  await (await x.ctx.queues.runs.getJob(`${runId}-0-event-${eventId}`))?.remove();
  return out;
}
async function processEvent(x: EngineHarness, eventId: string) {
  const out = await processEventJob(x.ctx, { eventId });
  await (await x.ctx.queues.events.getJob(`ev-${eventId}`))?.remove();
  return out;
}

/** Workers take what was queued; the run must take the arrived branch, once. */
async function drainAndCheck(x: EngineHarness, journeyId: string, customerId: string) {
  x.startWorkers();
  const r = await waitFor(
    "the run to end",
    async () => {
      const run = await theRun(x, journeyId, customerId);
      return run.status === "COMPLETED" ? run : null;
    },
    {
      progress: async () => {
        const run = await theRun(x, journeyId, customerId);
        return [run.seq, run.status, sink.deliveries.length];
      },
    },
  );
  const steps = sink.deliveries.map((d) => JSON.parse(d.body) as { step: string; serial: string });
  expect(steps).toEqual([{ step: "arrived", serial: "S1" }]);
  const kinds = (
    await x.db.prisma.runTrace.findMany({ where: { runId: r.id }, orderBy: { id: "asc" } })
  )
    .map((t) => t.kind)
    .filter((k) => k.startsWith("event."));
  expect(kinds).toEqual(["event.parked", "event.arrived"]);
}

describe("issue 13: the event a run waits for is taken whatever order the jobs run in", () => {
  it("before the run exists: the registered event's job runs before the purchase's", async () => {
    const { h: x, journeyId, customerId } = await setUp();
    const p = await purchase(x);
    const e = await registered(x);
    expect(await processEvent(x, e.eventId)).toEqual({
      enrolled: 0,
      delivered: 0,
    });
    expect((await processEvent(x, p.eventId)).enrolled).toBe(1);
    const run = await theRun(x, journeyId, customerId);
    expect(await entered(x, run.id)).toBe("applied"); // parks, and looks back
    await drainAndCheck(x, journeyId, customerId);
  });

  it("before the park: the event reaches the run while it has not started, and is a no-op there", async () => {
    const { h: x, journeyId, customerId } = await setUp();
    const p = await purchase(x);
    await processEvent(x, p.eventId);
    const run = await theRun(x, journeyId, customerId);
    const e = await registered(x);
    expect((await processEvent(x, e.eventId)).delivered).toBe(1);
    // The job it queued for seq 0 runs first: the run has not entered, nothing happens.
    expect(await eventAtSeq0(x, run.id, e.eventId)).toBe("unchanged");
    expect(await entered(x, run.id)).toBe("applied");
    await drainAndCheck(x, journeyId, customerId);
  });

  it("during the park: the event is stored and its job reads the runs just before the park commits", async () => {
    const { h: x, journeyId, customerId } = await setUp();
    const p = await purchase(x);
    await processEvent(x, p.eventId);
    const run = await theRun(x, journeyId, customerId);
    // Hold the park's commit statement until the event has been stored and its job has seen the
    // run at seq 0 (and queued the event for that seq, where it means nothing).
    const query = x.ctx.db.query.bind(x.ctx.db);
    let injected = false;
    x.ctx.db.query = async (sql: string, params?: unknown[], opts?: { prepare?: string }) => {
      if (!injected && opts?.prepare === "engine.commitRunsJson") {
        injected = true;
        const e = await registered(x);
        expect((await processEvent(x, e.eventId)).delivered).toBe(1);
        expect(await eventAtSeq0(x, run.id, e.eventId)).toBe("unchanged");
      }
      return query(sql, params, opts);
    };
    expect(await entered(x, run.id)).toBe("applied");
    expect(injected).toBe(true);
    x.ctx.db.query = query;
    await drainAndCheck(x, journeyId, customerId);
  });

  it("right after the park commits, before its look-back: both deliver, the run takes it once", async () => {
    const { h: x, journeyId, customerId } = await setUp();
    const p = await purchase(x);
    await processEvent(x, p.eventId);
    const run = await theRun(x, journeyId, customerId);
    const query = x.ctx.db.query.bind(x.ctx.db);
    let injected = false;
    x.ctx.db.query = (async (sql: string, params?: unknown[], opts?: { prepare?: string }) => {
      const res = await query(sql, params, opts);
      if (!injected && opts?.prepare === "engine.commitRunsJson") {
        injected = true;
        const e = await registered(x);
        // The event job sees the parked run (seq 1) and delivers it there itself.
        expect((await processEvent(x, e.eventId)).delivered).toBe(1);
      }
      return res;
    }) as typeof x.ctx.db.query;
    expect(await entered(x, run.id)).toBe("applied");
    expect(injected).toBe(true);
    x.ctx.db.query = query;
    await drainAndCheck(x, journeyId, customerId);
  });

  it("after the park: the ordinary path", async () => {
    const { h: x, journeyId, customerId } = await setUp();
    const p = await purchase(x);
    await processEvent(x, p.eventId);
    const run = await theRun(x, journeyId, customerId);
    expect(await entered(x, run.id)).toBe("applied");
    const e = await registered(x);
    expect((await processEvent(x, e.eventId)).delivered).toBe(1);
    await drainAndCheck(x, journeyId, customerId);
  });

  it("a run that parks again on the same event does not take the one it already consumed", async () => {
    const { h: x, journeyId, customerId } = await setUp();
    // Re-publish: two waits for the same event in a row.
    await x.db.prisma.journeyVersion.updateMany({
      where: { journeyId },
      data: { status: "SUPERSEDED" },
    });
    const { journeyId: j2 } = await x.publish("twice", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w1" },
      {
        id: "w1",
        type: "wait.event",
        data: { event: "registered", timeout: { amount: 1, unit: "hours" } },
        next: { arrived: "w2", timedOut: "end" },
      },
      {
        id: "w2",
        type: "wait.event",
        data: { event: "registered", timeout: { amount: 3, unit: "seconds" } },
        next: { arrived: "arrived", timedOut: "late" },
      },
      hook("arrived"),
      hook("late"),
    ]);
    const e = await registered(x); // before the purchase's job, after its timestamp
    const p = await purchase(x);
    await processEvent(x, e.eventId);
    await processEvent(x, p.eventId);
    x.startWorkers();
    const r = await waitFor(
      "the run to end",
      async () => {
        const run = await x.db.prisma.journeyRun.findFirst({
          where: { journeyId: j2, customerId },
        });
        return run?.status === "COMPLETED" ? run : null;
      },
      { progress: () => Promise.resolve(sink.deliveries.length) },
    );
    const steps = sink.deliveries.map((d) => (JSON.parse(d.body) as { step: string }).step);
    expect(steps).toEqual(["late"]); // w1 took it (by look-back); w2 did not take it again
    expect((r.state as { consumed?: string[] }).consumed).toEqual([e.eventId]);
  });
});
