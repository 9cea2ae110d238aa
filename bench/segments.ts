// Segments (issue 16, item 2): N customers and E events (generate_series, spread over 400 days:
// 70 % page_view, 20 % purchase with a revenue, 10 % add_to_cart), then in one run:
//   1. the five lifecycle stages and three custom segments saved; the first sweep (whole
//      workspace, every segment with a moving window) — the time to populate membership;
//   2. event processing throughput (processEventBatch, batches of --batch new events for random
//      customers, as ingest's group commit hands them over) with no saved segments — the
//      baseline — and with the eight segments (the incremental membership refresh), in turns of
//      --turn batches that alternate (without, with, with, without, …) so that both see the same
//      load on a shared machine; the cost per event printed as a ratio of the baseline's
//      throughput, over all turns and per pair of turns;
//   4. size preview (count + 20 sample, the product's previewSegment) p50/p99 per custom segment,
//      exact (however long it takes) and estimated from a random draw (what the product shows
//      when the exact count takes over EXACT_PREVIEW_MS), against a raw hand-written aggregate
//      for the same count in the same run;
//   5. the daily sweep a day later (the clock moved 24 h; customers leave windows).
//   pnpm bench segments [--customers 100000] [--events 2000000] [--batches 200] [--turn 20] [--batch 100] [--previews 15]
// The target: 1,000,000 customers and 20,000,000 events (pass them; takes long to seed).
import { loadavg } from "node:os";
import type { SegmentDefinition } from "@postpath/journey";
import { DEFAULT_LIFECYCLE } from "@postpath/journey";
import type { EngineContext } from "@postpath/engine";
import {
  forgetSegments,
  previewSegment,
  processEventBatch,
  refreshSegmentsForEvents,
  saveLifecycle,
  sweepSegments,
} from "@postpath/engine";
import { arg, fmt, openBench, percentile, type BenchEnv } from "./_engine.ts";

const DAY = 86_400_000;

export async function seed(env: BenchEnv, customers: number, events: number): Promise<void> {
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

/**
 * Processes `batches` batches of `size` new events for random customers (a quarter purchases)
 * with `process`; the milliseconds spent in it.
 */
export async function processing(
  env: BenchEnv,
  customers: number,
  batches: number,
  size: number,
  tag: string,
  process: (ctx: EngineContext, ids: string[]) => Promise<unknown> = processEventBatch,
  /** Gets the events made (who and what), if given. */
  made?: { workspaceId: string; customerId: string; name: string }[],
): Promise<number> {
  let ms = 0;
  for (let b = 0; b < batches; b++) {
    const ids = await env.db.query<{ id: string; customerId: string; name: string }>(
      `INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId")
       SELECT $1 || g, $2, 'c' || lpad((1 + floor(random() * $3))::int::text, 9, '0'),
              CASE WHEN g % 4 = 0 THEN 'purchase' ELSE 'page_view' END,
              CASE WHEN g % 4 = 0 THEN jsonb_build_object('revenue', 50) ELSE '{}'::jsonb END,
              now(), $1 || g
       FROM generate_series(1, $4::int) AS g RETURNING id, "customerId", name`,
      [`${tag}-${b}-`, env.workspaceId, customers, size],
    );
    if (made)
      for (const r of ids)
        made.push({ workspaceId: env.workspaceId, customerId: r.customerId, name: r.name });
    const t = performance.now();
    await process(
      env.ctx,
      ids.map((r) => r.id),
    );
    ms += performance.now() - t;
  }
  return ms;
}

/** One way of processing the batches, measured in turns against the others. */
export interface Arm {
  name: string;
  /** Whether the workspace has its saved segments while this arm runs. */
  segments: boolean;
  process?: (ctx: EngineContext, ids: string[]) => Promise<unknown>;
}

/**
 * The arms in turns of `turn` batches, the order rotating each round (with two arms: A B, B A,
 * A B, …), until each arm has processed `batches` batches; the segments are "removed" for an arm
 * without them by parking them in another workspace (their memberships stay). Total ms per arm,
 * and per round.
 */
export async function alternate(
  env: BenchEnv,
  arms: readonly Arm[],
  opts: {
    customers: number;
    batches: number;
    turn: number;
    size: number;
    forget: (workspaceId: string) => void;
    /** Names this call's events (ids are the tag, the arm, the round and the batch). */
    tag: string;
  },
): Promise<{ total: number[]; rounds: number[][] }> {
  const parking = await env.db.prisma.workspace.create({
    data: { name: "Parked segments", slug: `parked-${Date.now()}` },
  });
  const place = async (on: boolean) => {
    await env.db.query(`UPDATE "Segment" SET "workspaceId" = $1 WHERE "workspaceId" = $2`, [
      on ? env.workspaceId : parking.id,
      on ? parking.id : env.workspaceId,
    ]);
    opts.forget(env.workspaceId);
  };
  const total = arms.map(() => 0);
  const rounds: number[][] = [];
  // The events processed while the segments were parked: their memberships are brought up to
  // date afterwards (not timed), so the sweeps and previews that follow start as without turns.
  const parked: { workspaceId: string; customerId: string; name: string }[] = [];
  const n = Math.max(1, Math.ceil(opts.batches / opts.turn));
  for (let r = 0; r < n; r++) {
    const batches = Math.min(opts.turn, opts.batches - r * opts.turn);
    const round = arms.map(() => 0);
    const order = arms.map((_, i) => i);
    // Rotated, and reversed every other cycle (two arms: A B, B A, B A, A B, …): each arm comes
    // first and last as often, so a trend in the machine's load weighs on all alike.
    for (let k = 0; k < r % arms.length; k++) order.push(order.shift()!);
    if (Math.floor(r / arms.length) % 2 === 1) order.reverse();
    for (const i of order) {
      const arm = arms[i]!;
      await place(arm.segments);
      const ms = await processing(
        env,
        opts.customers,
        batches,
        opts.size,
        `${opts.tag}-${arm.name}-${r}`,
        arm.process,
        arm.segments ? undefined : parked,
      );
      round[i] = ms;
      total[i] = (total[i] ?? 0) + ms;
    }
    rounds.push(round);
  }
  await place(true);
  for (let at = 0; at < parked.length; at += 1000)
    await refreshSegmentsForEvents(env.ctx, parked.slice(at, at + 1000));
  return { total, rounds };
}

/** The three custom segments (the lifecycle stages are the other five). */
export const CUSTOM_SEGMENTS: Record<string, SegmentDefinition> = {
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

/** The custom segments and the five lifecycle stages, saved in the bench's workspace. */
export async function saveSegments(env: BenchEnv): Promise<void> {
  for (const [name, definition] of Object.entries(CUSTOM_SEGMENTS))
    await env.db.prisma.segment.create({
      data: {
        workspaceId: env.workspaceId,
        name,
        definition: JSON.parse(JSON.stringify(definition)) as object,
      },
    });
  await saveLifecycle(env.ctx, env.workspaceId, DEFAULT_LIFECYCLE);
  forgetSegments(env.workspaceId);
}

/**
 * Warms every arm up (5 batches), measures them in alternating turns and prints each arm's
 * throughput against the first (the baseline): over all turns, and the median and range of the
 * per-round ratios.
 */
export async function measureArms(
  env: BenchEnv,
  arms: readonly Arm[],
  opts: {
    customers: number;
    batches: number;
    turn: number;
    size: number;
    forget: (workspaceId: string) => void;
  },
): Promise<void> {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  await alternate(env, arms, { ...opts, batches: 5, turn: 5, tag: "warm" });
  console.log(`event processing: load average before ${load()}`);
  const { total, rounds } = await alternate(env, arms, { ...opts, tag: "run" });
  const rate = (ms: number, batches: number) => (batches * opts.size) / (ms / 1000);
  const base = rate(total[0]!, opts.batches);
  console.log(
    `event processing, ${fmt(opts.batches)} batches of ${opts.size} per arm in turns of ${opts.turn} (load average after ${load()}):`,
  );
  for (const [i, arm] of arms.entries()) {
    const r = rate(total[i]!, opts.batches);
    if (i === 0) {
      console.log(`  ${arm.name}: ${fmt(r)} events/s`);
      continue;
    }
    // Per round: this arm's time against the baseline's in the same round.
    const slow = rounds.map((x) => (1 - x[0]! / x[i]!) * 100).sort((a, b) => a - b);
    console.log(
      `  ${arm.name}: ${fmt(r)} events/s → ${fmt((r / base) * 100, 1)} % of the baseline ` +
        `(${fmt((1 - r / base) * 100, 1)} % slowdown, ${fmt(1000 / r - 1000 / base, 3)} ms more per event); ` +
        `per round: median ${fmt(percentile(slow, 50), 1)} %, ${fmt(slow[0]!, 1)}–${fmt(slow[slow.length - 1]!, 1)} %`,
    );
  }
}

export default async function main(args: string[]): Promise<void> {
  const customers = arg(args, "customers", 100_000);
  const events = arg(args, "events", 2_000_000);
  const batches = arg(args, "batches", 200);
  const turn = arg(args, "turn", 20);
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

    await saveSegments(env);
    t = performance.now();
    const first = await sweepSegments(env.ctx, ws);
    const firstS = (performance.now() - t) / 1000;
    console.log(
      `first sweep (populate ${first.segments} segments): ${fmt(firstS, 1)} s, ${fmt(first.entered)} memberships`,
    );

    const arms: Arm[] = [
      { name: "without", segments: false },
      { name: "with", segments: true },
    ];
    await measureArms(env, arms, { customers, batches, turn, size: batch, forget: forgetSegments });

    const resolve = () => undefined;
    // The exact count however long it takes (the product gives it EXACT_PREVIEW_MS, then
    // estimates), and the estimate from a random draw of ESTIMATE_SAMPLE customers.
    const unbounded = { timeoutMs: 3_600_000, exactMs: 3_600_000 };
    for (const [name, definition] of Object.entries(CUSTOM_SEGMENTS)) {
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
