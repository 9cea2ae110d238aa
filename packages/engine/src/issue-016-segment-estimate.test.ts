// Issue 16, item 2 (size preview while editing): over a big workspace an exact count can outlast
// the editor's patience (a sum over a property reads every matching purchase), so after
// EXACT_PREVIEW_MS the preview estimates the size from customers drawn at random, with a 95 %
// range. Real Postgres: the estimate agrees with the exact count, its range holds it, the sample
// shown is made of real members, a draw of everyone is exact, and a slow exact count falls back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SegmentDefinition } from "@postpath/journey";
import { previewSegment } from "./segments.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

const CUSTOMERS = 4_000;
const none = () => undefined;

// "Big spenders": revenue of at least 400 in the last 365 days.
const bigSpenders = SegmentDefinition.parse({
  rules: [
    {
      kind: "event",
      event: "purchase",
      measure: "sum",
      property: "revenue",
      op: "gte",
      value: 400,
      withinDays: 365,
      where: [],
    },
  ],
});

describe("segment size preview: estimated from a random draw when counting everyone is slow", () => {
  let h: EngineHarness;
  let exact: { count: number; members: Set<string> };

  beforeAll(async () => {
    h = await startEngineHarness({ workers: false });
    await h.db.query(
      `INSERT INTO "Customer" (id, "workspaceId", "externalId", email, attributes, "updatedAt")
       SELECT $1 || '-c' || g, $1, 'u' || g, 'u' || g || '@example.com', '{}', now()
       FROM generate_series(1, $2::int) AS g`,
      [h.workspaceId, CUSTOMERS],
    );
    // Ten purchases per customer over 400 days, revenue 1-99 (as a number or a numeric string).
    await h.db.query(
      `INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId", "processedAt")
       SELECT $1 || '-e' || g, $1, $1 || '-c' || (1 + g % $2::int), 'purchase',
              CASE WHEN g % 7 = 0 THEN jsonb_build_object('revenue', ((g * 37) % 99 + 1)::text)
                   ELSE jsonb_build_object('revenue', (g * 37) % 99 + 1) END,
              now() - ((g * 7919) % (400 * 86400)) * interval '1 second', $1 || '-m' || g, now()
       FROM generate_series(1, $2::int * 10) AS g`,
      [h.workspaceId, CUSTOMERS],
    );
    await h.db.query(`ANALYZE "Customer"`);
    await h.db.query(`ANALYZE "Event"`);
    const full = await previewSegment(h.ctx, h.workspaceId, bigSpenders, none, {
      sample: CUSTOMERS,
    });
    expect(full.estimate).toBeUndefined();
    exact = { count: full.count, members: new Set(full.sample.map((c) => c.id)) };
    // A segment neither empty nor everyone, so an estimate has something to get right.
    expect(exact.count).toBeGreaterThan(CUSTOMERS * 0.2);
    expect(exact.count).toBeLessThan(CUSTOMERS * 0.8);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("estimates from about the requested number of customers, with a range that holds the count", async () => {
    for (const seed of [1, 2, 3]) {
      const p = await previewSegment(h.ctx, h.workspaceId, bigSpenders, none, {
        estimate: "always",
        sampleSize: 800,
        seed,
      });
      const e = p.estimate!;
      expect(e.customers).toBe(CUSTOMERS);
      // Bernoulli draw of 20 %: 800 expected, sd 25.
      expect(e.sampled).toBeGreaterThan(650);
      expect(e.sampled).toBeLessThan(950);
      expect(e.low).toBeLessThanOrEqual(p.count);
      expect(p.count).toBeLessThanOrEqual(e.high);
      // The range is a 95 % one (about ±1.96 sd): the estimate is within 4 sd of the truth.
      const sd = (e.high - e.low) / 2 / 1.96;
      expect(Math.abs(p.count - exact.count)).toBeLessThan(4 * sd);
      expect(e.high - e.low).toBeLessThan(CUSTOMERS * 0.2);
      // What it shows are real members.
      expect(p.sample.length).toBe(20);
      for (const c of p.sample) expect(exact.members.has(c.id)).toBe(true);
    }
  });

  it("is exact when the draw takes everyone", async () => {
    const p = await previewSegment(h.ctx, h.workspaceId, bigSpenders, none, {
      estimate: "always",
      sampleSize: CUSTOMERS * 2,
    });
    expect(p.estimate).toEqual({
      sampled: CUSTOMERS,
      customers: CUSTOMERS,
      low: exact.count,
      high: exact.count,
    });
    expect(p.count).toBe(exact.count);
  });

  it("falls back to the estimate when the exact count outlasts its time", async () => {
    // 40,000 purchases cannot be summed per customer within a millisecond.
    const p = await previewSegment(h.ctx, h.workspaceId, bigSpenders, none, {
      exactMs: 1,
      sampleSize: 1_000,
    });
    expect(p.estimate).toBeDefined();
    expect(p.estimate!.low).toBeLessThanOrEqual(p.count);
    expect(p.count).toBeLessThanOrEqual(p.estimate!.high);
  });

  it("says when even the estimate is too slow, as before", async () => {
    await expect(
      previewSegment(h.ctx, h.workspaceId, bigSpenders, none, { timeoutMs: 1, exactMs: 1 }),
    ).rejects.toMatchObject({ code: "57014" });
  });
});
