// Issue 16, item 2: a batch of events refreshes membership with one set-based statement (the
// customers' events aggregated once for every segment). Many customers in one batch entering and
// leaving several segments at once (lifecycle stages, counts, sums with a property filter, a
// last-time rule with an attribute, a segment referring to another, two event names) must give
// the same memberships and changes as the per-segment, one-customer-at-a-time refresh, agree
// with the whole-workspace query, and start the journeys listening to those edges.
import { DEFAULT_LIFECYCLE, dependenciesOf, SegmentDefinition } from "@postpath/journey";
import type { SegmentDefinitionInput } from "@postpath/journey";
import type { Prisma } from "@postpath/db";
import { afterEach, describe, expect, it } from "vitest";
import {
  compileSegment,
  forgetSegments,
  loadSegments,
  refreshSegment,
  refreshSegmentsForEvents,
  saveLifecycle,
  sweepSegments,
  type SavedSegment,
} from "./segments.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

const DAY = 86_400_000;
let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const json = (v: unknown) => v as Prisma.InputJsonValue;

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Membership = { segmentId: string; customerId: string };
const key = (m: Membership) => `${m.segmentId}/${m.customerId}`;

describe("a batch refresh agrees with one segment and one customer at a time", () => {
  it("gives the same memberships, changes and journey starts for many customers at once", async () => {
    let clock = Date.now();
    h = await startEngineHarness({ now: () => clock, workers: false });
    const harness = h;
    const ws = harness.workspaceId;
    const random = rng(16);
    const tiers = ["basic", "silver", "gold"];
    const customers: string[] = [];
    for (let i = 0; i < 60; i++) customers.push(`c-${String(i).padStart(3, "0")}`);
    await harness.db.query(
      `INSERT INTO "Customer" (id, "workspaceId", "externalId", email, attributes, "updatedAt")
       SELECT id, $1, id, id || '@example.com', jsonb_build_object('tier', t), now()
       FROM unnest($2::text[], $3::text[]) AS x(id, t)`,
      [ws, customers, customers.map(() => tiers[Math.floor(random() * 3)]!)],
    );
    // History: 0-8 purchases (some in EUR, some not) and 0-6 page views over 400 days.
    const events: { c: string; name: string; daysAgo: number; props: object }[] = [];
    for (const c of customers) {
      for (let n = Math.floor(random() * 9); n > 0; n--)
        events.push({
          c,
          name: "purchase",
          daysAgo: random() * 400,
          props: { revenue: Math.floor(random() * 300), currency: random() < 0.7 ? "EUR" : "USD" },
        });
      for (let n = Math.floor(random() * 7); n > 0; n--)
        events.push({ c, name: "page_view", daysAgo: random() * 60, props: {} });
    }
    const insert = async (list: typeof events) =>
      harness.db.query(
        `INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId", "processedAt")
         SELECT 'e-' || m, $1, c, n, p, t, m, now()
         FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::timestamp[], $6::text[]) AS x(c, n, p, t, m)`,
        [
          ws,
          list.map((e) => e.c),
          list.map((e) => e.name),
          list.map((e) => JSON.stringify(e.props)),
          list.map((e) => new Date(clock - e.daysAgo * DAY).toISOString().slice(0, -1)),
          list.map(() => `m-${Math.floor(random() * 1e15)}-${Math.floor(random() * 1e15)}`),
        ],
      );
    await insert(events);

    const custom: Record<string, SegmentDefinitionInput> = {
      twice: {
        rules: [
          {
            kind: "event",
            event: "purchase",
            measure: "count",
            op: "gte",
            value: 2,
            withinDays: 90,
          },
        ],
      },
      eur: {
        rules: [
          {
            kind: "event",
            event: "purchase",
            measure: "sum",
            property: "revenue",
            op: "gte",
            value: 400,
            withinDays: 365,
            where: [{ property: "currency", op: "eq", value: "EUR" }],
          },
        ],
      },
      goldQuiet: {
        rules: [
          { kind: "attribute", property: "tier", op: "eq", value: "gold" },
          { kind: "event", event: "purchase", measure: "last", last: "notWithin", withinDays: 60 },
        ],
      },
      browsers: {
        match: "any",
        rules: [
          {
            kind: "event",
            event: "page_view",
            measure: "count",
            op: "gte",
            value: 4,
            withinDays: 30,
          },
          { kind: "attribute", property: "tier", op: "eq", value: "silver" },
        ],
      },
    };
    const ids: Record<string, string> = {};
    for (const [name, d] of Object.entries(custom))
      ids[name] = (
        await harness.db.prisma.segment.create({
          data: { workspaceId: ws, name, definition: json(SegmentDefinition.parse(d)) },
          select: { id: true },
        })
      ).id;
    const stages = await saveLifecycle(harness.ctx, ws, DEFAULT_LIFECYCLE);
    // A segment of a segment: browsers who are not in "twice".
    ids.browsersOnce = (
      await harness.db.prisma.segment.create({
        data: {
          workspaceId: ws,
          name: "browsersOnce",
          definition: json(
            SegmentDefinition.parse({
              rules: [
                { kind: "segment", segmentId: ids.browsers, inside: true },
                { kind: "segment", segmentId: ids.twice, inside: false },
              ],
            }),
          ),
        },
        select: { id: true },
      })
    ).id;
    forgetSegments(ws);
    await sweepSegments(harness.ctx, ws);
    const onEnter = await harness.publish("Twice", [
      {
        id: "t",
        type: "trigger.segment",
        data: { segmentId: ids.twice, on: "enter" },
        next: "end",
      },
    ]);
    const onLeave = await harness.publish("Lapsed no more", [
      {
        id: "t",
        type: "trigger.segment",
        data: { segmentId: stages.lapsed, on: "leave" },
        next: "end",
      },
    ]);

    // 40 days later, a batch: purchases and page views for two thirds of the customers.
    clock += 40 * DAY;
    const batch: typeof events = [];
    for (const c of customers.slice(0, 40)) {
      const r = random();
      if (r < 0.6)
        batch.push({
          c,
          name: "purchase",
          daysAgo: 0,
          props: { revenue: 250, currency: r < 0.4 ? "EUR" : "USD" },
        });
      if (r > 0.3)
        for (let n = 0; n < 4; n++) batch.push({ c, name: "page_view", daysAgo: 0, props: {} });
    }
    await insert(batch);

    const all = await loadSegments(harness.ctx, ws, true);
    const byId = new Map(all.map((s) => [s.id, s.definition]));
    const resolve = (id: string) => byId.get(id);
    const readMemberships = async () =>
      (
        await harness.db.query<Membership & { since: Date }>(
          `SELECT m."segmentId", m."customerId", m.since FROM "SegmentMembership" m
           JOIN "Segment" s ON s.id = m."segmentId" WHERE s."workspaceId" = $1`,
          [ws],
        )
      ).sort((x, y) => (key(x) < key(y) ? -1 : 1));
    const before = await readMemberships();

    // The reference: per segment, per customer who had an event it reads (as before batching).
    const namesOf = (s: SavedSegment): Set<string> => {
      const d = dependenciesOf(s.definition);
      const out = new Set(d.events);
      for (const ref of d.segments) {
        const inner = all.find((x) => x.id === ref);
        if (inner) for (const n of namesOf(inner)) out.add(n);
      }
      return out;
    };
    const expected: string[] = [];
    for (const s of all)
      for (const c of customers) {
        if (!batch.some((e) => e.c === c && namesOf(s).has(e.name))) continue;
        for (const ch of await refreshSegment(harness.ctx, s, resolve, [c]))
          expected.push(`${ch.change} ${ch.segmentId}/${ch.customerId}`);
      }
    const afterOneByOne = await readMemberships();
    // Enough happened at once to make the comparison worth it.
    expect(expected.filter((e) => e.startsWith("entered")).length).toBeGreaterThan(10);
    expect(expected.filter((e) => e.startsWith("left")).length).toBeGreaterThan(10);
    expect(new Set(expected.map((e) => e.split(" ")[1]!.split("/")[0])).size).toBeGreaterThan(4);

    // Back to the memberships before, then the batch refresh.
    await harness.db.query(
      `DELETE FROM "SegmentMembership" m USING "Segment" s WHERE s.id = m."segmentId" AND s."workspaceId" = $1`,
      [ws],
    );
    await harness.db.query(
      `INSERT INTO "SegmentMembership" ("segmentId", "customerId", since)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamp[])`,
      [
        before.map((m) => m.segmentId),
        before.map((m) => m.customerId),
        before.map((m) => m.since.toISOString().slice(0, -1)),
      ],
    );
    const changed = await refreshSegmentsForEvents(
      harness.ctx,
      batch.map((e) => ({ workspaceId: ws, customerId: e.c, name: e.name })),
    );
    expect(changed).toBe(expected.length);
    const afterBatch = await readMemberships();
    expect(afterBatch.map(key)).toEqual(afterOneByOne.map(key));
    // Entries carry the batch's clock; members who stayed keep when they entered.
    expect(afterBatch.map((m) => m.since.getTime())).toEqual(
      afterOneByOne.map((m) => m.since.getTime()),
    );
    // And both agree with the whole-workspace query for the customers refreshed.
    for (const s of all) {
      const q = compileSegment(s.definition, { workspaceId: ws, now: clock, resolve, self: s.id });
      const refreshed = new Set(
        customers.filter((c) => batch.some((e) => e.c === c && namesOf(s).has(e.name))),
      );
      const want = (await harness.db.query<{ id: string }>(q.sql, q.params))
        .map((r) => r.id)
        .filter((c) => refreshed.has(c))
        .sort();
      const got = afterBatch
        .filter((m) => m.segmentId === s.id && refreshed.has(m.customerId))
        .map((m) => m.customerId);
      expect(got).toEqual(want);
    }

    // The journeys on those edges started once per customer who crossed them.
    const entered = expected
      .filter((e) => e === `entered ${ids.twice}/${e.split("/")[1]}`)
      .map((e) => e.split("/")[1]!);
    const leftLapsed = expected
      .filter((e) => e === `left ${stages.lapsed}/${e.split("/")[1]}`)
      .map((e) => e.split("/")[1]!);
    expect(entered.length + leftLapsed.length).toBeGreaterThan(0);
    const runsOf = async (journeyId: string) =>
      (
        await harness.db.prisma.journeyRun.findMany({
          where: { journeyId },
          select: { customerId: true },
        })
      )
        .map((r) => r.customerId)
        .sort();
    await waitFor(
      "the journeys started",
      async () =>
        (await runsOf(onEnter.journeyId)).length === entered.length &&
        (await runsOf(onLeave.journeyId)).length === leftLapsed.length,
    );
    expect(await runsOf(onEnter.journeyId)).toEqual(entered.sort());
    expect(await runsOf(onLeave.journeyId)).toEqual(leftLapsed.sort());

    // Re-running the same batch changes nothing.
    expect(
      await refreshSegmentsForEvents(
        harness.ctx,
        batch.map((e) => ({ workspaceId: ws, customerId: e.c, name: e.name })),
      ),
    ).toBe(0);
  });
});
