// Issue 13, item 9: for an entry rule "once", a later purchase sometimes enrolled instead of the
// first; and an event that made no run left nothing but a debug log. Now the earliest event by
// timestamp wins among those received when the entry is decided (an event job processes the
// customer's earlier unprocessed events of that name first), and every refused entry is recorded
// with its reason: counted on the trigger step, listed among the customer's runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolMany } from "./enrol.ts";
import { processEventJob } from "./events.ts";
import { track } from "./ingest.ts";
import { customerRuns, nodeCounts, REFUSED_ENTRY } from "./operate.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;

beforeAll(async () => {
  // No workers: each event job is run by hand, in the order the test chooses.
  h = await startEngineHarness({ workers: false });
});
afterAll(async () => {
  await h?.close();
});

const at = (s: string) => new Date(`2026-11-20T${s}Z`).toISOString();

async function skips(journeyId: string) {
  return h.db.prisma.entrySkip.findMany({
    where: { journeyId },
    orderBy: { at: "asc" },
    select: { customerId: true, triggerId: true, reason: true, detail: true },
  });
}

describe("issue 13: which event enrols, and why not", () => {
  it("'once': the earlier purchase enrols even when the later one's job runs first", async () => {
    const { journeyId } = await h.publish("once", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "end" },
    ]);
    const ann = await h.customer("ann");
    const first = await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "purchase",
      properties: { order: 1 },
      timestamp: at("10:00:00"),
    });
    const second = await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "purchase",
      properties: { order: 2 },
      timestamp: at("10:00:05"),
    });
    // The later purchase's job runs first.
    // It processes the earlier one first (which enrols), then itself (refused).
    expect(await processEventJob(h.ctx, { eventId: second.eventId })).toEqual({
      enrolled: 0,
      delivered: 0,
    });
    expect(await processEventJob(h.ctx, { eventId: first.eventId })).toEqual({
      enrolled: 0,
      delivered: 0,
    });
    const runs = await h.db.prisma.journeyRun.findMany({ where: { journeyId, customerId: ann } });
    expect(runs.map((r) => [r.entryNumber, r.triggerEventId])).toEqual([[1, first.eventId]]);
    expect((runs[0]!.trigger as { properties: unknown }).properties).toEqual({ order: 1 });
    const processed = await h.db.prisma.event.findMany({
      where: { id: { in: [first.eventId, second.eventId] } },
      select: { processedAt: true },
    });
    expect(processed.every((e) => e.processedAt !== null)).toBe(true);
    // The later one was refused, with its reason (the first run is still in flight: no workers).
    expect(await skips(journeyId)).toEqual([
      {
        customerId: ann,
        triggerId: second.eventId,
        reason: "activeRun",
        detail: "entry rule: already in this journey",
      },
    ]);
  });

  it("records refusals by filter and by entry rule, once per trigger, and shows them on the trigger step and among the customer's runs", async () => {
    const { journeyId } = await h.publish(
      "big orders",
      [
        {
          id: "t",
          type: "trigger.event",
          data: {
            event: "order",
            filters: [{ property: "total", op: "gt", value: 100 }],
          },
          next: "end",
        },
      ],
      { entry: { mode: "once" } },
    );
    const bob = await h.customer("bob");
    const small = await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "order",
      properties: { total: 5 },
      timestamp: at("11:00:00"),
    });
    const big = await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "order",
      properties: { total: 500 },
      timestamp: at("11:00:01"),
    });
    const again = await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "order",
      properties: { total: 700 },
      timestamp: at("11:00:02"),
    });
    for (const e of [small, big, again]) await processEventJob(h.ctx, { eventId: e.eventId });
    // The run ends, so the next refusal is "enters once", not "already in".
    await h.db.prisma.journeyRun.updateMany({
      where: { journeyId },
      data: { status: "COMPLETED" },
    });
    const later = await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "order",
      properties: { total: 900 },
      timestamp: at("11:00:03"),
    });
    await processEventJob(h.ctx, { eventId: later.eventId });
    await processEventJob(h.ctx, { eventId: later.eventId }); // a retried job records nothing new
    expect((await skips(journeyId)).map((s) => [s.triggerId, s.reason, s.detail])).toEqual([
      [small.eventId, "filter", "the event doesn't meet the trigger's conditions"],
      [again.eventId, "activeRun", "entry rule: already in this journey"],
      [later.eventId, "enteredBefore", "entry rule: enters once"],
    ]);

    const counts = await nodeCounts(h.ctx, h.workspaceId, journeyId);
    expect(counts.t?.refused).toEqual({ filter: 1, activeRun: 1, enteredBefore: 1 });

    const seen = await customerRuns(h.ctx, h.workspaceId, journeyId, "bob");
    expect(seen.filter((r) => r.status === REFUSED_ENTRY.status)).toHaveLength(3);
    expect(seen.filter((r) => r.status !== REFUSED_ENTRY.status)).toHaveLength(1);
    const refusal = seen.find(
      (r) => r.traces[0]?.detail && JSON.stringify(r.traces[0].detail).includes("filter"),
    );
    expect(refusal?.traces).toEqual([
      {
        at: expect.any(String) as string,
        stepId: null,
        kind: REFUSED_ENTRY.kind,
        detail: {
          reason: "filter",
          why: "the event doesn't meet the trigger's conditions",
          trigger: small.eventId,
        },
      },
    ]);
    expect(bob).toBeTruthy();
  });

  it("bulk enrolment records the customers it refuses", async () => {
    const { journeyId, versionId } = await h.publish("bulk", [
      { id: "t", type: "trigger.manual", next: "end" },
    ]);
    const cat = await h.customer("cat");
    const dan = await h.customer("dan");
    const trigger = (id: string) => ({
      eventId: `enrol-${id}`,
      name: "enrolled",
      properties: {},
      timestamp: Date.now(),
    });
    const args = { workspaceId: h.workspaceId, journeyId, versionId };
    expect(await enrolMany(h.ctx, { ...args, customerIds: [cat], trigger: trigger("a") })).toEqual({
      enrolled: 1,
      skipped: 0,
    });
    expect(
      await enrolMany(h.ctx, { ...args, customerIds: [cat, dan], trigger: trigger("b") }),
    ).toEqual({ enrolled: 1, skipped: 1 });
    expect((await skips(journeyId)).map((s) => [s.customerId, s.triggerId, s.reason])).toEqual([
      [cat, "enrol-b", "activeRun"],
    ]);
  });
});
