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
// Each group of figures is one statement on the database over the KPI rollups (kpi-rollups.ts),
// aggregated there, never rows in JavaScript.
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

// Read from the rollups the engine keeps with the orders and attributions (kpi-rollups.ts), in one
// statement; testing/kpi-recount.ts counts the same figures from the raw rows. $1 workspace, $2
// first day, $3 last day (both included), $4 the second-purchase buckets' lower bounds.
//   - customers who ordered in the range: those whose latest order-day is in it, and those who
//     ordered in it and again after it (their order-day pair straddling the range's end) — or,
//     for a range far from the latest orders, per order-day those whose previous order-day is
//     before the range;
//   - repeat customers (two or more orders by the range's end): the buyers but those with one
//     order by then — one in all, or a second after the range — (or: those who had ordered before
//     the range, and the new ones whose second order is in the range too);
//   - time to second purchase: the distribution over the range's second orders, or all of them
//     less those outside the range when that is fewer rows; the median is percentile_cont's, the
//     middle value or halfway between the two middle ones.
// Both ways of each figure are exact; which one runs depends only on where the range lies
// between the workspace's first and latest days: the rows read are those of the days after the
// range (few for a range ending today) or inside it.
// The rollups are sharded (kpi-rollups.ts; a shard's count may be negative): every figure is a sum
// over rows picked by their key columns other than the shard, which sums each key's shards, and
// the distribution `h` sums per days before it drops the zeros — no row is read on its own.
const KPIS = `
WITH k AS (
  SELECT min(day) AS first, max(day) AS last FROM "KpiDay" WHERE "workspaceId" = $1
), way AS (
  SELECT k.last - $3::date < $3::date - $2::date + 1 AS recent,
         ($2::date - k.first) + (k.last - $3::date) < $3::date - $2::date + 1 AS outside
  FROM k
), d AS (
  SELECT day, sum(orders) AS orders, sum(revenue) AS revenue, sum("journeyOrders") AS "journeyOrders",
         sum("journeyRevenue") AS "journeyRevenue", sum("firstBuyers") AS "firstBuyers",
         sum("lastBuyers") AS "lastBuyers", sum("oneOrder") AS "oneOrder", sum(seconds) AS seconds
  FROM "KpiDay" WHERE "workspaceId" = $1 AND day BETWEEN $2::date AND $3::date GROUP BY day
), t AS (
  SELECT COALESCE(sum(orders), 0) AS orders, COALESCE(sum(revenue), 0) AS revenue,
         COALESCE(sum("journeyOrders"), 0) AS "journeyOrders",
         COALESCE(sum("journeyRevenue"), 0) AS "journeyRevenue",
         COALESCE(sum("firstBuyers"), 0) AS "firstBuyers", COALESCE(sum("lastBuyers"), 0) AS "lastBuyers",
         COALESCE(sum("oneOrder"), 0) AS "oneOrder", COALESCE(sum(seconds), 0) AS seconds
  FROM d
), b AS (
  SELECT CASE WHEN (SELECT recent FROM way) THEN t."lastBuyers" + (
           SELECT COALESCE(sum(customers), 0) FROM "KpiBuyerDay"
           WHERE "workspaceId" = $1 AND day > $3::date AND "gapDays" <> 0
             AND day - "gapDays" BETWEEN $2::date AND $3::date)
         ELSE (
           SELECT COALESCE(sum(customers) FILTER (WHERE "gapDays" = 0 OR "gapDays" > day - $2::date), 0)
           FROM "KpiBuyerDay" WHERE "workspaceId" = $1 AND day BETWEEN $2::date AND $3::date)
         END AS buyers
  FROM t
), r AS (
  SELECT CASE WHEN (SELECT recent FROM way) THEN b.buyers - t."oneOrder" - (
           SELECT COALESCE(sum(customers), 0) FROM "KpiSecondOrder"
           WHERE "workspaceId" = $1 AND "secondDay" > $3::date AND "firstDay" BETWEEN $2::date AND $3::date)
         ELSE b.buyers - t."firstBuyers" + (
           SELECT COALESCE(sum(customers), 0) FROM "KpiSecondOrder"
           WHERE "workspaceId" = $1 AND "secondDay" BETWEEN $2::date AND $3::date AND "firstDay" >= $2::date)
         END AS repeaters
  FROM t, b
), h AS (
  SELECT days, sum(n) AS n FROM (
    SELECT days, customers AS n FROM "KpiSecondDays"
    WHERE "workspaceId" = $1 AND (SELECT outside FROM way)
    UNION ALL
    SELECT days, -customers FROM "KpiSecondOrder"
    WHERE "workspaceId" = $1 AND "secondDay" < $2::date AND (SELECT outside FROM way)
    UNION ALL
    SELECT days, -customers FROM "KpiSecondOrder"
    WHERE "workspaceId" = $1 AND "secondDay" > $3::date AND (SELECT outside FROM way)
    UNION ALL
    SELECT days, customers FROM "KpiSecondOrder"
    WHERE "workspaceId" = $1 AND "secondDay" BETWEEN $2::date AND $3::date AND NOT (SELECT outside FROM way)
  ) x GROUP BY days HAVING sum(n) <> 0
), c AS (
  SELECT days, sum(n) OVER (ORDER BY days) AS upto, sum(n) OVER () AS total FROM h
), m AS (
  SELECT (SELECT min(days) FROM c WHERE upto > floor((z.total - 1) / 2)) AS lo,
         (SELECT min(days) FROM c WHERE upto > ceil((z.total - 1) / 2)) AS hi
  FROM (SELECT max(total) AS total FROM c) z
)
SELECT t.orders::int AS orders, t.revenue::float8 AS revenue, t."journeyOrders"::int AS "journeyOrders",
       t."journeyRevenue"::float8 AS "journeyRevenue", b.buyers::int AS buyers, r.repeaters::int AS repeaters,
       t.seconds::int AS "secondCustomers",
       (SELECT lo::float8 + 0.5::float8 * (hi - lo)::float8 FROM m) AS "medianDays",
       (SELECT COALESCE(jsonb_object_agg(bucket, n), '{}'::jsonb) FROM (
          SELECT width_bucket(days, $4::int[]) AS bucket, sum(n)::int AS n FROM h GROUP BY 1
        ) x) AS buckets,
       (SELECT COALESCE(json_agg(json_build_object(
                 'day', to_char(day, 'YYYY-MM-DD'), 'orders', orders::int,
                 'revenue', revenue::float8, 'journeyRevenue', "journeyRevenue"::float8) ORDER BY day), '[]'::json)
        FROM d WHERE orders > 0) AS daily
FROM t, b, r`;

/** The counts every figure of the dashboard is derived from (from the rollups, or a recount). */
export interface KpiCounts {
  orders: number;
  revenue: number;
  journeyOrders: number;
  journeyRevenue: number;
  buyers: number;
  repeaters: number;
  secondCustomers: number;
  medianDays: number | null;
  /** Customers per second-purchase bucket, keyed by width_bucket's 1-based bucket number. */
  buckets: Record<string, number>;
}

/** The dashboard's figures from its counts. */
export function kpisFromCounts(o: KpiCounts, daily: WorkspaceKpis["daily"]): WorkspaceKpis {
  return {
    orders: o.orders,
    revenue: o.revenue,
    averageOrderValue: o.orders ? o.revenue / o.orders : null,
    customersWhoOrdered: o.buyers,
    repeatCustomers: o.repeaters,
    repeatPurchaseRate: o.buyers ? o.repeaters / o.buyers : null,
    secondPurchase: {
      customers: o.secondCustomers,
      medianDays: o.medianDays,
      buckets: SECOND_PURCHASE_BUCKETS.map((b, i) => ({
        ...b,
        customers: o.buckets[String(i + 1)] ?? 0,
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

/** The workspace's KPIs over [from, to] (UTC days, both included). */
export async function workspaceKpis(
  db: Database,
  workspaceId: string,
  range: KpiRange,
): Promise<WorkspaceKpis> {
  // width_bucket's lower bounds: bucket i (1-based) holds days in [bounds[i-1], bounds[i]).
  const bounds = SECOND_PURCHASE_BUCKETS.map((b) => b.minDays);
  const [row] = await db.query<KpiCounts & { daily: WorkspaceKpis["daily"] }>(
    KPIS,
    [workspaceId, range.from, range.to, bounds],
    { prepare: "kpis.rollups" },
  );
  const { daily, ...counts } = row!;
  return kpisFromCounts(counts, daily);
}
