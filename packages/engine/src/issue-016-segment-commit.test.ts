// Issue 16, item 2: a batch of events commits once. The incremental membership refresh runs in
// the statement that marks the batch's events processed, so the membership changes and
// `processedAt` commit together: when marking the events fails (here a trigger refuses the
// update, standing in for a crash at that moment), no membership has changed either, and the
// retry makes the change, with its entry time, and starts the journey on that edge once. A batch
// over two workspaces runs its statements in one transaction. Real Postgres and Redis.
import { afterEach, describe, expect, it } from "vitest";
import { processEventBatch } from "./events.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { buyersWithEntryJourney, insertEvents, refuse } from "./testing/segment-crash.ts";

/** Marking a batch's events processed fails, as a crash at that moment would end it. */
const refuseMarking = (harness: EngineHarness) =>
  refuse(
    harness,
    "refuse_processed",
    `UPDATE OF "processedAt" ON "Event"`,
    "refused: the batch is not marked processed",
  );

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const processedOf = async (harness: EngineHarness, ids: string[]) =>
  (
    await harness.db.query<{ id: string }>(
      `SELECT id FROM "Event" WHERE id = ANY($1::text[]) AND "processedAt" IS NOT NULL ORDER BY id`,
      [ids],
    )
  ).map((r) => r.id);

describe("a batch's membership changes commit with its events' processedAt", () => {
  it("changes no membership when marking the events fails, and the retry enters once", async () => {
    let clock = Date.now();
    h = await startEngineHarness({ now: () => clock, workers: false });
    const harness = h;
    const ws = harness.workspaceId;
    const { segmentId, journeyId } = await buyersWithEntryJourney(harness);
    const seg = { id: segmentId };
    const onEnter = { journeyId: journeyId! };
    const ann = await harness.customer("ann");
    const bob = await harness.customer("bob");
    await insertEvents(harness, [
      { id: "e-1", workspaceId: ws, customerId: ann, name: "purchase", at: clock },
      { id: "e-2", workspaceId: ws, customerId: bob, name: "page_view", at: clock },
    ]);

    // Marking the events processed fails (as a crash at that moment would end it).
    const allow = await refuseMarking(harness);
    await expect(processEventBatch(harness.ctx, ["e-1", "e-2"])).rejects.toThrow(/refused/);
    expect(await processedOf(harness, ["e-1", "e-2"])).toEqual([]);
    // Nothing of the batch's refresh was kept: ann is not a member yet, no journey started.
    expect(await harness.db.prisma.segmentMembership.count({ where: { segmentId: seg.id } })).toBe(
      0,
    );
    expect(
      await harness.db.prisma.journeyRun.count({ where: { journeyId: onEnter.journeyId } }),
    ).toBe(0);

    // The retry (a minute later) makes the change and starts the journey on that edge.
    await allow();
    clock += 60_000;
    await processEventBatch(harness.ctx, ["e-1", "e-2"]);
    expect(await processedOf(harness, ["e-1", "e-2"])).toEqual(["e-1", "e-2"]);
    const members = await harness.db.prisma.segmentMembership.findMany({
      where: { segmentId: seg.id },
      select: { customerId: true, since: true },
    });
    expect(members.map((m) => [m.customerId, m.since.getTime()])).toEqual([[ann, clock]]);
    const runs = await waitFor("the entry journey started for ann", async () => {
      const r = await harness.db.prisma.journeyRun.findMany({
        where: { journeyId: onEnter.journeyId },
        select: { customerId: true, triggerEventId: true },
      });
      return r.length > 0 ? r : null;
    });
    expect(runs).toEqual([
      { customerId: ann, triggerEventId: `segment-${seg.id}-entered-${clock}` },
    ]);

    // Processing the batch again changes nothing and starts nothing.
    await processEventBatch(harness.ctx, ["e-1", "e-2"]);
    expect(await harness.db.prisma.segmentMembership.count({ where: { segmentId: seg.id } })).toBe(
      1,
    );
    expect(
      await harness.db.prisma.journeyRun.count({ where: { journeyId: onEnter.journeyId } }),
    ).toBe(1);
  });

  it("refreshes two workspaces' segments in one batch, all or nothing", async () => {
    const clock = Date.now();
    h = await startEngineHarness({ now: () => clock, workers: false });
    const harness = h;
    const ws1 = harness.workspaceId;
    const ws2 = (
      await harness.db.prisma.workspace.create({
        data: { name: "Second", slug: `second-${clock}` },
        select: { id: true },
      })
    ).id;
    const first = await buyersWithEntryJourney(harness);
    const second = await buyersWithEntryJourney(harness, ws2);
    const segs = [first.segmentId, second.segmentId];
    const onEnter = { journeyId: first.journeyId! };
    const ann = await harness.customer("ann");
    const cid = (
      await harness.db.prisma.customer.create({
        data: { workspaceId: ws2, externalId: "cid" },
        select: { id: true },
      })
    ).id;
    const events = [
      { id: "e-1", workspaceId: ws1, customerId: ann, name: "purchase", at: clock },
      { id: "e-2", workspaceId: ws2, customerId: cid, name: "purchase", at: clock },
    ];
    await insertEvents(harness, events);

    // Marking fails in the second workspace's statement: the first one's entry is undone too.
    const allow = await refuseMarking(harness);
    await expect(processEventBatch(harness.ctx, ["e-1", "e-2"])).rejects.toThrow(/refused/);
    expect(await harness.db.prisma.segmentMembership.count()).toBe(0);

    await allow();
    await processEventBatch(harness.ctx, ["e-1", "e-2"]);
    expect(await processedOf(harness, ["e-1", "e-2"])).toEqual(["e-1", "e-2"]);
    const members = await harness.db.prisma.segmentMembership.findMany({
      select: { segmentId: true, customerId: true },
      orderBy: { customerId: "asc" },
    });
    expect(members.map((m) => `${m.segmentId}/${m.customerId}`).sort()).toEqual(
      [`${segs[0]}/${ann}`, `${segs[1]}/${cid}`].sort(),
    );
    await waitFor("the entry journey started for ann", () =>
      harness.db.prisma.journeyRun.findFirst({
        where: { journeyId: onEnter.journeyId, customerId: ann },
      }),
    );
  });
});
