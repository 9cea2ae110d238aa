// issue 17, item 7: journey analytics at volume, and what keeping the rollups costs.
//
// 1. Step throughput with and without the transition's rollup rows (rollups.ts `rollupOptions`),
//    in pairs (off/on, then on/off: later rounds meet bigger tables) on fresh journeys of trigger → A/B split → attribute → exit,
//    one worker in this process; the cost is 1 − on/off of steps per second.
// 2. With --traces RunTrace rows (runs of one journey over 365 days) and --orders Order rows
//    loaded, and the journey's JourneyRollup rows (2 versions × 6 steps × variants × 365 days × 8
//    shards), p50/p99 of the analytics queries the page makes — analytics.steps
//    (journeyStepFigures) and analytics.daily over 30 and 365 days — against the raw baseline the
//    rollups replace: the same figures counted from the traces and orders (a scan per load).
// 3. The workspace KPI dashboard (kpis.workspace) over 30, 90 and 365 days from its rollups
//    (kpi-rollups.ts) against the raw statements (testing/kpi-recount.ts), for the --orders rows
//    above (every customer orders every 5th day) and as many again of --kpi-customers customers at
//    random times; and what the rollups add to an order batch.
//
//   pnpm bench analytics                                        # 200,000 traces, 20,000 orders, 5,000 runs
//   pnpm bench analytics --traces 10000000 --orders 1000000    # the issue's volume
//   pnpm bench analytics --runs 20000 --pairs 4 --reps 500 --raw-reps 10
import {
  compactRollups,
  enrolMany,
  insertOrders,
  journeyDailyFigures,
  rebuildKpiRollups,
  workspaceKpis,
  journeyStepFigures,
  rollupOptions,
  startWorkers,
} from "@postpath/engine";
import {
  arg,
  createCustomers,
  fmt,
  openBench,
  percentile,
  publish,
  type BenchEnv,
} from "./_engine.ts";
import { recountWorkspaceKpis } from "../packages/engine/src/testing/kpi-recount.ts";

const DAY_MS = 86_400_000;

async function stepThroughput(
  env: BenchEnv,
  runs: number,
  withRollups: boolean,
  customers: string[],
) {
  rollupOptions.transitions = withRollups;
  const { journeyId, versionId } = await publish(env, [
    { id: "t", type: "trigger.manual", next: "s" },
    {
      id: "s",
      type: "split.random",
      data: {
        variants: [
          { id: "a", percent: 45 },
          { id: "b", percent: 45 },
        ],
        holdout: 10,
      },
      next: { a: "a", b: "b", holdout: "x" },
    },
    { id: "a", type: "action.attribute", data: { set: { got_a: true } }, next: "x" },
    { id: "b", type: "action.attribute", data: { set: { got_b: true } }, next: "x" },
    { id: "x", type: "flow.exit" },
  ]);
  for (let i = 0; i < runs; i += 2000)
    await enrolMany(env.ctx, {
      workspaceId: env.workspaceId,
      journeyId,
      versionId,
      customerIds: customers.slice(i, Math.min(i + 2000, runs)),
      trigger: { eventId: "bench", name: "enrolled", properties: {}, timestamp: Date.now() },
    });
  const t0 = performance.now();
  const workers = startWorkers(env.ctx, {
    connection: env.redis,
    prefix: env.prefix,
    concurrency: 50,
    dateTriggerEveryMs: 0,
    sweepEveryMs: 0,
  });
  let lastDone = t0;
  workers.workers
    .find((w) => w.name === "runs")!
    .on("completed", () => (lastDone = performance.now()));
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const done = await env.db.prisma.journeyRun.count({
      where: { journeyId, status: { in: ["COMPLETED", "EXITED"] } },
    });
    if (done >= runs) break;
  }
  await workers.close();
  const ms = lastDone - t0;
  const [counted] = await env.db.query<{ steps: number }>(
    `SELECT COALESCE(sum(entered), 0)::int AS steps FROM "StepCounter" WHERE "versionId" = $1`,
    [versionId],
  );
  const [rolled] = await env.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "JourneyRollup" WHERE "versionId" = $1`,
    [versionId],
  );
  rollupOptions.transitions = true;
  return { stepsPerSecond: ((counted?.steps ?? 0) / ms) * 1000, rollupRows: rolled?.n ?? 0 };
}

async function timed(
  reps: number,
  fn: () => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  await fn(); // warm (plans, prepared statements, buffers)
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

export default async function main(args: string[]): Promise<void> {
  const runs = arg(args, "runs", 5000);
  const traces = arg(args, "traces", 200_000);
  const orders = arg(args, "orders", 20_000);
  const reps = arg(args, "reps", 200);
  const rawReps = arg(args, "raw-reps", 5);
  const pairs = arg(args, "pairs", 2);
  const env = await openBench();
  try {
    // --- 1. the cost of keeping the rollups -------------------------------------------------
    const customerCount = Math.max(runs, Math.ceil(traces / 50), 1000);
    await createCustomers(env, customerCount);
    const customers = (
      await env.db.query<{ id: string }>(
        `SELECT id FROM "Customer" WHERE "workspaceId" = $1 ORDER BY id`,
        [env.workspaceId],
      )
    ).map((c) => c.id);
    const rounds: { on: boolean; stepsPerSecond: number; rollupRows: number }[] = [];
    // A warm-up round, not counted (the first round ran at half speed: cold plans, caches, JIT).
    await stepThroughput(env, Math.min(runs, 1000), true, customers);
    for (let pair = 0; pair < pairs; pair++)
      for (const on of pair % 2 === 0 ? [false, true] : [true, false])
        rounds.push({ on, ...(await stepThroughput(env, runs, on, customers)) });
    const mean = (on: boolean) =>
      rounds.filter((r) => r.on === on).reduce((s, r) => s + r.stepsPerSecond, 0) / pairs;
    const off = mean(false);
    const on = mean(true);
    console.log(
      `analytics: step throughput, ${fmt(runs)} runs of trigger → A/B split → attribute → exit per round, one worker, concurrency 50`,
    );
    console.log(
      `  rounds (steps/s): ${rounds.map((r) => `${r.on ? "with" : "without"} ${fmt(r.stepsPerSecond)}${r.on ? ` (${fmt(r.rollupRows)} rollup rows)` : ""}`).join(", ")}`,
    );
    console.log(
      `  with rollups ${fmt(on)} steps/s vs without ${fmt(off)}: ${fmt((on / off) * 100, 1)}% — rollups cost ${fmt((1 - on / off) * 100, 1)}% of step throughput (goal ≤ 10%)`,
    );

    // --- 2. queries at volume ----------------------------------------------------------------
    const { journeyId, versionId: v1 } = await publish(env, [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "s" },
      {
        id: "s",
        type: "split.random",
        data: {
          variants: [
            { id: "a", percent: 45 },
            { id: "b", percent: 45 },
          ],
          holdout: 10,
        },
        next: { a: "ma", b: "mb", holdout: "w" },
      },
      {
        id: "ma",
        type: "action.email",
        data: { subject: "A", body: "A", format: "text" },
        next: "w",
      },
      {
        id: "mb",
        type: "action.email",
        data: { subject: "B", body: "B", format: "text" },
        next: "w",
      },
      { id: "w", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "m2" },
      {
        id: "m2",
        type: "action.email",
        data: { subject: "2", body: "2", format: "text" },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const v2row = await env.db.prisma.journeyVersion.findUniqueOrThrow({ where: { id: v1 } });
    const v2 = (
      await env.db.prisma.journeyVersion.create({
        data: {
          journeyId,
          workspaceId: env.workspaceId,
          version: 2,
          schemaVersion: v2row.schemaVersion,
          plan: v2row.plan as object,
          triggerType: v2row.triggerType,
          triggerEvent: v2row.triggerEvent,
        },
      })
    ).id;
    const today = Date.UTC(
      new Date().getUTCFullYear(),
      new Date().getUTCMonth(),
      new Date().getUTCDate(),
    );
    const loadStart = performance.now();
    const runRows = Math.ceil(traces / 5);
    await env.db.query(
      `INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber", status, "currentStepId", "startedAt", "updatedAt")
       SELECT 'br' || g, $1, $2, CASE WHEN g % 2 = 0 THEN $3 ELSE $4 END, 'c' || lpad((1 + g % $5)::text, 9, '0'), 1 + g / $5, 'COMPLETED', 'x',
              to_timestamp($6 / 1000.0 - (g % 365) * 86400) AT TIME ZONE 'UTC', now()
       FROM generate_series(0, $7 - 1) AS g`,
      [env.workspaceId, journeyId, v1, v2, customers.length, today, runRows],
    );
    // Five lines per run: entered, split, a message, the wait, the end (a converted line for 1 in 10).
    await env.db.query(
      `INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
       SELECT 'br' || (g / 5), (ARRAY['t', 's', 'ma', 'w', 'x'])[1 + g % 5],
              CASE WHEN g % 5 = 4 AND (g / 5) % 10 = 0 THEN 'converted' WHEN g % 5 = 2 THEN 'message.sent' ELSE 'branch' END,
              '{}'::jsonb, to_timestamp($1 / 1000.0 - ((g / 5) % 365) * 86400) AT TIME ZONE 'UTC'
       FROM generate_series(0, $2 - 1) AS g`,
      [today, traces],
    );
    await env.db.query(
      `INSERT INTO "Order" ("workspaceId", "orderId", "customerId", revenue, at, "eventId")
       SELECT $1, 'o' || g, 'c' || lpad((1 + g % $2)::text, 9, '0'), 10 + (g % 90), to_timestamp($3 / 1000.0 - (g % 365) * 86400) AT TIME ZONE 'UTC', 'e' || g
       FROM generate_series(0, $4 - 1) AS g`,
      [env.workspaceId, customers.length, today, orders],
    );
    // The KPI dashboard's rollups for those orders (the engine keeps them with each insert; the
    // seeded rows went around it, so they are counted the way the migration backfills them).
    const kpiStart = performance.now();
    await rebuildKpiRollups(env.db, env.workspaceId);
    const kpiRebuildMs = performance.now() - kpiStart;
    // The rollups such a journey has after a year: every (version, step, variant, day, shard).
    await env.db.query(
      `INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", entered, sent, delivered, opened, "openedUnique", clicked, "clickedUnique", converted, revenue)
       SELECT v, s.step, s.variant, ($1::date - d), sh, $2, 5, 4, 4, 3, 2, 2, 1, 1, 25.5
       FROM unnest($3::text[]) AS v,
            (VALUES ('t', ''), ('s', ''), ('ma', 'a'), ('mb', 'b'), ('w', 'a'), ('w', 'b'), ('w', 'holdout'),
                    ('m2', 'a'), ('m2', 'b'), ('m2', 'holdout'), ('x', 'a'), ('x', 'b'), ('x', 'holdout')) AS s(step, variant),
            generate_series(0, 364) AS d, generate_series(0, 7) AS sh`,
      [new Date(today).toISOString().slice(0, 10), journeyId, [v1, v2]],
    );
    await env.db.query(
      `VACUUM ANALYZE "JourneyRun", "RunTrace", "Order", "JourneyRollup", "KpiDay", "KpiBuyerDay", "KpiSecondOrder"`,
    );
    const [rollupRows] = await env.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "JourneyRollup" WHERE "journeyId" = $1`,
      [journeyId],
    );
    console.log(
      `analytics: queries with ${fmt(traces)} trace rows (${fmt(runRows)} runs), ${fmt(orders)} orders, ${fmt(rollupRows?.n ?? 0)} rollup rows for the journey (loaded in ${fmt((performance.now() - loadStart) / 1000, 1)} s)`,
    );
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const to = day(today);
    const measure = async () => ({
      steps: await timed(reps, () => journeyStepFigures(env.db, env.workspaceId, journeyId)),
      daily30: await timed(reps, () =>
        journeyDailyFigures(env.db, env.workspaceId, journeyId, {
          from: day(today - 29 * DAY_MS),
          to,
        }),
      ),
      daily365: await timed(reps, () =>
        journeyDailyFigures(env.db, env.workspaceId, journeyId, {
          from: day(today - 364 * DAY_MS),
          to,
        }),
      ),
    });
    const sharded = await measure();
    // The sweeper folds each finished day's shards into one row (compactRollups); a year of sweeps.
    const foldStart = performance.now();
    const folded = await compactRollups(env.ctx, { days: 400 });
    const foldMs = performance.now() - foldStart;
    await env.db.query(`VACUUM ANALYZE "JourneyRollup"`);
    const ours = await measure();
    // The raw baseline: the same figures from the rows they summarise, on each page load.
    const raw = {
      steps: await timed(rawReps, () =>
        env.db.query(
          `SELECT t."stepId", t.kind, count(*) FROM "RunTrace" t JOIN "JourneyRun" r ON r.id = t."runId"
           WHERE r."journeyId" = $1 GROUP BY 1, 2`,
          [journeyId],
        ),
      ),
      daily365: await timed(rawReps, () =>
        env.db.query(
          `WITH runs AS (SELECT id, "customerId" FROM "JourneyRun" WHERE "journeyId" = $1),
           t AS (SELECT t.at::date AS day, count(*) FILTER (WHERE t.kind = 'message.sent') AS sends,
                        count(*) FILTER (WHERE t.kind = 'converted') AS conversions
                 FROM "RunTrace" t JOIN runs r ON r.id = t."runId"
                 WHERE t.at >= $2::date GROUP BY 1),
           o AS (SELECT o.at::date AS day, sum(o.revenue) AS revenue FROM "Order" o
                 WHERE o."workspaceId" = $3 AND o.at >= $2::date
                   AND o."customerId" IN (SELECT "customerId" FROM runs) GROUP BY 1)
           SELECT * FROM t FULL JOIN o USING (day)`,
          [journeyId, day(today - 364 * DAY_MS), env.workspaceId],
        ),
      ),
    };
    const line = (
      name: string,
      r: { p50: number; p99: number },
      base?: { p50: number; p99: number },
    ) =>
      `    ${name}: p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms${base ? ` — raw scan p50 ${fmt(base.p50, 1)} ms, p99 ${fmt(base.p99, 1)} ms (raw/rollups p50: ${fmt(base.p50 / r.p50, 1)}×)` : ""}`;
    console.log(
      `  ${fmt(reps)} runs of each query (raw baseline: ${fmt(rawReps)}); goal p99 ≤ 100 ms`,
    );
    console.log(`  rollups as written (8 shards per day):`);
    console.log(line("analytics.steps", sharded.steps));
    console.log(line("analytics.daily, 30 days", sharded.daily30));
    console.log(line("analytics.daily, 365 days", sharded.daily365));
    console.log(
      `  after the sweeper's compaction (${fmt(folded)} rows folded in ${fmt(foldMs / 1000, 1)} s):`,
    );
    console.log(
      line("analytics.steps (per version and step, all versions)", ours.steps, raw.steps),
    );
    console.log(line("analytics.daily, 30 days", ours.daily30));
    console.log(line("analytics.daily, 365 days", ours.daily365, raw.daily365));
    // The workspace KPI dashboard (kpis.workspace): reads the KPI rollups (kpi-rollups.ts), against
    // the raw statements it ran before them (the same figures from the Order and Attribution rows).
    const dashboard = async (workspaceId: string, what: string, rebuildMs: number) => {
      const [rows] = await env.db.query<{ days: number; buyerDays: number; seconds: number }>(
        `SELECT (SELECT count(*) FROM "KpiDay" WHERE "workspaceId" = $1)::int AS days,
                (SELECT count(*) FROM "KpiBuyerDay" WHERE "workspaceId" = $1)::int AS "buyerDays",
                (SELECT count(*) FROM "KpiSecondOrder" WHERE "workspaceId" = $1)::int AS seconds`,
        [workspaceId],
      );
      console.log(
        `  KPI dashboard, ${what}; rollups ${fmt(rows?.days ?? 0)} day, ${fmt(rows?.buyerDays ?? 0)} buyer-day and ${fmt(rows?.seconds ?? 0)} second-order rows, backfilled in ${fmt(rebuildMs / 1000, 1)} s:`,
      );
      // Ranges ending today (the dashboard's), and one ending half a year ago: the rollups are
      // read from the range's end to the latest day, or across the range, whichever is fewer days.
      const ranges: [string, { from: string; to: string }][] = [30, 90, 365].map((days) => [
        `${days} days`,
        { from: day(today - (days - 1) * DAY_MS), to },
      ]);
      ranges.push([
        "90 days ending 182 days ago",
        { from: day(today - 271 * DAY_MS), to: day(today - 182 * DAY_MS) },
      ]);
      for (const [name, range] of ranges) {
        const fromRollups = await timed(reps, () => workspaceKpis(env.db, workspaceId, range));
        const rawScan = await timed(rawReps, () =>
          recountWorkspaceKpis(env.db, workspaceId, range),
        );
        const same =
          JSON.stringify(await workspaceKpis(env.db, workspaceId, range)) ===
          JSON.stringify(await recountWorkspaceKpis(env.db, workspaceId, range));
        console.log(
          `${line(`kpis.workspace, ${name}`, fromRollups, rawScan)}; figures equal to the raw count: ${same ? "yes" : "NO"}`,
        );
      }
    };
    await dashboard(
      env.workspaceId,
      `${fmt(orders)} orders over 365 days, ${fmt(customers.length)} customers each ordering every 5th day`,
      kpiRebuildMs,
    );
    // The same number of orders of --kpi-customers customers on random days and times (so the
    // buyer-day and second-order rollups get every gap between order-days), 5 % attributed.
    const kpiCustomers = arg(args, "kpi-customers", Math.max(1000, Math.floor(orders / 10)));
    const randomWs = `${env.workspaceId}-kpi-random`;
    await env.db.query(`SELECT setseed(0.17)`);
    await env.db.query(
      `INSERT INTO "Order" ("workspaceId", "orderId", "customerId", revenue, at, "eventId")
       SELECT $1, 'r' || g, 'k' || floor(random() * $2)::int, round((1 + random() * 499)::numeric, 2),
              to_timestamp($3 / 1000.0 - random() * 365 * 86400) AT TIME ZONE 'UTC', 'e' || g
       FROM generate_series(1, $4) AS g`,
      [randomWs, kpiCustomers, today + DAY_MS - 1, orders],
    );
    await env.db.query(
      `INSERT INTO "Attribution" ("runId", "workspaceId", "journeyId", "versionId", "customerId", "stepId", "eventId", "orderId", basis, at)
       SELECT 'kr' || g, $1, 'j', 'v', 'c', 's', 'e', 'r' || g, 'message', now() FROM generate_series(1, $2, 20) AS g`,
      [randomWs, orders],
    );
    const randomStart = performance.now();
    await rebuildKpiRollups(env.db, randomWs);
    const randomRebuildMs = performance.now() - randomStart;
    await env.db.query(
      `VACUUM ANALYZE "Order", "Attribution", "KpiDay", "KpiBuyerDay", "KpiSecondOrder"`,
    );
    await dashboard(
      randomWs,
      `${fmt(orders)} orders of ${fmt(kpiCustomers)} customers at random times over 365 days`,
      randomRebuildMs,
    );
    // What keeping them costs an order batch: batches of 20 orders of random customers (today),
    // with the rollups (lock the customers, insert, update the rollups: one transaction) against
    // the plain insert the engine made before; alternating, 200 batches each.
    const batches = 200;
    const batchMs = { plain: [] as number[], rollups: [] as number[] };
    let seq = 0;
    const batch = () =>
      Array.from({ length: 20 }, () => {
        seq++;
        return {
          orderId: `bench-${Date.now()}-${seq}`,
          customerId: customers[Math.floor(Math.random() * customers.length)]!,
          revenue: 10 + (seq % 90),
          ts: Date.now(),
          eventId: `bench-e-${seq}`,
        };
      });
    for (let i = 0; i < batches * 2; i++) {
      const b = batch();
      const t = performance.now();
      if (i % 2 === 0) await insertOrders(env.ctx, env.workspaceId, b);
      else
        await env.db.query(
          `INSERT INTO "Order" ("workspaceId", "orderId", "customerId", revenue, at, "eventId")
           SELECT $1, o, c, r, to_timestamp(t / 1000) AT TIME ZONE 'UTC', e
           FROM unnest($2::text[], $3::text[], $4::numeric[], $5::float8[], $6::text[]) AS x(o, c, r, t, e)
           ORDER BY o ON CONFLICT ("workspaceId", "orderId") DO NOTHING`,
          [
            `${env.workspaceId}-plain`, // another workspace: these bypass the rollups
            b.map((o) => o.orderId),
            b.map((o) => o.customerId),
            b.map((o) => o.revenue),
            b.map((o) => o.ts),
            b.map((o) => o.eventId),
          ],
        );
      (i % 2 === 0 ? batchMs.rollups : batchMs.plain).push(performance.now() - t);
    }
    const p = (ms: number[]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      return `p50 ${fmt(percentile(sorted, 50), 2)} ms, p99 ${fmt(percentile(sorted, 99), 2)} ms`;
    };
    console.log(
      `    a batch of 20 orders: with the KPI rollups ${p(batchMs.rollups)}; plain insert ${p(batchMs.plain)}`,
    );
  } finally {
    rollupOptions.transitions = true;
    await env.close();
  }
}
