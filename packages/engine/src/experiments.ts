// issue 17, item 5: the figures of a journey's A/B tests — every random split of every published
// version — and their statistical report (@postpath/journey's analyseExperiment). Counted in
// Postgres: one row per (version, split, variant) leaves the database.
//
// Recipients: runs the split sent down that variant (its "branch" trace row). Conversions: those
// runs that reached the journey's goal (a "converted" trace row), at most one per run. Revenue
// per recipient: the `revenue` of the customer's orders (`purchase` events, one per `order_id`)
// within the attribution window after the split decision — the same rule the analytics tab
// states where the figure is shown.
import type { Database } from "@postpath/db";
import {
  analyseExperiment,
  parsePlan,
  type ArmFigures,
  type ExperimentOptions,
  type ExperimentReport,
} from "@postpath/journey";

export interface RevenueRule {
  /** The order event and its revenue / order-id properties (Segment's "Order Completed" too). */
  event: string;
  revenueProperty: string;
  orderIdProperty: string;
  /** Orders within this many days after the split decision count for the variant. */
  windowDays: number;
}

export const DEFAULT_REVENUE_RULE: RevenueRule = {
  event: "purchase",
  revenueProperty: "revenue",
  orderIdProperty: "order_id",
  windowDays: 5,
};

export interface ExperimentSummary {
  versionId: string;
  version: number;
  stepId: string;
  report: ExperimentReport;
}

interface SplitConfig {
  variants: { id: string; label?: string; percent: number }[];
  holdout: number;
}

interface ArmRow {
  versionId: string;
  stepId: string;
  arm: string;
  recipients: number;
  conversions: number;
  revenueSum: number;
  revenueSquares: number;
}

/** Every random split of the journey's versions with its report; null: no such journey here. */
export async function journeyExperiments(
  db: Database,
  workspaceId: string,
  journeyId: string,
  options: { revenue?: Partial<RevenueRule>; statistics?: Partial<ExperimentOptions> } = {},
): Promise<ExperimentSummary[] | null> {
  const journey = await db.prisma.journey.findFirst({
    where: { id: journeyId, workspaceId },
    select: { id: true },
  });
  if (!journey) return null;
  const versions = await db.prisma.journeyVersion.findMany({
    where: { journeyId },
    select: { id: true, version: true, plan: true },
    orderBy: { version: "desc" },
  });
  const splits = versions.flatMap((v) =>
    Object.values(parsePlan(v.plan).steps)
      .filter((s) => s.type === "split.random")
      .map((s) => ({ version: v, stepId: s.id, config: s.config as SplitConfig })),
  );
  if (splits.length === 0) return [];

  const rule = { ...DEFAULT_REVENUE_RULE, ...options.revenue };
  const rows = await db.query<ArmRow>(
    `WITH decided AS (
       SELECT r.id AS run, r."versionId", r."customerId", t."stepId", t.detail->>'branch' AS arm, t.at
       FROM "JourneyRun" r
       JOIN "RunTrace" t ON t."runId" = r.id
       WHERE r."journeyId" = $1 AND r."versionId" = ANY($2::text[]) AND t."stepId" = ANY($3::text[])
         AND t.detail ? 'branch'
     ), per_run AS (
       SELECT d."versionId", d."stepId", d.arm,
              EXISTS (SELECT 1 FROM "RunTrace" c WHERE c."runId" = d.run AND c.kind = 'converted') AS converted,
              COALESCE((
                SELECT sum(o.amount) FROM (
                  SELECT DISTINCT ON (COALESCE(e.properties->>$6, e.id))
                         CASE WHEN jsonb_typeof(e.properties->$5) = 'number'
                              THEN (e.properties->>$5)::float8 ELSE 0 END AS amount
                  FROM "Event" e
                  WHERE e."workspaceId" = $7 AND e."customerId" = d."customerId" AND e.name = $4
                    AND e.timestamp >= d.at AND e.timestamp < d.at + make_interval(days => $8::int)
                  ORDER BY COALESCE(e.properties->>$6, e.id), e.timestamp
                ) o
              ), 0) AS revenue
       FROM decided d
     )
     SELECT "versionId", "stepId", arm,
            count(*)::int AS recipients,
            count(*) FILTER (WHERE converted)::int AS conversions,
            COALESCE(sum(revenue), 0)::float8 AS "revenueSum",
            COALESCE(sum(revenue * revenue), 0)::float8 AS "revenueSquares"
     FROM per_run GROUP BY 1, 2, 3`,
    [
      journeyId,
      [...new Set(splits.map((s) => s.version.id))],
      [...new Set(splits.map((s) => s.stepId))],
      rule.event,
      rule.revenueProperty,
      rule.orderIdProperty,
      workspaceId,
      rule.windowDays,
    ],
  );

  return splits.map(({ version, stepId, config }) => {
    const figures = (arm: string, label: string, percent: number): ArmFigures => {
      const row = rows.find(
        (r) => r.versionId === version.id && r.stepId === stepId && r.arm === arm,
      );
      return {
        id: arm,
        label,
        percent,
        recipients: row?.recipients ?? 0,
        conversions: row?.conversions ?? 0,
        revenue: { sum: row?.revenueSum ?? 0, sumOfSquares: row?.revenueSquares ?? 0 },
      };
    };
    const arms = config.variants.map((v, i) =>
      figures(v.id, v.label || `Variant ${String.fromCharCode(65 + i)}`, v.percent),
    );
    if (config.holdout > 0) arms.push(figures("holdout", "Holdout", config.holdout));
    return {
      versionId: version.id,
      version: version.version,
      stepId,
      report: analyseExperiment(arms, options.statistics),
    };
  });
}
