// Issue 13, item 7: a messageId replayed after BullMQ has dropped the finished event job (an hour,
// or 10,000 newer events) is answered duplicate: true and acts on nothing — whether an event was
// processed is decided in Postgres (Event.processedAt, the run's consumed event ids), never by the
// queue's retention. The customer parked at a second wait-for-event must not take it.
import { createProvider } from "@postpath/channels";
import type { StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processEventJob } from "./events.ts";
import { track } from "./ingest.ts";
import { startSink, type Sink } from "./testing/sink.ts";
import { startEngineHarness, type EngineHarness, waitFor } from "./testing/harness.ts";

let sink: Sink;
let h: EngineHarness;

beforeAll(async () => {
  sink = await startSink();
  h = await startEngineHarness({
    providers: { webhook: createProvider("webhook", { secret: "s", timeoutMs: 2000 }) },
  });
});
afterAll(async () => {
  await h?.close();
  await sink?.close();
});

const hook = (id: string, next: StepSpec["next"] = "end"): StepSpec => ({
  id,
  type: "action.webhook",
  data: { url: `${sink.url}/${id}`, body: `{"step":"${id}"}` },
  next,
});

describe("issue 13: a replayed event never acts twice", () => {
  it("a replay after the event job is gone from Redis is a duplicate, queues nothing, and the second wait does not take it", async () => {
    const { journeyId } = await h.publish("two waits", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w1" },
      {
        id: "w1",
        type: "wait.event",
        data: { event: "registered", timeout: { amount: 1, unit: "hours" } },
        next: { arrived: "first", timedOut: "end" },
      },
      hook("first", "w2"),
      {
        id: "w2",
        type: "wait.event",
        data: { event: "registered", timeout: { amount: 3, unit: "seconds" } },
        next: { arrived: "second", timedOut: "late" },
      },
      hook("second"),
      hook("late"),
    ]);
    const ann = await h.customer("ann");
    const run = () => h.db.prisma.journeyRun.findFirst({ where: { journeyId, customerId: ann } });
    const progress = async () => {
      const r = await run();
      return [r?.seq, r?.status, sink.deliveries.length];
    };
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase", messageId: "buy-1" });
    await waitFor(
      "ann parked at the first wait",
      async () => (await run())?.currentStepId === "w1" && (await run())?.status === "WAITING",
      { progress: progress },
    );

    const first = await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "registered",
      messageId: "reg-1",
    });
    expect(first.duplicate).toBe(false);
    await waitFor(
      "ann parked at the second wait",
      async () => {
        const r = await run();
        return r?.currentStepId === "w2" && r.status === "WAITING";
      },
      { progress: progress },
    );
    const jobId = `ev-${first.eventId}`;
    // The event was processed: Postgres says so.
    await waitFor(
      "the event marked processed",
      async () =>
        (await h.db.prisma.event.findUnique({ where: { id: first.eventId } }))?.processedAt,
      { progress: progress },
    );
    // BullMQ drops finished jobs after an hour (or 10,000 newer ones): remove it now.
    const job = await h.ctx.queues.events.getJob(jobId);
    await job?.remove();
    expect(await h.ctx.queues.events.getJob(jobId)).toBeUndefined();

    const replay = await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "registered",
      messageId: "reg-1",
    });
    expect(replay).toEqual({ eventId: first.eventId, duplicate: true });
    expect(await h.ctx.queues.events.getJob(jobId)).toBeUndefined(); // nothing re-queued

    // Even if the event is handed to the engine again (a retried job, a job re-created by
    // hand), the run does not act on an event it has consumed.
    await processEventJob(h.ctx, { eventId: first.eventId });

    const ended = await waitFor(
      "ann's run to end",
      async () => {
        const r = await run();
        return r && r.status === "COMPLETED" ? r : null;
      },
      { progress: progress },
    );
    const steps = sink.deliveries.map((d) => (JSON.parse(d.body) as { step: string }).step);
    expect(steps).toEqual(["first", "late"]); // the second wait timed out: no second action
    const state = ended.state as { consumed?: string[] };
    expect(state.consumed).toEqual([first.eventId]);
    const events = await h.db.prisma.runTrace.findMany({
      where: { runId: ended.id, kind: { startsWith: "event." } },
      orderBy: { id: "asc" },
      select: { stepId: true, kind: true },
    });
    expect(events).toEqual([
      { stepId: "w1", kind: "event.parked" },
      { stepId: "w1", kind: "event.arrived" },
      { stepId: "w2", kind: "event.parked" },
      { stepId: "w2", kind: "event.timedOut" },
    ]);
  });

  it("a replay while the event is not yet processed queues it again under the same job id", async () => {
    const { eventId } = await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "browse",
      messageId: "b-1",
    });
    await waitFor(
      "bob's event processed",
      async () => (await h.db.prisma.event.findUnique({ where: { id: eventId } }))?.processedAt,
    );
    // As if its job had been lost before it ran (Redis died before its AOF was written).
    await h.db.prisma.event.update({ where: { id: eventId }, data: { processedAt: null } });
    await (await h.ctx.queues.events.getJob(`ev-${eventId}`))?.remove();
    const replay = await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "browse",
      messageId: "b-1",
    });
    expect(replay).toEqual({ eventId, duplicate: true });
    await waitFor(
      "the replayed event processed",
      async () => (await h.db.prisma.event.findUnique({ where: { id: eventId } }))?.processedAt,
    );
  });
});
