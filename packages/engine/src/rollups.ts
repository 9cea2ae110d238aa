// issue 17, item 7: the analytics rollups — per (journey version, step, A/B variant, UTC day)
// counters, written by the engine in the statement that changes them: a run's transition
// (entered, store.ts), a send's record (sent, delivered, failed, sends.ts), an open or a click
// (engagement.ts), an attribution (converted, revenue, attribution.ts). The analytics page sums
// them (analytics.ts) instead of scanning traces, messages and events.
//
// The variant of a row: the arm of the nearest random split that every path from the trigger to
// the step goes through (its dominator), the same arm the split gives the run (a pure hash of run
// and split); "" for steps not behind a random split (and for the split itself).
import type { Prisma } from "@postpath/db";
import { pickVariant, randomBucket, SplitRandomConfig, type Plan } from "@postpath/journey";
import type { EngineContext } from "./context.ts";
import type { Counters } from "./counters.ts";
import { takeShard } from "./counters.ts";

export interface RollupDelta {
  entered?: number;
  sent?: number;
  delivered?: number;
  failed?: number;
  opened?: number;
  openedUnique?: number;
  clicked?: number;
  clickedUnique?: number;
  converted?: number;
  revenue?: number;
  /** issue 18: a run moved here on publish / moved away from here to a newer version. */
  movedIn?: number;
  movedOut?: number;
}

/** What a transition adds: one row per step a run entered. */
export interface RollupRow {
  step: string;
  variant: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  entered: number;
}

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Per step: the nearest random split every path from the trigger to it goes through. */
const dominators = new WeakMap<Plan, Map<string, { splitId: string; config: SplitRandomConfig }>>();

function splitsOf(plan: Plan): Map<string, { splitId: string; config: SplitRandomConfig }> {
  const cached = dominators.get(plan);
  if (cached) return cached;
  const out = new Map<string, { splitId: string; config: SplitRandomConfig; size: number }>();
  const steps = plan.steps;
  const reach = (without: string | null): Set<string> => {
    const seen = new Set<string>();
    const queue = [plan.triggerStepId];
    while (queue.length > 0) {
      const id = queue.pop()!;
      if (id === without || seen.has(id) || !steps[id]) continue;
      seen.add(id);
      for (const n of Object.values(steps[id].next ?? {})) if (n) queue.push(n);
    }
    return seen;
  };
  const all = reach(null);
  for (const step of Object.values(steps)) {
    if (step.type !== "split.random" || !all.has(step.id)) continue;
    const parsed = SplitRandomConfig.safeParse(step.config);
    if (!parsed.success) continue;
    const without = reach(step.id);
    const behind = [...all].filter((id) => id !== step.id && !without.has(id));
    for (const id of behind) {
      const prev = out.get(id);
      // Nested splits: the nearer one dominates fewer steps.
      if (!prev || behind.length < prev.size)
        out.set(id, { splitId: step.id, config: parsed.data, size: behind.length });
    }
  }
  const result = new Map([...out].map(([id, v]) => [id, { splitId: v.splitId, config: v.config }]));
  dominators.set(plan, result);
  return result;
}

/** The run's A/B variant at a step ("" when the step is not behind a random split). */
export function variantAt(plan: Plan | null, runId: string, stepId: string): string {
  if (!plan) return "";
  const split = splitsOf(plan).get(stepId);
  return split ? pickVariant(split.config, randomBucket(runId, split.splitId)) : "";
}

/**
 * bench/analytics only: `transitions: false` leaves the transition's rollup rows out, to measure
 * step throughput with and without them in one run. Never turned off by the product.
 */
export const rollupOptions = { transitions: true };

/** The rollup rows of one transition: the steps it entered (StepCounter's `entered`). */
export function enteredRollups(
  plan: Plan,
  runId: string,
  counters: Counters,
  now: number,
): RollupRow[] {
  if (!rollupOptions.transitions) return [];
  const day = utcDay(now);
  const rows: RollupRow[] = [];
  for (const [step, d] of counters)
    if (d.entered > 0)
      rows.push({ step, variant: variantAt(plan, runId, step), day, entered: d.entered });
  return rows;
}

const FIELDS = [
  "entered",
  "sent",
  "delivered",
  "failed",
  "opened",
  "openedUnique",
  "clicked",
  "clickedUnique",
  "converted",
  "movedIn",
  "movedOut",
  "revenue", // last: the one numeric column (bumpRollup's casts)
] as const;

/** The upsert's SET list: every counter added to. */
export const ROLLUP_ADD = FIELDS.map(
  (f) => `"${f}" = "JourneyRollup"."${f}" + EXCLUDED."${f}"`,
).join(", ");

/** Adds one delta to one (version, step, variant, day) row in the caller's transaction. */
export async function bumpRollup(
  tx: Prisma.TransactionClient,
  key: { versionId: string; journeyId: string; stepId: string; variant: string; day: string },
  delta: RollupDelta,
): Promise<void> {
  const values = FIELDS.map((f) => delta[f] ?? 0);
  await tx.$executeRawUnsafe(
    `INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", ${FIELDS.map((f) => `"${f}"`).join(", ")})
     VALUES ($1, $2, $3, $4::date, $5, $6, ${FIELDS.map((_, i) => `$${i + 7}${i === FIELDS.length - 1 ? "::numeric" : "::int"}`).join(", ")})
     ON CONFLICT ("versionId", "stepId", variant, day, shard) DO UPDATE SET ${ROLLUP_ADD}`,
    key.versionId,
    key.stepId,
    key.variant,
    key.day,
    takeShard(),
    key.journeyId,
    ...values,
  );
}

/**
 * Folds the shards of days that are over (before today, UTC) into shard 0: sharding only spares
 * concurrent writers of today's rows, and a year of a journey's rollups is then one row per
 * (version, step, variant, day) for the analytics page to sum instead of up to eight. One
 * statement per journey, each an index range (journeyId, day) over the last `days` days; a late
 * write to an older day (an order dated back) stays on its shard and is summed all the same.
 * Called by the sweeper; returns the rows folded away.
 */
export async function compactRollups(
  ctx: EngineContext,
  opts: { days?: number } = {},
): Promise<number> {
  const today = utcDay(ctx.now());
  const journeys = await ctx.db.query<{ id: string }>(
    `SELECT id FROM "Journey" WHERE status <> 'ARCHIVED'`,
  );
  const cols = FIELDS.map((f) => `"${f}"`).join(", ");
  let folded = 0;
  for (const j of journeys) {
    const [row] = await ctx.db.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM "JourneyRollup"
         WHERE "journeyId" = $1 AND day >= $2::date - $3::int AND day < $2::date AND shard <> 0
         RETURNING *
       ), kept AS (
         INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", ${cols})
         SELECT "versionId", "stepId", variant, day, 0, min("journeyId"), ${FIELDS.map((f) => `sum("${f}")`).join(", ")}
         FROM gone GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
         ON CONFLICT ("versionId", "stepId", variant, day, shard) DO UPDATE SET ${ROLLUP_ADD}
       )
       SELECT count(*)::int AS n FROM gone`,
      [j.id, today, opts.days ?? 3],
    );
    folded += row?.n ?? 0;
  }
  return folded;
}

/**
 * issue 18: SQL for the version that sent message `m` of run `r` (table aliases): the version the
 * run's first move after the send came from, else the run's own — a message is sent before its
 * run can move (move.ts), so its opens, clicks and conversions count where it was sent.
 */
export const sentOnVersionSql = (m: string, r: string) => `COALESCE((
  SELECT mv.detail->>'fromVersionId' FROM "RunTrace" mv
  WHERE mv."runId" = ${m}."runId" AND mv.kind = 'run.moved' AND mv.detail ? 'fromVersionId'
    AND mv.id > (SELECT min(s.id) FROM "RunTrace" s WHERE s."runId" = ${m}."runId"
                 AND s.kind = 'message.sent' AND s.detail->>'messageId' = ${m}.id)
  ORDER BY mv.id LIMIT 1), ${r}."versionId")`;
