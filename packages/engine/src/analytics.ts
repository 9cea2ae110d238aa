// issue 17, item 4: the figures of a journey's analytics page, counted in Postgres.
//
// `journeyStepFigures`: per version and step, the StepCounter rollups (summed over shards) —
// entered, sent, failed, converted — and the runs waiting at the step now (JourneyRun by
// version/status/step, an index-only scan), with the step's name as drawn and its kind. "All
// versions" adds the versions up per step (a step keeps its id across republishing).
//
// `journeyDailyFigures`: per day (UTC) of a range, entries (runs started), sends (messages sent),
// conversions (the goal's "converted" trace rows of the journey's runs) and revenue: purchase
// events of converted runs' customers within the attribution window after one of the run's
// messages, each order id once, on the day of the order.
import type { Database } from "@postpath/db";
import { registry, type Plan, type StepType } from "@postpath/journey";
import { DEFAULT_REVENUE_RULE, type RevenueRule } from "./experiments.ts";

export interface StepFigures {
  stepId: string;
  /** The step's name as drawn: its label, else its kind ("Send email"). */
  name: string;
  /** The kind of step in words ("Send email", "Wait"). */
  kind: string;
  type: string;
  entered: number;
  waitingNow: number;
  sent: number;
  failed: number;
  converted: number;
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
  const [counters, waiting] = await Promise.all([
    db.query<{
      versionId: string;
      stepId: string;
      entered: number;
      sent: number;
      failed: number;
      converted: number;
    }>(
      `SELECT "versionId", "stepId", sum(entered)::int AS entered, sum(sent)::int AS sent,
              sum(failed)::int AS failed, sum(converted)::int AS converted
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
  ]);
  const key = (v: string, s: string) => `${v}\u0000${s}`;
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
        };
      }),
    };
  });

  const all = new Map<string, StepFigures>();
  for (const v of out)
    for (const s of v.steps) {
      const a = all.get(s.stepId);
      if (!a) all.set(s.stepId, { ...s });
      else {
        a.entered += s.entered;
        a.waitingNow += s.waitingNow;
        a.sent += s.sent;
        a.failed += s.failed;
        a.converted += s.converted;
      }
    }
  return { versions: out, all: [...all.values()] };
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
  revenue: Partial<RevenueRule> = {},
): Promise<DayFigures[] | null> {
  const journey = await db.prisma.journey.findFirst({
    where: { id: journeyId, workspaceId },
    select: { id: true },
  });
  if (!journey) return null;
  const rule = { ...DEFAULT_REVENUE_RULE, ...revenue };
  return db.query<DayFigures>(
    `WITH bounds AS (
       SELECT $2::date AS d0, $3::date + 1 AS d1
     ), days AS (
       SELECT generate_series($2::date, $3::date, interval '1 day')::date AS day
     ), runs AS NOT MATERIALIZED (
       SELECT r.id, r."customerId", r."startedAt" FROM "JourneyRun" r WHERE r."journeyId" = $1
     ), entries AS (
       SELECT r."startedAt"::date AS day, count(*)::int AS n FROM runs r, bounds b
       WHERE r."startedAt" >= b.d0 AND r."startedAt" < b.d1 GROUP BY 1
     ), sends AS (
       SELECT m."sentAt"::date AS day, count(*)::int AS n
       FROM "Message" m JOIN runs r ON r.id = m."runId", bounds b
       WHERE m."workspaceId" = $4 AND m."sentAt" >= b.d0 AND m."sentAt" < b.d1 GROUP BY 1
     ), conversions AS (
       SELECT t.at::date AS day, count(DISTINCT t."runId")::int AS n
       FROM "RunTrace" t JOIN runs r ON r.id = t."runId", bounds b
       WHERE t.kind = 'converted' AND t.at >= b.d0 AND t.at < b.d1 GROUP BY 1
     ), orders AS (
       SELECT DISTINCT ON (COALESCE(e.properties->>$7, e.id))
              e.timestamp::date AS day,
              CASE WHEN jsonb_typeof(e.properties->$6) = 'number'
                   THEN (e.properties->>$6)::float8 ELSE 0 END AS amount
       FROM runs r
       JOIN "Event" e ON e."workspaceId" = $4 AND e."customerId" = r."customerId" AND e.name = $5
       CROSS JOIN bounds b
       WHERE e.timestamp >= b.d0 AND e.timestamp < b.d1
         AND EXISTS (SELECT 1 FROM "RunTrace" c WHERE c."runId" = r.id AND c.kind = 'converted')
         AND EXISTS (SELECT 1 FROM "Message" m WHERE m."runId" = r.id AND m."sentAt" IS NOT NULL
                     AND e.timestamp >= m."sentAt"
                     AND e.timestamp < m."sentAt" + make_interval(days => $8::int))
       ORDER BY COALESCE(e.properties->>$7, e.id), e.timestamp
     ), revenue AS (
       SELECT day, sum(amount)::float8 AS amount FROM orders GROUP BY 1
     )
     SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
            COALESCE(en.n, 0) AS entries, COALESCE(s.n, 0) AS sends,
            COALESCE(c.n, 0) AS conversions, COALESCE(rv.amount, 0)::float8 AS revenue
     FROM days d
     LEFT JOIN entries en ON en.day = d.day
     LEFT JOIN sends s ON s.day = d.day
     LEFT JOIN conversions c ON c.day = d.day
     LEFT JOIN revenue rv ON rv.day = d.day
     ORDER BY d.day`,
    [
      journeyId,
      range.from,
      range.to,
      workspaceId,
      rule.event,
      rule.revenueProperty,
      rule.orderIdProperty,
      rule.windowDays,
    ],
  );
}
