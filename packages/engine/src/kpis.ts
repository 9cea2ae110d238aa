// Workspace KPIs (issue 17, item 6): the figures post-purchase marketing is judged on, over a
// range of UTC days, from the de-duplicated orders (`Order`, one row per order id) and the
// journeys' attributions (`Attribution`, one per converting run):
//   - orders, revenue and average order value (AOV) of orders placed in the range;
//   - repeat-purchase rate: of the customers who ordered in the range, the share with two or more
//     orders up to the range's end (their earlier orders count);
//   - time to second purchase: for customers whose second order falls in the range, the days from
//     their first order — median and distribution;
//   - revenue influenced by journeys: orders credited to a journey run's conversion (attribution
//     window per journey) against all other orders;
//   - the same per day, for the charts.
// Each figure is one statement on the database (aggregated there, never rows in JavaScript).
import type { Database } from "@postpath/db";

export interface KpiRange {
  /** First UTC day, YYYY-MM-DD (included). */
  from: string;
  /** Last UTC day, YYYY-MM-DD (included). */
  to: string;
}

export interface SecondPurchaseBucket {
  /** In words: "within a week", "8–14 days" … */
  label: string;
  /** Smallest and largest whole days in the bucket (null: no upper bound). */
  minDays: number;
  maxDays: number | null;
  customers: number;
}

export interface WorkspaceKpis {
  orders: number;
  revenue: number;
  /** Revenue per order; null without orders. */
  averageOrderValue: number | null;
  customersWhoOrdered: number;
  repeatCustomers: number;
  /** repeatCustomers / customersWhoOrdered; null without buyers. */
  repeatPurchaseRate: number | null;
  secondPurchase: {
    customers: number;
    medianDays: number | null;
    buckets: SecondPurchaseBucket[];
  };
  influenced: {
    journeyOrders: number;
    journeyRevenue: number;
    otherOrders: number;
    otherRevenue: number;
  };
  daily: { day: string; orders: number; revenue: number; journeyRevenue: number }[];
}

/** The distribution's buckets, in days since the first order (whole days, rounded down). */
export const SECOND_PURCHASE_BUCKETS: Omit<SecondPurchaseBucket, "customers">[] = [
  { label: "within a week", minDays: 0, maxDays: 7 },
  { label: "8–14 days", minDays: 8, maxDays: 14 },
  { label: "15–30 days", minDays: 15, maxDays: 30 },
  { label: "31–60 days", minDays: 31, maxDays: 60 },
  { label: "61–90 days", minDays: 61, maxDays: 90 },
  { label: "91–180 days", minDays: 91, maxDays: 180 },
  { label: "181–365 days", minDays: 181, maxDays: 365 },
  { label: "over a year", minDays: 366, maxDays: null },
];

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

/** The workspace's KPIs over [from, to] (UTC days, both included). */
export async function workspaceKpis(
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
    }>(ORDERS, span, { prepare: "kpis.orders" }),
    db.query<{
      repeaters: number;
      secondCustomers: number;
      medianDays: number | null;
      buckets: Record<string, number>;
    }>(REPEAT, [...span, bounds], { prepare: "kpis.repeat" }),
    db.query<WorkspaceKpis["daily"][number]>(DAILY, span, { prepare: "kpis.daily" }),
  ]);
  const o = orders!;
  const r = repeat!;
  return {
    orders: o.orders,
    revenue: o.revenue,
    averageOrderValue: o.orders ? o.revenue / o.orders : null,
    customersWhoOrdered: o.buyers,
    repeatCustomers: r.repeaters,
    repeatPurchaseRate: o.buyers ? r.repeaters / o.buyers : null,
    secondPurchase: {
      customers: r.secondCustomers,
      medianDays: r.medianDays,
      buckets: SECOND_PURCHASE_BUCKETS.map((b, i) => ({
        ...b,
        customers: r.buckets[String(i + 1)] ?? 0,
      })),
    },
    influenced: {
      journeyOrders: o.journeyOrders,
      journeyRevenue: o.journeyRevenue,
      otherOrders: o.orders - o.journeyOrders,
      otherRevenue: o.revenue - o.journeyRevenue,
    },
    daily,
  };
}
