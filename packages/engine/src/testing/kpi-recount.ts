// issue 17, item 7: the workspace KPIs counted from the raw rows on each call — the statements
// kpis.workspace ran before the rollups (kpi-rollups.ts). Tests check the rollups agree with them
// (issue-017-kpi-rollups.test.ts); bench analytics times them as the raw baseline.
import type { Database } from "@postpath/db";
import {
  kpisFromCounts,
  SECOND_PURCHASE_BUCKETS,
  type KpiRange,
  type WorkspaceKpis,
} from "../kpis.ts";

// $1 workspace, $2 range start (timestamp), $3 range end (exclusive).
const ORDERS = `
SELECT count(*)::int AS orders, COALESCE(sum(o.revenue), 0)::float8 AS revenue,
       count(DISTINCT o."customerId")::int AS buyers,
       count(*) FILTER (WHERE a."orderId" IS NOT NULL)::int AS "journeyOrders",
       COALESCE(sum(o.revenue) FILTER (WHERE a."orderId" IS NOT NULL), 0)::float8 AS "journeyRevenue"
FROM "Order" o
LEFT JOIN (
  SELECT DISTINCT "orderId" FROM "Attribution"
  WHERE "workspaceId" = $1 AND "orderId" IS NOT NULL
) a ON a."orderId" = o."orderId"
WHERE o."workspaceId" = $1 AND o.at >= $2::timestamp AND o.at < $3::timestamp`;

const REPEAT = `
WITH buyers AS (
  SELECT DISTINCT "customerId" FROM "Order"
  WHERE "workspaceId" = $1 AND at >= $2::timestamp AND at < $3::timestamp
), ranked AS (
  SELECT o."customerId", o.at,
         row_number() OVER (PARTITION BY o."customerId" ORDER BY o.at, o."orderId") AS n
  FROM "Order" o JOIN buyers b ON b."customerId" = o."customerId"
  WHERE o."workspaceId" = $1 AND o.at < $3::timestamp
), seconds AS (
  SELECT floor(extract(epoch FROM s.at - f.at) / 86400)::int AS days
  FROM ranked f JOIN ranked s ON s."customerId" = f."customerId" AND f.n = 1 AND s.n = 2
  WHERE s.at >= $2::timestamp
)
SELECT (SELECT count(DISTINCT "customerId") FROM ranked WHERE n = 2)::int AS repeaters,
       (SELECT count(*) FROM seconds)::int AS "secondCustomers",
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM seconds)::float8 AS "medianDays",
       (SELECT COALESCE(jsonb_object_agg(bucket, n), '{}'::jsonb) FROM (
          SELECT width_bucket(days, $4::int[]) AS bucket, count(*)::int AS n FROM seconds GROUP BY 1
        ) x) AS buckets`;

const DAILY = `
SELECT to_char(date_trunc('day', o.at), 'YYYY-MM-DD') AS day, count(*)::int AS orders,
       COALESCE(sum(o.revenue), 0)::float8 AS revenue,
       COALESCE(sum(o.revenue) FILTER (WHERE a."orderId" IS NOT NULL), 0)::float8 AS "journeyRevenue"
FROM "Order" o
LEFT JOIN (
  SELECT DISTINCT "orderId" FROM "Attribution"
  WHERE "workspaceId" = $1 AND "orderId" IS NOT NULL
) a ON a."orderId" = o."orderId"
WHERE o."workspaceId" = $1 AND o.at >= $2::timestamp AND o.at < $3::timestamp
GROUP BY 1 ORDER BY 1`;

const startOf = (day: string) => `${day}T00:00:00.000`;
function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** The workspace's KPIs over [from, to], counted from the Order and Attribution rows. */
export async function recountWorkspaceKpis(
  db: Database,
  workspaceId: string,
  range: KpiRange,
): Promise<WorkspaceKpis> {
  const span = [workspaceId, startOf(range.from), startOf(dayAfter(range.to))];
  // width_bucket's lower bounds: bucket i (1-based) holds days in [bounds[i-1], bounds[i]).
  const bounds = SECOND_PURCHASE_BUCKETS.map((b) => b.minDays);
  const [[orders], [repeat], daily] = await Promise.all([
    db.query<{
      orders: number;
      revenue: number;
      buyers: number;
      journeyOrders: number;
      journeyRevenue: number;
    }>(ORDERS, span, { prepare: "kpis.rawOrders" }),
    db.query<{
      repeaters: number;
      secondCustomers: number;
      medianDays: number | null;
      buckets: Record<string, number>;
    }>(REPEAT, [...span, bounds], { prepare: "kpis.rawRepeat" }),
    db.query<WorkspaceKpis["daily"][number]>(DAILY, span, { prepare: "kpis.rawDaily" }),
  ]);
  return kpisFromCounts({ ...orders!, ...repeat! }, daily);
}
