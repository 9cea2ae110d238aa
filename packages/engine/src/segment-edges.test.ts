// Failure correctness for segment triggers: a membership change commits before the journeys on
// its edge start, so a worker that dies in between must not lose the entry. The refresh keeps
// the edge (SegmentEdge) in the statement that changes the membership when the workspace has a
// live segment-triggered journey; it is forgotten once the journeys started, and the sweeper
// hands over what a crash left — once: the entry's trigger id names the segment, the change and
// its moment. Here the run's insert is refused (a Postgres trigger) to stand in for the crash.
// Real Postgres and Redis.
import { afterEach, describe, expect, it } from "vitest";
import { processEventBatch } from "./events.ts";
import { sweep } from "./maintenance.ts";
import { forgetSegments, loadSegments, refreshSegments } from "./segments.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";
import { buyersWithEntryJourney, insertEvents, refuse } from "./testing/segment-crash.ts";

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** Starting a journey fails, as a worker dying at that moment would end it. */
const refuseRuns = (harness: EngineHarness) =>
  refuse(
    harness,
    "refuse_runs",
    `INSERT ON "JourneyRun"`,
    "refused: the worker died before the journey started",
  );

const edges = async (harness: EngineHarness) =>
  (
    await harness.db.query<{ change: string }>(
      `SELECT change FROM "SegmentEdge" WHERE "workspaceId" = $1 ORDER BY change`,
      [harness.workspaceId],
    )
  ).map((r) => r.change);

async function setUp() {
  let clock = Date.now();
  h = await startEngineHarness({ now: () => clock, workers: false });
  const harness = h;
  const ws = harness.workspaceId;
  const { segmentId, journeyId } = await buyersWithEntryJourney(harness);
  const seg = { id: segmentId };
  const ann = await harness.customer("ann");
  await insertEvents(harness, [
    { id: "e-1", workspaceId: ws, customerId: ann, name: "purchase", at: clock },
  ]);
  const runs = () =>
    harness.db.prisma.journeyRun.findMany({
      where: { journeyId: journeyId! },
      select: { customerId: true, triggerEventId: true },
    });
  return {
    harness,
    seg,
    ann,
    runs,
    at: clock,
    later: (ms: number) => {
      clock += ms;
    },
  };
}

describe("a segment entry survives a crash before its journey starts", () => {
  it("an event batch: the edge is kept, and the sweeper starts the journey once", async () => {
    const { harness, seg, ann, runs, at, later } = await setUp();
    const allow = await refuseRuns(harness);
    await expect(processEventBatch(harness.ctx, ["e-1"])).rejects.toThrow(/refused/);
    // The membership and the batch committed; the journey did not start; the edge is kept.
    expect(await harness.db.prisma.segmentMembership.count({ where: { segmentId: seg.id } })).toBe(
      1,
    );
    expect(await runs()).toEqual([]);
    expect(await edges(harness)).toEqual(["entered"]);
    // A retry of the batch finds no change to make: only the edge can start the journey now.
    await allow();
    await processEventBatch(harness.ctx, ["e-1"]);
    expect(await runs()).toEqual([]);

    // Within the grace period the sweeper leaves the edge alone (its worker may be on it).
    expect((await sweep(harness.ctx, 60_000, 0)).segmentEdges).toBe(0);
    later(61_000);
    expect((await sweep(harness.ctx, 60_000, 0)).segmentEdges).toBe(1);
    expect(await runs()).toEqual([
      { customerId: ann, triggerEventId: `segment-${seg.id}-entered-${at}` },
    ]);
    expect(await edges(harness)).toEqual([]);
    expect((await sweep(harness.ctx, 60_000, 0)).segmentEdges).toBe(0);
    expect(await runs()).toHaveLength(1);
  });

  it("a refresh that starts its journeys leaves no edge; one without a listening journey writes none", async () => {
    const { harness, seg, runs } = await setUp();
    await processEventBatch(harness.ctx, ["e-1"]);
    expect(await runs()).toHaveLength(1);
    expect(await edges(harness)).toEqual([]);

    // No live journey listens: the whole-workspace refresh keeps no edge of the exit.
    await harness.db.prisma.journey.updateMany({
      where: { workspaceId: harness.workspaceId },
      data: { status: "ARCHIVED" },
    });
    await harness.db.query(`DELETE FROM "Event" WHERE id = 'e-1'`);
    forgetSegments(harness.workspaceId);
    const saved = await loadSegments(harness.ctx, harness.workspaceId);
    expect(saved.map((s) => s.id)).toEqual([seg.id]);
    const changes = await refreshSegments(harness.ctx, harness.workspaceId, saved, null);
    expect(changes.map((c) => c.change)).toEqual(["left"]);
    expect(await edges(harness)).toEqual([]);
  });
});
