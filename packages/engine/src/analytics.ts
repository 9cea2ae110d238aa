// issue 17, item 4: the figures of a journey's analytics page, counted in Postgres.
//
// `journeyStepFigures`: per version and step, the StepCounter rollups (summed over shards) —
// entered, sent, failed, converted, moved in / out (issue 18: runs moved between versions) — and
// the runs waiting at the step now (JourneyRun by version/status/step, an index-only scan), with
// the step's name as drawn and its kind. "All versions" adds the versions up per step (a step
// keeps its id across republishing).
//
// issue 17, item 7: with them, from the JourneyRollup rows the engine keeps (rollups.ts): delivered,
// opened and clicked (total and unique), attributed conversions and their revenue (attribution.ts),
// per step and per A/B variant.
//
// `journeyDailyFigures`: per day (UTC) of a range, from the rollups: entries (runs that entered the
// trigger), sends (messages sent), conversions (attributed, one per run) and their revenue (each
// order id once), on the day of the conversion. No scan of traces, messages or events.
import type { Database } from "@postpath/db";
import { registry, type Plan, type StepType } from "@postpath/journey";
import { ATTRIBUTION_RULE } from "./attribution.ts";

/** issue 17: the engagement and attribution figures of a step (or a variant of it). */
export interface EngagementFigures {
  delivered: number;
  opened: number;
  uniqueOpens: number;
  clicked: number;
  uniqueClicks: number;
  /** Attributed conversions (one per run; see ATTRIBUTION_RULE). */
  conversions: number;
  revenue: number;
}

export interface VariantFigures extends EngagementFigures {
  /** The A/B arm ("a", "b", "holdout"). */
  variant: string;
  entered: number;
  sent: number;
  failed: number;
}

export interface StepFigures {
  stepId: string;
  /** The step's name as drawn: its label, else its kind ("Send email"). */
  name: string;
  /** The kind of step in words ("Send email", "Wait"). */
  kind: string;
  type: string;
  /** Runs that arrived at the step on this version (a run moved here on publish is not one). */
  entered: number;
  waitingNow: number;
  sent: number;
  failed: number;
  converted: number;
  /**
   * issue 18: runs moved here from an earlier version's step when this version was published, and
   * runs moved away from here to a newer one (counted on neither version's `entered`/`completed`):
   * the old version's figures keep what happened on it, the new one's add the moved-in runs, and
   * "all versions" counts every run once.
   */
  movedIn: number;
  movedOut: number;
  /** issue 17: from the rollups. */
  delivered: number;
  opened: number;
  uniqueOpens: number;
  clicked: number;
  uniqueClicks: number;
  conversions: number;
  revenue: number;
  /** Revenue per recipient: revenue / entered (0 when nobody entered). */
  revenuePerRecipient: number;
  /** Per A/B variant, for steps behind a random split (empty otherwise). */
  variants: VariantFigures[];
}

export interface VersionStepFigures {
  versionId: string;
  version: number;
  status: string;
  publishedAt: Date;
  steps: StepFigures[];
}

export interface JourneyStepFigures {
  versions: VersionStepFigures[];
  /** Every version added up per step, in the order of the newest version's steps. */
  all: StepFigures[];
  /** issue 17: how conversions and revenue are attributed, in words (shown with the figures). */
  rule: string;
}

export interface DayFigures {
  /** YYYY-MM-DD (UTC). */
  day: string;
  entries: number;
  sends: number;
  conversions: number;
  revenue: number;
}

function kindOf(type: string): string {
  return (
    (registry as Partial<Record<StepType, { label: string }>>)[type as StepType]?.label ?? "Step"
  );
}

/** The plan's steps from the trigger along the branches (breadth first), then any left over. */
function orderedSteps(
  plan: Partial<Plan> | null,
  document: unknown,
): { id: string; name: string; type: string }[] {
  // Names live in the published canvas document (node data `label`); plans keep none.
  const drawn = new Map<string, string>();
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (Array.isArray(nodes))
    for (const n of nodes as { id?: unknown; data?: { label?: unknown } }[]) {
      const label = n?.data?.label;
      if (typeof n?.id === "string" && typeof label === "string" && label.trim())
        drawn.set(n.id, label.trim());
    }
  const steps = plan?.steps && typeof plan.steps === "object" ? plan.steps : {};
  const order: string[] = [];
  const seen = new Set<string>();
  const queue = plan?.triggerStepId ? [plan.triggerStepId] : [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id) || !steps[id]) continue;
    seen.add(id);
    order.push(id);
    for (const n of Object.values(steps[id].next ?? {})) if (n) queue.push(n);
  }
  for (const id of Object.keys(steps)) if (!seen.has(id)) order.push(id);
  return order.map((id) => {
    const step = steps[id]!;
    const label = (step.config as { label?: unknown } | null)?.label;
    const kind = kindOf(step.type);
    return {
      id,
      type: step.type,
      name: drawn.get(id) ?? (typeof label === "string" && label.trim() ? label.trim() : kind),
    };
  });
}

/** Per-step figures of every version (or one); null: no such journey (or version) here. */
export async function journeyStepFigures(
  db: Database,
  workspaceId: string,
  journeyId: string,
  versionId?: string,
): Promise<JourneyStepFigures | null> {
  const journey = await db.prisma.journey.findFirst({
    where: { id: journeyId, workspaceId },
    select: { id: true },
  });
  if (!journey) return null;
  const versions = await db.prisma.journeyVersion.findMany({
    where: versionId ? { journeyId, id: versionId } : { journeyId },
    select: {
      id: true,
      version: true,
      status: true,
      plan: true,
      document: true,
      publishedAt: true,
    },
    orderBy: { version: "desc" },
  });
  if (versionId && versions.length === 0) return null;
  const ids = versions.map((v) => v.id);
  const [counters, waiting, rolled] = await Promise.all([
    db.query<{
      versionId: string;
      stepId: string;
      entered: number;
      sent: number;
      failed: number;
      converted: number;
      movedIn: number;
      movedOut: number;
    }>(
      `SELECT "versionId", "stepId", sum(entered)::int AS entered, sum(sent)::int AS sent,
              sum(failed)::int AS failed, sum(converted)::int AS converted,
              sum("movedIn")::int AS "movedIn", sum("movedOut")::int AS "movedOut"
       FROM "StepCounter" WHERE "journeyId" = $1 AND "versionId" = ANY($2::text[])
       GROUP BY 1, 2`,
      [journeyId, ids],
    ),
    db.query<{ versionId: string; stepId: string; n: number }>(
      `SELECT "versionId", "currentStepId" AS "stepId", count(*)::int AS n
       FROM "JourneyRun" WHERE "versionId" = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING')
         AND "currentStepId" IS NOT NULL
       GROUP BY 1, 2`,
      [ids],
    ),
    db.query<VariantFigures & { versionId: string; stepId: string }>(
      `SELECT "versionId", "stepId", variant, sum(entered)::int AS entered, sum(sent)::int AS sent,
              sum(failed)::int AS failed, sum(delivered)::int AS delivered, sum(opened)::int AS opened,
              sum("openedUnique")::int AS "uniqueOpens", sum(clicked)::int AS clicked,
              sum("clickedUnique")::int AS "uniqueClicks", sum(converted)::int AS conversions,
              sum(revenue)::float8 AS revenue
       FROM "JourneyRollup" WHERE "journeyId" = $1 AND "versionId" = ANY($2::text[])
       GROUP BY 1, 2, 3`,
      [journeyId, ids],
    ),
  ]);
  const key = (v: string, s: string) => `${v}\u0000${s}`;
  const rolledAt = new Map<string, (VariantFigures & { versionId: string; stepId: string })[]>();
  for (const r of rolled) {
    const k = key(r.versionId, r.stepId);
    rolledAt.set(k, [...(rolledAt.get(k) ?? []), r]);
  }
  const counted = new Map(counters.map((c) => [key(c.versionId, c.stepId), c]));
  const waitingAt = new Map(waiting.map((w) => [key(w.versionId, w.stepId), w.n]));

  const out: VersionStepFigures[] = versions.map((v) => {
    const drawn = orderedSteps(v.plan as Partial<Plan> | null, v.document);
    // Counters of steps the plan no longer names (should not happen) still show, by id.
    const named = new Set(drawn.map((d) => d.id));
    for (const c of counters)
      if (c.versionId === v.id && !named.has(c.stepId))
        drawn.push({ id: c.stepId, name: "A removed step", type: "" });
    return {
      versionId: v.id,
      version: v.version,
      status: v.status,
      publishedAt: v.publishedAt,
      steps: drawn.map((d) => {
        const c = counted.get(key(v.id, d.id));
        return {
          stepId: d.id,
          name: d.name,
          kind: d.type ? kindOf(d.type) : "Step",
          type: d.type,
          entered: c?.entered ?? 0,
          waitingNow: waitingAt.get(key(v.id, d.id)) ?? 0,
          sent: c?.sent ?? 0,
          failed: c?.failed ?? 0,
          converted: c?.converted ?? 0,
          movedIn: c?.movedIn ?? 0,
          movedOut: c?.movedOut ?? 0,
          ...engagement(rolledAt.get(key(v.id, d.id)) ?? [], c?.entered ?? 0),
        };
      }),
    };
  });

  const all = new Map<string, StepFigures>();
  for (const v of out)
    for (const s of v.steps) {
      const a = all.get(s.stepId);
      if (!a) all.set(s.stepId, { ...s, variants: s.variants.map((v) => ({ ...v })) });
      else {
        a.entered += s.entered;
        a.waitingNow += s.waitingNow;
        a.sent += s.sent;
        a.failed += s.failed;
        a.converted += s.converted;
        a.movedIn += s.movedIn;
        a.movedOut += s.movedOut;
        for (const f of ENGAGEMENT) a[f] += s[f];
        a.variants = addVariants(a.variants, s.variants);
        a.revenuePerRecipient = a.entered > 0 ? a.revenue / a.entered : 0;
      }
    }
  return { versions: out, all: [...all.values()], rule: ATTRIBUTION_RULE };
}

const ENGAGEMENT = [
  "delivered",
  "opened",
  "uniqueOpens",
  "clicked",
  "uniqueClicks",
  "conversions",
  "revenue",
] as const;

/** A step's rollup rows (one per variant) as its figures, with the variants listed. */
function engagement(rows: VariantFigures[], entered: number) {
  const total: EngagementFigures = {
    delivered: 0,
    opened: 0,
    uniqueOpens: 0,
    clicked: 0,
    uniqueClicks: 0,
    conversions: 0,
    revenue: 0,
  };
  for (const r of rows) for (const f of ENGAGEMENT) total[f] += r[f];
  return {
    ...total,
    revenuePerRecipient: entered > 0 ? total.revenue / entered : 0,
    variants: rows
      .filter((r) => r.variant !== "")
      .map((r) => ({
        variant: r.variant,
        entered: r.entered,
        sent: r.sent,
        failed: r.failed,
        delivered: r.delivered,
        opened: r.opened,
        uniqueOpens: r.uniqueOpens,
        clicked: r.clicked,
        uniqueClicks: r.uniqueClicks,
        conversions: r.conversions,
        revenue: r.revenue,
      }))
      .sort((a, b) => (a.variant < b.variant ? -1 : 1)),
  };
}

function addVariants(a: VariantFigures[], b: VariantFigures[]): VariantFigures[] {
  const out = new Map(a.map((v) => [v.variant, { ...v }]));
  for (const v of b) {
    const cur = out.get(v.variant);
    if (!cur) out.set(v.variant, { ...v });
    else for (const f of [...ENGAGEMENT, "entered", "sent", "failed"] as const) cur[f] += v[f];
  }
  return [...out.values()].sort((x, y) => (x.variant < y.variant ? -1 : 1));
}

/** Days between two YYYY-MM-DD dates, inclusive of both ends. */
export function daysInRange(from: string, to: string): number {
  return (
    Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1
  );
}

/** Per-day figures of a journey over [from, to] (UTC days, both included); null: not here. */
export async function journeyDailyFigures(
  db: Database,
  workspaceId: string,
  journeyId: string,
  range: { from: string; to: string },
): Promise<DayFigures[] | null> {
  const journey = await db.prisma.journey.findFirst({
    where: { id: journeyId, workspaceId },
    select: { id: true },
  });
  if (!journey) return null;
  // Each version's trigger (its plan read once), then the rollups of the range (index on
  // journeyId, day): entries are the runs that entered a trigger.
  const triggers = await db.query<{ id: string; trigger: string }>(
    `SELECT id, plan->>'triggerStepId' AS trigger FROM "JourneyVersion" WHERE "journeyId" = $1`,
    [journeyId],
  );
  return db.query<DayFigures>(
    `WITH trig AS (
       SELECT * FROM unnest($4::text[], $5::text[]) AS t(v, s)
     ), days AS (
       SELECT generate_series($2::date, $3::date, interval '1 day')::date AS day
     ), rolled AS (
       SELECT x.day,
              COALESCE(sum(x.entered) FILTER (WHERE trig.v IS NOT NULL), 0)::int AS entries,
              sum(x.sent)::int AS sends, sum(x.converted)::int AS conversions,
              sum(x.revenue)::float8 AS revenue
       FROM "JourneyRollup" x LEFT JOIN trig ON trig.v = x."versionId" AND trig.s = x."stepId"
       WHERE x."journeyId" = $1 AND x.day >= $2::date AND x.day <= $3::date
       GROUP BY x.day
     )
     SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
            COALESCE(r.entries, 0) AS entries, COALESCE(r.sends, 0) AS sends,
            COALESCE(r.conversions, 0) AS conversions, COALESCE(r.revenue, 0)::float8 AS revenue
     FROM days d LEFT JOIN rolled r ON r.day = d.day
     ORDER BY d.day`,
    [journeyId, range.from, range.to, triggers.map((t) => t.id), triggers.map((t) => t.trigger)],
  );
}
