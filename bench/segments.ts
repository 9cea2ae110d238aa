// Segments (issue 16, item 2): N customers and E events (generate_series, spread over 400 days:
// 70 % page_view, 20 % purchase with a revenue, 10 % add_to_cart), then in one run:
//   1. event processing throughput (processEventBatch, batches of --batch new events for random
//      customers, as ingest's group commit hands them over) with no saved segments — the baseline;
//   2. the five lifecycle stages and three custom segments saved; the first sweep (whole
//      workspace, every segment with a moving window) — the time to populate membership;
//   3. the same processing with the segments: the incremental membership refresh's cost per event,
//      printed as a ratio of the baseline's throughput;
//   4. size preview (count + 20 sample, the product's previewSegment) p50/p99 per custom segment,
//      exact (however long it takes) and estimated from a random draw (what the product shows
//      when the exact count takes over EXACT_PREVIEW_MS), against a raw hand-written aggregate
//      for the same count in the same run;
//   5. the daily sweep a day later (the clock moved 24 h; customers leave windows).
//   pnpm bench segments [--customers 100000] [--events 2000000] [--batches 40] [--batch 100] [--previews 15]
// The target: 1,000,000 customers and 20,000,000 events (pass them; takes long to seed).
import { loadavg } from "node:os";
import type { SegmentDefinition } from "@postpath/journey";
import { DEFAULT_LIFECYCLE } from "@postpath/journey";
import type { EngineContext } from "@postpath/engine";
import {
  forgetSegments,
  previewSegment,
  processEventBatch,
  saveLifecycle,
  sweepSegments,
} from "@postpath/engine";
import { arg, fmt, openBench, percentile, type BenchEnv } from "./_engine.ts";

const DAY = 86_400_000;

async function seed(env: BenchEnv, customers: number, events: number): Promise<void> {
  const ws = env.workspaceId;
  const chunk = 100_000;
  for (let from = 1; from <= customers; from += chunk)
    await env.db.query(
      `INSERT INTO "Customer" (id, "workspaceId", "externalId", email, attributes, "updatedAt")
       SELECT 'c' || lpad(g::text, 9, '0'), $1, 'u' || g, 'u' || g || '@example.com',
              jsonb_build_object('tier', (ARRAY['basic','silver','gold'])[1 + g % 3]), now()
       FROM generate_series($2::int, $3::int) AS g`,
      [ws, from, Math.min(customers, from + chunk - 1)],
    );
  // The events go in without their secondary indexes, which are rebuilt from their own
  // definitions afterwards (as bench/api-reads seeds its runs): 20 M rows inserted into five
  // b-trees in random order took 35 minutes here; a sorted build is minutes.
  const indexes = await env.db.query<{ name: string; def: string }>(
    `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
     WHERE i.tablename = 'Event' AND i.schemaname = current_schema()
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const i of indexes) await env.db.query(`DROP INDEX "${i.name}"`);
  const perChunk = 500_000;
  for (let from = 1; from <= events; from += perChunk)
    await env.db.query(
      `INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId", "processedAt")
       SELECT 'e' || g, $1, 'c' || lpad((1 + (hashint % $4))::text, 9, '0'),
              CASE WHEN g % 10 < 7 THEN 'page_view' WHEN g % 10 < 9 THEN 'purchase' ELSE 'add_to_cart' END,
              CASE WHEN g % 10 BETWEEN 7 AND 8 THEN jsonb_build_object('revenue', 5 + g % 300) ELSE '{}'::jsonb END,
              now() - ((g::bigint * 7919) % (400 * 86400)) * interval '1 second', 'm' || g, now()
       FROM (SELECT g, abs(hashint4(g)::bigint) AS hashint FROM generate_series($2::int, $3::int) AS g) s`,
      [ws, from, Math.min(events, from + perChunk - 1), customers],
    );
  await env.db.withSession(async (session) => {
    await session.exec(`SET maintenance_work_mem = '1GB'`);
    for (const i of indexes) await session.exec(i.def);
    await session.exec(`RESET maintenance_work_mem`);
  });
  // As autovacuum would have by then: the visibility map set, so index-only scans stay so.
  await env.db.query(`VACUUM ANALYZE "Customer"`);
  await env.db.query(`VACUUM ANALYZE "Event"`);
}

/** Processes `batches` batches of `size` new events for random customers; events/s. */
async function processing(
  env: BenchEnv,
  customers: number,
  batches: number,
  size: number,
  tag: string,
): Promise<number> {
  let ms = 0;
  for (let b = 0; b < batches; b++) {
    const ids = await env.db.query<{ id: string }>(
      `INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId")
       SELECT $1 || g, $2, 'c' || lpad((1 + floor(random() * $3))::int::text, 9, '0'),
              CASE WHEN g % 4 = 0 THEN 'purchase' ELSE 'page_view' END,
              CASE WHEN g % 4 = 0 THEN jsonb_build_object('revenue', 50) ELSE '{}'::jsonb END,
              now(), $1 || g
       FROM generate_series(1, $4::int) AS g RETURNING id`,
      [`${tag}-${b}-`, env.workspaceId, customers, size],
    );
    const t = performance.now();
    await processEventBatch(
      env.ctx,
      ids.map((r) => r.id),
    );
    ms += performance.now() - t;
  }
  return (batches * size) / (ms / 1000);
}

export default async function main(args: string[]): Promise<void> {
  const customers = arg(args, "customers", 100_000);
  const events = arg(args, "events", 2_000_000);
  const batches = arg(args, "batches", 40);
  const batch = arg(args, "batch", 100);
  const previews = arg(args, "previews", 15);
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const env = await openBench();
  try {
    const ws = env.workspaceId;
    let t = performance.now();
    await seed(env, customers, events);
    console.log(
      `seeded ${fmt(customers)} customers, ${fmt(events)} events in ${fmt((performance.now() - t) / 1000, 1)} s`,
    );

    // Warm-up, then the baseline without segments.
    await processing(env, customers, 5, batch, "warm");
    const base = await processing(env, customers, batches, batch, "base");

    const custom: Record<string, SegmentDefinition> = {
      "≥ 2 purchase in the last 90 days": {
        match: "all",
        rules: [
          {
            kind: "event",
            event: "purchase",
            measure: "count",
            op: "gte",
            value: 2,
            last: "within",
            withinDays: 90,
            where: [],
          },
        ],
      },
      "revenue ≥ 500 in 365 days": {
        match: "all",
        rules: [
          {
            kind: "event",
            event: "purchase",
            measure: "sum",
            property: "revenue",
            op: "gte",
            value: 500,
            last: "within",
            withinDays: 365,
            where: [],
          },
        ],
      },
      "gold, no purchase for 60 days": {
        match: "all",
        rules: [
          { kind: "attribute", property: "tier", op: "eq", value: "gold" },
          {
            kind: "event",
            event: "purchase",
            measure: "last",
            op: "gte",
            value: 1,
            last: "notWithin",
            withinDays: 60,
            where: [],
          },
        ],
      },
    };
    for (const [name, definition] of Object.entries(custom))
      await env.db.prisma.segment.create({
        data: {
          workspaceId: ws,
          name,
          definition: JSON.parse(JSON.stringify(definition)) as object,
        },
      });
    await saveLifecycle(env.ctx, ws, DEFAULT_LIFECYCLE);
    forgetSegments(ws);
    t = performance.now();
    const first = await sweepSegments(env.ctx, ws);
    const firstS = (performance.now() - t) / 1000;
    console.log(
      `first sweep (populate ${first.segments} segments): ${fmt(firstS, 1)} s, ${fmt(first.entered)} memberships`,
    );

    await processing(env, customers, 5, batch, "warm2");
    const withSegments = await processing(env, customers, batches, batch, "seg");
    console.log(
      `event processing, ${batches} batches of ${batch}: without segments ${fmt(base)} events/s, with 8 segments ${fmt(withSegments)} events/s ` +
        `→ ${fmt((withSegments / base) * 100, 1)} % of the baseline (${fmt((1 - withSegments / base) * 100, 1)} % slowdown; ` +
        `${fmt(1000 / withSegments - 1000 / base, 2)} ms more per event)`,
    );

    const resolve = () => undefined;
    // The exact count however long it takes (the product gives it EXACT_PREVIEW_MS, then
    // estimates), and the estimate from a random draw of ESTIMATE_SAMPLE customers.
    const unbounded = { timeoutMs: 3_600_000, exactMs: 3_600_000 };
    for (const [name, definition] of Object.entries(custom)) {
      const times: number[] = [];
      let count = 0;
      for (let i = 0; i < previews; i++) {
        const s = performance.now();
        count = (await previewSegment(env.ctx, ws, definition, resolve, unbounded)).count;
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      console.log(
        `preview "${name}": ${fmt(count)} customers, p50 ${fmt(percentile(times, 50), 1)} ms, p99 ${fmt(percentile(times, 99), 1)} ms`,
      );
      const est: number[] = [];
      const misses: string[] = [];
      let inRange = 0;
      for (let i = 0; i < previews; i++) {
        const s = performance.now();
        const p = await previewSegment(env.ctx, ws, definition, resolve, {
          timeoutMs: 3_600_000,
          estimate: "always",
        });
        est.push(performance.now() - s);
        const e = p.estimate!;
        if (e.low <= count && count <= e.high) inRange++;
        misses.push(`${fmt(p.count)} (${fmt(e.low)}–${fmt(e.high)}, ${fmt(e.sampled)} drawn)`);
      }
      est.sort((a, b) => a - b);
      console.log(
        `  estimated: p50 ${fmt(percentile(est, 50), 1)} ms, p99 ${fmt(percentile(est, 99), 1)} ms; exact count in the range ${inRange} of ${previews} times; ${misses.slice(0, 3).join(", ")}`,
      );
    }
    // Raw baseline for the first one: the aggregate written by hand, count only.
    const raw: number[] = [];
    let rawCount = 0;
    for (let i = 0; i < previews; i++) {
      const s = performance.now();
      const [r] = await env.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT "customerId" FROM "Event"
           WHERE "workspaceId" = $1 AND name = 'purchase' AND timestamp >= now() - interval '90 days'
           GROUP BY "customerId" HAVING count(*) >= 2) t`,
        [ws],
      );
      raw.push(performance.now() - s);
      rawCount = r?.n ?? 0;
    }
    raw.sort((a, b) => a - b);
    console.log(
      `raw count "≥ 2 purchase in the last 90 days": ${fmt(rawCount)}, p50 ${fmt(percentile(raw, 50), 1)} ms, p99 ${fmt(percentile(raw, 99), 1)} ms`,
    );

    // The daily sweep, a day later.
    const later: EngineContext = { ...env.ctx, now: () => Date.now() + DAY };
    t = performance.now();
    const daily = await sweepSegments(later, ws);
    console.log(
      `daily sweep (${daily.segments} segments, clock +24 h): ${fmt((performance.now() - t) / 1000, 1)} s, ${fmt(daily.entered)} entered, ${fmt(daily.left)} left`,
    );
  } finally {
    await env.close();
    console.log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
  }
}
