// Issue 16, item 2: a batch of events commits once. The incremental membership refresh runs in
// the statement that marks the batch's events processed, so the membership changes and
// `processedAt` commit together: when marking the events fails (here a trigger refuses the
// update, standing in for a crash at that moment), no membership has changed either, and the
// retry makes the change, with its entry time, and starts the journey on that edge once. A batch
// over two workspaces runs its statements in one transaction. Real Postgres and Redis.
import { SegmentDefinition, type SegmentDefinitionInput } from "@postpath/journey";
import type { Prisma } from "@postpath/db";
import { afterEach, describe, expect, it } from "vitest";
import { processEventBatch } from "./events.ts";
import { forgetSegments } from "./segments.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const json = (v: unknown) => v as Prisma.InputJsonValue;
const bought: SegmentDefinitionInput = {
  rules: [{ kind: "event", event: "purchase", measure: "count", op: "gte", value: 1 }],
};

async function insertEvents(
  harness: EngineHarness,
  rows: { id: string; workspaceId: string; customerId: string; name: string; at: number }[],
): Promise<void> {
  await harness.db.query(
    `INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId")
     SELECT id, ws, c, n, '{}'::jsonb, t, 'm-' || id
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamp[]) AS x(id, ws, c, n, t)`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.workspaceId),
      rows.map((r) => r.customerId),
      rows.map((r) => r.name),
      rows.map((r) => new Date(r.at).toISOString().slice(0, -1)),
    ],
  );
}

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
    const seg = await harness.db.prisma.segment.create({
      data: { workspaceId: ws, name: "Buyers", definition: json(SegmentDefinition.parse(bought)) },
    });
    forgetSegments(ws);
    const onEnter = await harness.publish("Thanks", [
      { id: "t", type: "trigger.segment", data: { segmentId: seg.id, on: "enter" }, next: "end" },
    ]);
    const ann = await harness.customer("ann");
    const bob = await harness.customer("bob");
    await insertEvents(harness, [
      { id: "e-1", workspaceId: ws, customerId: ann, name: "purchase", at: clock },
      { id: "e-2", workspaceId: ws, customerId: bob, name: "page_view", at: clock },
    ]);

    // Marking the events processed fails (as a crash at that moment would end it).
    await harness.db
      .query(`CREATE FUNCTION refuse_processed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused: the batch is not marked processed'; END $$`);
    await harness.db.query(
      `CREATE TRIGGER refuse_processed BEFORE UPDATE OF "processedAt" ON "Event"
       FOR EACH ROW EXECUTE FUNCTION refuse_processed()`,
    );
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
    await harness.db.query(`DROP TRIGGER refuse_processed ON "Event"`);
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
    const segs: string[] = [];
    for (const ws of [ws1, ws2]) {
      segs.push(
        (
          await harness.db.prisma.segment.create({
            data: {
              workspaceId: ws,
              name: "Buyers",
              definition: json(SegmentDefinition.parse(bought)),
            },
            select: { id: true },
          })
        ).id,
      );
      forgetSegments(ws);
    }
    const onEnter = await harness.publish("Thanks", [
      { id: "t", type: "trigger.segment", data: { segmentId: segs[0], on: "enter" }, next: "end" },
    ]);
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
    await harness.db
      .query(`CREATE FUNCTION refuse_processed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused: the batch is not marked processed'; END $$`);
    await harness.db.query(
      `CREATE TRIGGER refuse_processed BEFORE UPDATE OF "processedAt" ON "Event"
       FOR EACH ROW EXECUTE FUNCTION refuse_processed()`,
    );
    await expect(processEventBatch(harness.ctx, ["e-1", "e-2"])).rejects.toThrow(/refused/);
    expect(await harness.db.prisma.segmentMembership.count()).toBe(0);

    await harness.db.query(`DROP TRIGGER refuse_processed ON "Event"`);
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
