// Identify calls deduplicated on messageId (real Postgres and Redis, no workers so the queued
// segment checks stay countable): a replay merges no traits and queues no second segment check;
// the sweeper forgets calls older than the dedupe window, and events older than their retention.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identify, track } from "./ingest.ts";
import { IDENTIFY_DEDUPE_MS, sweep } from "./maintenance.ts";
import { ensureMonthPartitions, EVENTS, listMonthPartitions } from "./partitions.ts";
import { moveEvent, startEngineHarness, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;
/** The retention cases set a clock; the rest run on the real one. */
let clock: number | null = null;
beforeAll(async () => {
  h = await startEngineHarness({ workers: false, now: () => clock ?? Date.now() });
});
afterAll(async () => {
  await h?.close();
});

const call = (userId: string, traits: Record<string, unknown>, messageId?: string) =>
  identify(h.ctx, h.workspaceId, { userId, traits, ...(messageId ? { messageId } : {}) });

/** The segment-check jobs queued for a customer (the events queue's "customer" jobs). */
async function segmentChecks(customerId: string) {
  const jobs = await h.ctx.queues.events.getJobs([
    "waiting",
    "prioritized",
    "delayed",
    "active",
    "completed",
    "failed",
  ]);
  return jobs.filter(
    (j) => j.name === "customer" && "customerId" in j.data && j.data.customerId === customerId,
  );
}

async function customer(id: string) {
  return h.db.prisma.customer.findUniqueOrThrow({ where: { id } });
}

/** A customer's id by external id (events have no relation to their customer: no foreign key). */
async function customerIdOf(externalId: string): Promise<string> {
  const c = await h.db.prisma.customer.findUniqueOrThrow({
    where: { workspaceId_externalId: { workspaceId: h.workspaceId, externalId } },
    select: { id: true },
  });
  return c.id;
}

describe("identify deduplication", () => {
  it("a replayed messageId is a duplicate: no second merge, no second segment check", async () => {
    const first = await call("ann", { plan: "pro", email: "ann@example.com" }, "msg-1");
    expect(first.duplicate).toBe(false);
    const later = await call("ann", { plan: "free" }, "msg-2");
    expect(later).toEqual({ customerId: first.customerId, duplicate: false });
    const before = await customer(first.customerId);

    // msg-1 again, arriving late: its traits must not overwrite what msg-2 set.
    const replay = await call("ann", { plan: "pro", email: "ann@example.com" }, "msg-1");
    expect(replay).toEqual({ customerId: first.customerId, duplicate: true });
    const after = await customer(first.customerId);
    expect(after.attributes).toMatchObject({ plan: "free" });
    expect(after.updatedAt).toEqual(before.updatedAt);
    expect(await segmentChecks(first.customerId)).toHaveLength(2);

    // The same traits under a new messageId are a new call: merged and checked.
    const fresh = await call("ann", { plan: "pro", email: "ann@example.com" }, "msg-3");
    expect(fresh).toEqual({ customerId: first.customerId, duplicate: false });
    expect((await customer(first.customerId)).attributes).toMatchObject({ plan: "pro" });
    expect(await segmentChecks(first.customerId)).toHaveLength(3);
    expect(
      await h.db.prisma.identifyCall.count({
        where: { workspaceId: h.workspaceId, externalId: "ann" },
      }),
    ).toBe(3);
  });

  it("the same call sent concurrently is processed once", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => call("bob", { visits: 1 }, "msg-bob")),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const customerId = results[0]!.customerId;
    expect(results.every((r) => r.customerId === customerId)).toBe(true);
    expect(await segmentChecks(customerId)).toHaveLength(1);
  });

  it("a replay queues the segment check the first call never got into Redis, once", async () => {
    const first = await call("cyd", { plan: "pro" }, "msg-cyd");
    // What a crash (or Redis failure) between the commit and the queueing leaves behind.
    for (const job of await segmentChecks(first.customerId)) await job.remove();
    await h.db.prisma.identifyCall.updateMany({
      where: { workspaceId: h.workspaceId, messageId: "msg-cyd" },
      data: { enqueuedAt: null },
    });

    expect(await call("cyd", { plan: "pro" }, "msg-cyd")).toEqual({
      customerId: first.customerId,
      duplicate: true,
    });
    expect(await segmentChecks(first.customerId)).toHaveLength(1);
    expect((await call("cyd", { plan: "pro" }, "msg-cyd")).duplicate).toBe(true);
    expect(await segmentChecks(first.customerId)).toHaveLength(1);
  });

  it("calls without a messageId are each processed", async () => {
    const a = await call("dee", { plan: "pro" });
    const b = await call("dee", { plan: "pro" });
    expect([a.duplicate, b.duplicate]).toEqual([false, false]);
    expect(await segmentChecks(a.customerId)).toHaveLength(2);
  });

  it("the sweeper forgets calls older than the dedupe window; a replay after that is a new call", async () => {
    const old = await call("flo", { plan: "pro" }, "msg-flo-old");
    await call("flo", { plan: "pro" }, "msg-flo-new");
    await h.db.prisma.identifyCall.updateMany({
      where: { workspaceId: h.workspaceId, messageId: "msg-flo-old" },
      data: { receivedAt: new Date(Date.now() - IDENTIFY_DEDUPE_MS - 60_000) },
    });
    expect((await sweep(h.ctx)).identifyCalls).toBe(1);
    const left = await h.db.prisma.identifyCall.findMany({
      where: { workspaceId: h.workspaceId, externalId: "flo" },
      select: { messageId: true },
    });
    expect(left).toEqual([{ messageId: "msg-flo-new" }]);
    expect(await call("flo", { plan: "pro" }, "msg-flo-new")).toEqual({
      customerId: old.customerId,
      duplicate: true,
    });
    expect(await call("flo", { plan: "pro" }, "msg-flo-old")).toEqual({
      customerId: old.customerId,
      duplicate: false,
    });
  });
});

/**
 * issue 15: events are partitioned by month of receivedAt, and retention drops whole months. The
 * events below are moved (with their de-duplication keys) into months of a year the test clock
 * stands in, whose partitions are created first (a fresh database's legacy partition holds
 * everything up to next month, so no month of it can expire under the real clock).
 */
const receivedAt = (eventId: string, iso: string, processed = true) =>
  moveEvent(h.db, eventId, iso, processed);

async function months(...isoDays: string[]): Promise<void> {
  for (const d of isoDays) await ensureMonthPartitions(h.ctx, EVENTS, Date.parse(d));
}

describe("event retention", () => {
  afterAll(() => {
    clock = null;
  });
  it("the sweeper drops the months of events wholly past the retention and keeps the rest; 0 keeps all", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push(
        (
          await track(h.ctx, h.workspaceId, {
            userId: "gus",
            event: "purchase",
            messageId: `p${i}`,
          })
        ).eventId,
      );
    await months("2031-01-15", "2031-04-15", "2031-06-15"); // January to August
    // Processed (an unprocessed event keeps its month: issue-013-event-outage.test.ts).
    const received = [
      "2031-01-10",
      "2031-02-20",
      "2031-03-10",
      "2031-03-20",
      "2031-05-20",
      "2031-06-14",
    ];
    for (const [i, id] of ids.entries()) await receivedAt(id, `${received[i]!}T12:00:00Z`);
    const left = async () =>
      (
        await h.db.prisma.event.findMany({
          where: { workspaceId: h.workspaceId, customerId: await customerIdOf("gus") },
          select: { messageId: true },
          orderBy: { messageId: "asc" },
        })
      ).map((e) => e.messageId);
    const parts = async () => (await listMonthPartitions(h.ctx, EVENTS)).map((p) => p.name);

    clock = Date.parse("2031-06-15T00:00:00Z");
    expect((await sweep(h.ctx, undefined, 0)).eventPartitionsDropped).toBe(0);
    expect(await left()).toEqual(["p0", "p1", "p2", "p3", "p4", "p5"]);
    // The default, 90 days: everything before 17 March may go; January and February end before
    // that and are dropped whole, March (10 and 20 March) ends after it and is kept.
    const res = await sweep(h.ctx);
    expect(res.events).toBe(0); // nothing deleted row by row
    expect(await parts()).not.toEqual(expect.arrayContaining(["Event_y2031m01"]));
    expect(await parts()).not.toEqual(expect.arrayContaining(["Event_y2031m02"]));
    expect(await parts()).toEqual(expect.arrayContaining(["Event_y2031m03", "Event_y2031m06"]));
    expect(await left()).toEqual(["p2", "p3", "p4", "p5"]);
    // Their keys went with them: a replay of p0 is a new event; p2's is still a duplicate.
    expect(
      (await track(h.ctx, h.workspaceId, { userId: "gus", event: "purchase", messageId: "p2" }))
        .duplicate,
    ).toBe(true);
    const again = await track(h.ctx, h.workspaceId, {
      userId: "gus",
      event: "purchase",
      messageId: "p0",
    });
    expect(again.duplicate).toBe(false);
    await receivedAt(again.eventId, "2031-06-14T13:00:00Z");
    // 30 days: before 16 May; March and April go.
    expect((await sweep(h.ctx, undefined, 30)).eventPartitionsDropped).toBe(2);
    expect(await left()).toEqual(["p0", "p4", "p5"]);
  });
  it("keeps an event a saved segment reads over a longer window, for that window (issue 16)", async () => {
    // "Spent 500 on orders in the last 365 days" reads `order_paid` for a year; nothing reads
    // `page_seen` beyond the retention.
    await h.db.prisma.segment.create({
      data: {
        workspaceId: h.workspaceId,
        name: "Big spenders this year",
        definition: {
          match: "all",
          rules: [
            {
              kind: "event",
              event: "order_paid",
              measure: "sum",
              property: "revenue",
              op: "gte",
              value: 500,
              withinDays: 365,
            },
          ],
        },
      },
    });
    // On 15 December 2033: 400, 200, 200 and 10 days before.
    await months("2032-11-15", "2033-05-15", "2033-12-15");
    const received: [string, string, string][] = [
      ["order_paid", "k-200", "2033-05-29"],
      ["order_paid", "k-400", "2032-11-10"],
      ["page_seen", "k-view-200", "2033-05-29"],
      ["order_paid", "k-10", "2033-12-05"],
    ];
    for (const [event, messageId, at] of received) {
      const { eventId } = await track(h.ctx, h.workspaceId, { userId: "kim", event, messageId });
      await receivedAt(eventId, `${at}T12:00:00Z`);
    }
    clock = Date.parse("2033-12-15T00:00:00Z");
    // November 2032 is past the window too: dropped whole. May 2033 holds an order the window
    // reads: kept, and only its page view deleted (with its key).
    const res = await sweep(h.ctx); // 90 days
    expect(res.events).toBe(1);
    const left = await h.db.prisma.event.findMany({
      where: { workspaceId: h.workspaceId, customerId: await customerIdOf("kim") },
      select: { messageId: true },
      orderBy: { messageId: "asc" },
    });
    expect(left.map((e) => e.messageId)).toEqual(["k-10", "k-200"]);
    const keys = await h.db.prisma.eventKey.findMany({
      where: { workspaceId: h.workspaceId, messageId: { startsWith: "k-" } },
      select: { messageId: true },
      orderBy: { messageId: "asc" },
    });
    expect(keys.map((k) => k.messageId)).toEqual(["k-10", "k-200"]);
    const names = (await listMonthPartitions(h.ctx, EVENTS)).map((p) => p.name);
    expect(names).not.toContain("Event_y2032m11");
    expect(names).toContain("Event_y2033m05");
  });
});
