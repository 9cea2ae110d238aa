// Issue 16, item 2: saved segments evaluated by Postgres. The SQL a definition compiles to agrees
// with the engine's own condition semantics (conditions.ts) for every operator; behavioural rules
// (count / sum / last time, windows, property filters), consent and segment references give the
// right members at a controlled clock; membership follows events and identify calls
// incrementally, the scheduled sweep lets customers leave windows that expired, and entering or
// leaving a segment starts the journeys whose trigger names it. Real Postgres and Redis.
import type { Condition } from "@postpath/journey";
import {
  matchesCustomer,
  SegmentDefinition,
  segmentGraphProblem,
  type ConditionOp,
  type SegmentDefinitionInput,
} from "@postpath/journey";
import type { Prisma } from "@postpath/db";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { setSubscription } from "./consent.ts";
import { toSnapshot, type CustomerRow } from "./customer.ts";
import { identify, track } from "./ingest.ts";
import {
  compileSegment,
  forgetSegments,
  previewSegment,
  refreshSegmentsForEvents,
  sweepSegments,
} from "./segments.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

const DAY = 86_400_000;
let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const def = (d: SegmentDefinitionInput) => SegmentDefinition.parse(d);
const json = (v: unknown) => v as Prisma.InputJsonValue;

async function members(
  harness: EngineHarness,
  d: SegmentDefinitionInput,
  resolve: (id: string) => SegmentDefinition | undefined = () => undefined,
  customerIds?: string[],
): Promise<string[]> {
  const q = compileSegment(def(d), {
    workspaceId: harness.workspaceId,
    now: harness.ctx.now(),
    resolve,
    ...(customerIds ? { customerIds } : {}),
  });
  const rows = await harness.ctx.db.query<{ id: string }>(q.sql, q.params);
  return rows.map((r) => r.id).sort();
}

async function externalIdsOf(harness: EngineHarness, ids: string[]): Promise<string[]> {
  const rows = await harness.db.prisma.customer.findMany({
    where: { id: { in: ids } },
    select: { externalId: true },
  });
  return rows.map((r) => r.externalId).sort();
}

/** Stores an event as already processed (no jobs), at `daysAgo` before the harness clock. */
async function pastEvent(
  harness: EngineHarness,
  customerId: string,
  name: string,
  daysAgo: number,
  properties: Record<string, unknown> = {},
) {
  await harness.db.prisma.event.create({
    data: {
      workspaceId: harness.workspaceId,
      customerId,
      name,
      properties: json(properties),
      timestamp: new Date(harness.ctx.now() - daysAgo * DAY),
      messageId: randomUUID(),
      processedAt: new Date(),
    },
  });
}

describe("attribute rules in SQL mean what conditions.ts means", () => {
  it("agrees with matchesCustomer for every operator over awkward values", async () => {
    h = await startEngineHarness({ workers: false });
    const values: unknown[] = [
      30,
      "30",
      30.5,
      "30.50",
      -2,
      0,
      "",
      " 12 ",
      "abc",
      "Abc",
      "abcdef",
      true,
      "true",
      null,
      ["vip", 30],
      ["x"],
      { a: 1 },
      "1e3",
    ];
    const customers: CustomerRow[] = [];
    for (const [i, v] of [...values, undefined].entries()) {
      const attributes: Record<string, unknown> = v === undefined ? {} : { x: v, nest: { y: v } };
      if (i === 3) attributes["nest.y"] = "dotted key wins";
      const c = await h.db.prisma.customer.create({
        data: {
          workspaceId: h.workspaceId,
          externalId: `c${i}`,
          email: i % 2 ? `c${i}@shop.test` : null,
          attributes: json(attributes),
          tags: i % 3 === 0 ? ["vip"] : [],
        },
      });
      customers.push(c);
    }
    const expected: unknown[] = [
      30,
      "30",
      "abc",
      "ab",
      "c",
      12,
      "1000",
      true,
      null,
      "dotted key wins",
    ];
    const ops: ConditionOp[] = [
      "eq",
      "neq",
      "gt",
      "gte",
      "lt",
      "lte",
      "contains",
      "notContains",
      "startsWith",
      "endsWith",
      "exists",
      "notExists",
    ];
    const cases: Condition[] = [];
    for (const property of ["x", "nest.y", "customer.tags", "customer.email"])
      for (const op of ops) for (const value of expected) cases.push({ property, op, value });
    cases.push({ property: "x", op: "in", value: [30, "abc", null] });
    cases.push({ property: "x", op: "notIn", value: ["30", true] });
    cases.push({ property: "customer.tags", op: "in", value: [["vip"]] });
    let checked = 0;
    for (const c of cases) {
      const js = customers
        .filter((row) => matchesCustomer([c], "all", toSnapshot(row)))
        .map((r) => r.id)
        .sort();
      const sql = await members(h, { match: "all", rules: [{ kind: "attribute", ...c }] });
      expect({ condition: c, ids: sql }).toEqual({ condition: c, ids: js });
      checked++;
    }
    expect(checked).toBeGreaterThan(400);
  });
});

describe("behaviour, consent and references at a controlled clock", () => {
  it("counts, sums and last times within windows, with property filters", async () => {
    let clock = Date.parse("2026-06-01T12:00:00Z");
    h = await startEngineHarness({ workers: false, now: () => clock });
    const mk = async (ext: string) =>
      (
        await h!.db.prisma.customer.create({
          data: { workspaceId: h!.workspaceId, externalId: ext },
        })
      ).id;
    const ann = await mk("ann"); // two recent purchases
    const bob = await mk("bob"); // one recent, one 100 days ago (premium)
    const cid = await mk("cid"); // never bought
    const dee = await mk("dee"); // one purchase 70 days ago
    await pastEvent(h, ann, "purchase", 10, { revenue: 300, product: { tier: "basic" } });
    await pastEvent(h, ann, "purchase", 50, { revenue: "250" });
    await pastEvent(h, bob, "purchase", 10, { revenue: 100 });
    await pastEvent(h, bob, "purchase", 100, { revenue: 450, product: { tier: "premium" } });
    await pastEvent(h, dee, "purchase", 70, { revenue: 20 });
    await pastEvent(h, cid, "page_view", 1);
    const names = async (d: SegmentDefinitionInput) => externalIdsOf(h!, await members(h!, d));

    // "at least 2 purchase in the last 90 days"
    expect(
      await names({
        rules: [{ kind: "event", event: "purchase", op: "gte", value: 2, withinDays: 90 }],
      }),
    ).toEqual(["ann"]);
    // "sum of revenue ≥ 500 in 365 days" (numeric strings count)
    expect(
      await names({
        rules: [
          {
            kind: "event",
            event: "purchase",
            measure: "sum",
            property: "revenue",
            value: 500,
            withinDays: 365,
          },
        ],
      }),
    ).toEqual(["ann", "bob"]);
    // "no purchase for 60 days" includes who never bought
    expect(
      await names({
        rules: [
          { kind: "event", event: "purchase", measure: "last", last: "notWithin", withinDays: 60 },
        ],
      }),
    ).toEqual(["cid", "dee"]);
    // a filter on an event property
    expect(
      await names({
        rules: [
          {
            kind: "event",
            event: "purchase",
            where: [{ property: "product.tier", op: "eq", value: "premium" }],
          },
        ],
      }),
    ).toEqual(["bob"]);
    // between 60 and 120 days ago; "exactly 0" counts customers without any
    expect(
      await names({
        rules: [{ kind: "event", event: "purchase", withinDays: 120, olderThanDays: 60 }],
      }),
    ).toEqual(["bob", "dee"]);
    expect(
      await names({ rules: [{ kind: "event", event: "purchase", op: "eq", value: 0 }] }),
    ).toEqual(["cid"]);

    // The clock moves: 41 days later ann's second purchase left the 90-day window.
    clock += 41 * DAY;
    expect(
      await names({
        rules: [{ kind: "event", event: "purchase", op: "gte", value: 2, withinDays: 90 }],
      }),
    ).toEqual([]);

    // The incremental form (some customers) agrees with the whole-workspace form.
    const d: SegmentDefinitionInput = {
      match: "any",
      rules: [
        {
          kind: "event",
          event: "purchase",
          measure: "sum",
          property: "revenue",
          op: "lt",
          value: 200,
        },
        { kind: "event", event: "page_view", measure: "last", last: "within", withinDays: 60 },
      ],
    };
    const whole = await members(h, d);
    expect(await externalIdsOf(h, whole)).toEqual(["cid", "dee"]);
    expect(await members(h, d, undefined, [ann, bob, cid, dee])).toEqual(whole);
    expect(await members(h, d, undefined, [bob, dee])).toEqual([dee]);
    expect(await members(h, d, undefined, [bob])).toEqual([]);
    // "When last" over the whole workspace reads only the window's events; one customer at a time
    // it reads their last event: both give the same customers, filters included.
    for (const last of ["within", "notWithin", "before"] as const)
      for (const withinDays of [30, 60, 100])
        for (const where of [
          [],
          [{ property: "product.tier", op: "eq" as const, value: "premium" }],
        ]) {
          const rule: SegmentDefinitionInput = {
            rules: [{ kind: "event", event: "purchase", measure: "last", last, withinDays, where }],
          };
          const all = await members(h, rule);
          expect(await members(h, rule, undefined, [ann, bob, cid, dee])).toEqual(all);
          if (last === "notWithin") expect(all).toContain(cid); // never bought
        }
  });

  it("consent state, references to other segments, and no cycles", async () => {
    h = await startEngineHarness({ workers: false });
    const a = await h.customer("a", { email: "a@shop.test", vip: true });
    const b = await h.customer("b", { email: "b@shop.test" });
    await h.customer("c", { vip: true });
    await setSubscription(h.ctx, {
      workspaceId: h.workspaceId,
      customerId: a,
      channel: "email",
      status: "unsubscribed",
      source: "admin",
      actor: "system",
    });
    await setSubscription(h.ctx, {
      workspaceId: h.workspaceId,
      customerId: b,
      channel: "email",
      status: "subscribed",
      source: "admin",
      actor: "system",
    });
    const names = async (
      d: SegmentDefinitionInput,
      r?: (id: string) => SegmentDefinition | undefined,
    ) => externalIdsOf(h!, await members(h!, d, r));
    expect(
      await names({ rules: [{ kind: "consent", channel: "email", status: "subscribed" }] }),
    ).toEqual(["b"]);
    expect(
      await names({ rules: [{ kind: "consent", channel: "email", status: "unsubscribed" }] }),
    ).toEqual(["a"]);
    expect(
      await names({ rules: [{ kind: "consent", channel: "email", status: "never_asked" }] }),
    ).toEqual(["c"]);

    const vip = def({ rules: [{ kind: "attribute", property: "vip", op: "eq", value: true }] });
    const resolve = (id: string) => (id === "vip" ? vip : undefined);
    expect(
      await names(
        {
          rules: [
            { kind: "segment", segmentId: "vip", inside: true },
            { kind: "consent", channel: "email", status: "unsubscribed" },
          ],
          match: "any",
        },
        resolve,
      ),
    ).toEqual(["a", "c"]);
    expect(
      await names({ rules: [{ kind: "segment", segmentId: "vip", inside: false }] }, resolve),
    ).toEqual(["b"]);
    // A segment naming one that is gone cannot be compiled (the API refuses to save it).
    await expect(
      names({ rules: [{ kind: "segment", segmentId: "gone" }] }, resolve),
    ).rejects.toThrow(/no longer exists/);

    // Cycles: x → y → x is refused; a chain without a loop is fine.
    const others = new Map([
      ["x", { name: "X", definition: def({ rules: [{ kind: "segment", segmentId: "y" }] }) }],
      ["y", { name: "Y", definition: vip }],
    ]);
    expect(
      segmentGraphProblem("y", def({ rules: [{ kind: "segment", segmentId: "x" }] }), others),
    ).toMatch(/cannot include itself/);
    expect(
      segmentGraphProblem(null, def({ rules: [{ kind: "segment", segmentId: "x" }] }), others),
    ).toBeNull();
  });

  it("previews the size and a sample on the database, bounded by a statement timeout", async () => {
    h = await startEngineHarness({ workers: false });
    for (let i = 0; i < 25; i++)
      await h.db.prisma.customer.create({
        data: { workspaceId: h.workspaceId, externalId: `p${i}`, attributes: { n: i } },
      });
    const d = def({ rules: [{ kind: "attribute", property: "n", op: "gte", value: 3 }] });
    const p = await previewSegment(h.ctx, h.workspaceId, d, () => undefined);
    expect(p.count).toBe(22);
    expect(p.sample).toHaveLength(20);
    expect(new Set(p.sample.map((s) => s.externalId)).size).toBe(20);
    expect(p.sample.every((s) => Number(s.externalId.slice(1)) >= 3)).toBe(true);
    // A preview stuck behind a lock on "Customer" is cancelled by its statement timeout (57014).
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = h.ctx.db.withSession(async (s) => {
      await s.exec(`BEGIN; LOCK TABLE "Customer" IN ACCESS EXCLUSIVE MODE`);
      locked();
      await released;
      await s.exec("ROLLBACK");
    });
    await isLocked;
    try {
      await expect(
        previewSegment(h.ctx, h.workspaceId, d, () => undefined, { timeoutMs: 200 }),
      ).rejects.toMatchObject({ code: "57014" });
    } finally {
      release();
      await holder;
    }
    expect((await previewSegment(h.ctx, h.workspaceId, d, () => undefined)).count).toBe(22);
  });
});

describe("membership kept on events, identify calls and the sweep; entry and exit trigger journeys", () => {
  it("enters on a purchase, leaves on day 31 through the sweep, and starts both journeys", async () => {
    let clock = Date.now();
    h = await startEngineHarness({ now: () => clock });
    const seg = await h.db.prisma.segment.create({
      data: {
        workspaceId: h.workspaceId,
        name: "Bought in the last 30 days",
        definition: json(
          def({
            rules: [
              { kind: "event", event: "purchase", measure: "last", last: "within", withinDays: 30 },
            ],
          }),
        ),
      },
    });
    const vip = await h.db.prisma.segment.create({
      data: {
        workspaceId: h.workspaceId,
        name: "VIP",
        definition: json(
          def({
            rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }],
          }),
        ),
      },
    });
    forgetSegments(h.workspaceId);
    const entered = await h.publish("Welcome buyers", [
      { id: "t", type: "trigger.segment", data: { segmentId: seg.id, on: "enter" }, next: "end" },
    ]);
    const left = await h.publish("Win back", [
      { id: "t", type: "trigger.segment", data: { segmentId: seg.id, on: "leave" }, next: "end" },
    ]);
    const ann = await h.customer("ann", { tier: "silver" });
    const bob = await h.customer("bob");

    // A purchase: ann enters through the events worker's incremental refresh.
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase", properties: {} });
    await waitFor("ann is a member", () =>
      h!.db.prisma.segmentMembership.findUnique({
        where: { segmentId_customerId: { segmentId: seg.id, customerId: ann } },
      }),
    );
    const run = await waitFor("the entry journey ran for ann", () =>
      h!.db.prisma.journeyRun.findFirst({
        where: { journeyId: entered.journeyId, customerId: ann },
      }),
    );
    expect(run.triggerEventId).toMatch(new RegExp(`^segment-${seg.id}-entered-`));
    // An unrelated event for bob changes nothing.
    await track(h.ctx, h.workspaceId, { userId: "bob", event: "page_view", properties: {} });
    await waitFor(
      "bob's event processed",
      async () =>
        (await h!.db.prisma.event.count({
          where: { customerId: bob, processedAt: { not: null } },
        })) === 1,
    );
    expect(await h.db.prisma.segmentMembership.count({ where: { segmentId: seg.id } })).toBe(1);

    // An identify that changes an attribute: ann joins VIP, without any event.
    await identify(h.ctx, h.workspaceId, { userId: "ann", traits: { tier: "gold" } });
    await waitFor("ann is VIP", () =>
      h!.db.prisma.segmentMembership.findUnique({
        where: { segmentId_customerId: { segmentId: vip.id, customerId: ann } },
      }),
    );

    // Day 29: the sweep keeps her; day 31 (no new event): she leaves, and the win-back starts.
    clock += 29 * DAY;
    expect(await sweepSegments(h.ctx, h.workspaceId)).toMatchObject({ segments: 1, left: 0 });
    clock += 2 * DAY;
    expect(await sweepSegments(h.ctx, h.workspaceId)).toMatchObject({
      segments: 1,
      entered: 0,
      left: 1,
    });
    expect(await h.db.prisma.segmentMembership.count({ where: { segmentId: seg.id } })).toBe(0);
    await waitFor("the exit journey ran for ann", () =>
      h!.db.prisma.journeyRun.findFirst({ where: { journeyId: left.journeyId, customerId: ann } }),
    );
    // Sweeping again changes nothing and starts nothing new.
    expect(await sweepSegments(h.ctx, h.workspaceId)).toMatchObject({ entered: 0, left: 0 });
    expect(await h.db.prisma.journeyRun.count({ where: { journeyId: left.journeyId } })).toBe(1);
    // VIP has no window: the sweep leaves it alone.
    expect(await h.db.prisma.segmentMembership.count({ where: { segmentId: vip.id } })).toBe(1);

    // Re-running the refresh of a processed batch is idempotent.
    expect(
      await refreshSegmentsForEvents(h.ctx, [
        { workspaceId: h.workspaceId, customerId: ann, name: "purchase" },
      ]),
    ).toBe(0);
  });
});
