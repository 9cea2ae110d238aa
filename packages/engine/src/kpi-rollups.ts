// issue 17, item 7: the rollups the workspace KPI dashboard (kpis.ts) reads, kept by the engine
// with the rows they summarise, so a page load reads a few rows per day instead of every order.
//
//   KpiDay          per day (and shard): orders and revenue, added with each Order insert; the
//                   journey-influenced orders and revenue, added when an order's first attribution
//                   is written (`Order.influenced` flips once, in the attribution's statement);
//                   customers whose first / latest order-day it is, those with one order in all
//                   placed that day, those whose second order it is.
//   KpiBuyerDay     per day and gap: customers whose order-days include that day, by the days since
//                   their previous order-day (0: none before). With the latest order-days, the
//                   customers who ordered in [from, to] are exact from a few rows (kpis.ts).
//   KpiSecondOrder  per customer's second order: its day, the first order's day and the whole days
//                   between the two (floor of the time between them), one count per key;
//   KpiSecondDays   the same summed over the days (the distribution over all second orders).
// All four are sharded (issue 15): each order statement writes the shard it took (takeShard()), so
// concurrent batches of one workspace — other events jobs, other worker processes — do not queue
// on the row of today (a new buyer today always adds to KpiBuyerDay (today, gap 0)) until the
// other commits; a figure is the sum over a key's shards (kpis.ts), a shard's own count may be
// negative. Nothing folds the shards together: at most 8 rows per key.
//
// An order batch is one transaction: lock the batch's customers (transaction advisory locks, in
// key order), then one statement inserts the orders (ON CONFLICT DO NOTHING: a repeated order id
// adds nothing) and applies what the inserted ones change — their days' totals, the order-days
// they add with the neighbouring order-days of the same customer re-paired, the customer's latest
// order-day and first two orders before and after. Under the lock the statement's snapshot holds every committed order
// of those customers and nobody else's in-flight orders, so the deltas are exact whatever the
// order in which events arrive; a crash rolls back the orders with their rollups.
import type { Database, SqlSession } from "@postpath/db";
import type { EngineContext } from "./context.ts";
import { takeShard } from "./counters.ts";

export interface NewOrder {
  orderId: string;
  customerId: string;
  revenue: number;
  /** ms since the epoch */
  ts: number;
  eventId: string;
}

// $1 workspace; $2 … $6 the orders (ids, customers, revenues, ms, event ids); $7 the shard.
const INSERT_ORDERS = `
WITH ins AS (
  INSERT INTO "Order" ("workspaceId", "orderId", "customerId", revenue, at, "eventId")
  SELECT $1, o, c, r, to_timestamp(t / 1000) AT TIME ZONE 'UTC', e
  FROM unnest($2::text[], $3::text[], $4::numeric[], $5::float8[], $6::text[]) AS x(o, c, r, t, e)
  ORDER BY o
  ON CONFLICT ("workspaceId", "orderId") DO NOTHING
  RETURNING "customerId" AS c, at, revenue
), span AS (
  SELECT c, min(at)::date AS lo, max(at)::date AS hi FROM ins GROUP BY c
), old_days AS (
  -- The customer's stored order-days the new ones can re-pair: the last before the first new day,
  -- those between the first and last new day, the first after the last. (The statement's snapshot
  -- does not see the rows "ins" adds.)
  SELECT s.c, s.lo, d.day FROM span s CROSS JOIN LATERAL (
    (SELECT o.at::date AS day FROM "Order" o
     WHERE o."customerId" = s.c AND o."workspaceId" = $1 AND o.at < s.lo ORDER BY o.at DESC LIMIT 1)
    UNION
    (SELECT DISTINCT o.at::date FROM "Order" o
     WHERE o."customerId" = s.c AND o."workspaceId" = $1 AND o.at >= s.lo AND o.at < s.hi + 1)
    UNION
    (SELECT o.at::date FROM "Order" o
     WHERE o."customerId" = s.c AND o."workspaceId" = $1 AND o.at >= s.hi + 1 ORDER BY o.at LIMIT 1)
  ) d
), new_days AS (
  SELECT c, lo, day FROM old_days
  UNION
  SELECT i.c, s.lo, i.at::date FROM ins i JOIN span s USING (c)
), pairs AS (
  -- Each day with the gap to the day before it, before (-1) and after (+1) the insert. The day
  -- before the first new day keeps its own pair (it is left out below).
  SELECT day, COALESCE(day - lag(day) OVER (PARTITION BY c ORDER BY day), 0) AS gap, -1 AS n, lo
  FROM old_days
  UNION ALL
  SELECT day, COALESCE(day - lag(day) OVER (PARTITION BY c ORDER BY day), 0), 1, lo FROM new_days
), buyer_add AS (
  INSERT INTO "KpiBuyerDay" ("workspaceId", day, "gapDays", shard, customers)
  SELECT $1, day, gap, $7, sum(n)::int FROM pairs WHERE day >= lo
  GROUP BY day, gap HAVING sum(n) <> 0 ORDER BY day, gap
  ON CONFLICT ("workspaceId", day, "gapDays", shard) DO UPDATE
  SET customers = "KpiBuyerDay".customers + EXCLUDED.customers
), old2 AS (
  SELECT s.c, f.ats FROM span s CROSS JOIN LATERAL (
    SELECT array_agg(at ORDER BY at) AS ats FROM (
      SELECT o.at FROM "Order" o WHERE o."customerId" = s.c AND o."workspaceId" = $1
      ORDER BY o.at LIMIT 2
    ) x
  ) f
), new2 AS (
  SELECT o.c, (
    SELECT array_agg(at ORDER BY at) FROM (
      SELECT at FROM (SELECT unnest(o.ats) AS at UNION ALL SELECT i.at FROM ins i WHERE i.c = o.c) y
      ORDER BY at LIMIT 2
    ) z
  ) AS ats
  FROM old2 o
), seconds AS (
  SELECT ats[2]::date AS "secondDay", ats[1]::date AS "firstDay",
         floor(extract(epoch FROM ats[2] - ats[1]) / 86400)::int AS days, -1 AS n
  FROM old2 WHERE cardinality(ats) = 2
  UNION ALL
  SELECT ats[2]::date, ats[1]::date, floor(extract(epoch FROM ats[2] - ats[1]) / 86400)::int, 1
  FROM new2 WHERE cardinality(ats) = 2
), second_add AS (
  INSERT INTO "KpiSecondOrder" ("workspaceId", "secondDay", "firstDay", days, shard, customers)
  SELECT $1, "secondDay", "firstDay", days, $7, sum(n)::int FROM seconds
  GROUP BY 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 2, 3, 4
  ON CONFLICT ("workspaceId", "secondDay", "firstDay", days, shard) DO UPDATE
  SET customers = "KpiSecondOrder".customers + EXCLUDED.customers
), second_days_add AS (
  INSERT INTO "KpiSecondDays" ("workspaceId", days, shard, customers)
  SELECT $1, days, $7, sum(n)::int FROM seconds GROUP BY 2 HAVING sum(n) <> 0 ORDER BY 2
  ON CONFLICT ("workspaceId", days, shard) DO UPDATE
  SET customers = "KpiSecondDays".customers + EXCLUDED.customers
), lasts AS (
  -- The latest order-day before and after (when a stored day follows the new ones, both are it).
  SELECT (SELECT max(day) FROM old_days o WHERE o.c = s.c) AS last_before,
         (SELECT max(day) FROM new_days n WHERE n.c = s.c) AS last_after
  FROM span s
), day_delta AS (
  SELECT at::date AS day, 1 AS orders, revenue, 0 AS firsts, 0 AS lasts, 0 AS ones, 0 AS seconds FROM ins
  UNION ALL
  SELECT day, 0, 0, n, 0, 0, 0 FROM pairs WHERE day >= lo AND gap = 0
  UNION ALL
  SELECT last_before, 0, 0, 0, -1, 0, 0 FROM lasts WHERE last_before IS NOT NULL
  UNION ALL
  SELECT last_after, 0, 0, 0, 1, 0, 0 FROM lasts
  UNION ALL
  SELECT ats[1]::date, 0, 0, 0, 0, -1, 0 FROM old2 WHERE cardinality(ats) = 1
  UNION ALL
  SELECT ats[1]::date, 0, 0, 0, 0, 1, 0 FROM new2 WHERE cardinality(ats) = 1
  UNION ALL
  SELECT "secondDay", 0, 0, 0, 0, 0, n FROM seconds
), day_add AS (
  INSERT INTO "KpiDay" ("workspaceId", day, shard, orders, revenue, "firstBuyers", "lastBuyers",
    "oneOrder", seconds)
  SELECT $1, day, $7, sum(orders), sum(revenue), sum(firsts), sum(lasts), sum(ones), sum(seconds)
  FROM day_delta GROUP BY day ORDER BY day
  ON CONFLICT ("workspaceId", day, shard) DO UPDATE
  SET orders = "KpiDay".orders + EXCLUDED.orders, revenue = "KpiDay".revenue + EXCLUDED.revenue,
      "firstBuyers" = "KpiDay"."firstBuyers" + EXCLUDED."firstBuyers",
      "lastBuyers" = "KpiDay"."lastBuyers" + EXCLUDED."lastBuyers",
      "oneOrder" = "KpiDay"."oneOrder" + EXCLUDED."oneOrder",
      seconds = "KpiDay".seconds + EXCLUDED.seconds
)
SELECT count(*)::int AS inserted FROM ins`;

// One lock per (workspace, customer), taken in key order so two batches never wait on each other
// in a circle. Held to the end of the transaction.
const LOCK_CUSTOMERS = `
SELECT pg_advisory_xact_lock(k) FROM (
  SELECT DISTINCT hashtextextended($1 || '/' || c, 17) AS k FROM unnest($2::text[]) AS c ORDER BY k
) s`;

/**
 * Stores the orders (a repeated order id adds nothing) with their KPI rollups, in one
 * transaction. Returns how many were new.
 */
export async function insertOrders(
  ctx: Pick<EngineContext, "db">,
  workspaceId: string,
  orders: readonly NewOrder[],
): Promise<number> {
  if (orders.length === 0) return 0;
  const customers = orders.map((o) => o.customerId);
  return withCustomerLocks(ctx.db, workspaceId, customers, (s) =>
    insertOrdersLocked(s, workspaceId, orders),
  );
}

/**
 * insertOrders' statement, in the caller's transaction, which must hold the orders' customers'
 * locks (withCustomerLocks). Returns how many orders were new.
 */
export async function insertOrdersLocked(
  s: SqlSession,
  workspaceId: string,
  orders: readonly NewOrder[],
): Promise<number> {
  const [row] = await s.query<{ inserted: number }>(
    INSERT_ORDERS,
    [
      workspaceId,
      orders.map((o) => o.orderId),
      orders.map((o) => o.customerId),
      orders.map((o) => o.revenue),
      orders.map((o) => o.ts),
      orders.map((o) => o.eventId),
      takeShard(),
    ],
    { prepare: "engine.ordersWithKpis" },
  );
  return row?.inserted ?? 0;
}

/**
 * Runs `fn` in a transaction that holds the customers' order locks: order inserts (above) and
 * conversions by an order (attribution.ts) of one customer take turns.
 */
export function withCustomerLocks<T>(
  db: Database,
  workspaceId: string,
  customerIds: readonly string[],
  fn: (s: SqlSession) => Promise<T>,
): Promise<T> {
  return inTransaction(db, async (s) => {
    await s.query(LOCK_CUSTOMERS, [workspaceId, [...new Set(customerIds)]], {
      prepare: "engine.kpiLockCustomers",
    });
    return fn(s);
  });
}

/**
 * CTEs for a statement that writes attributions (attribution.ts): the first attribution naming
 * an order marks it influenced and adds it to its day's journey orders and revenue; later ones
 * (another run converted by the same order, a concurrent statement) find it marked and add nothing.
 * `a` is the statement's CTE of the attributions it inserted; the parameters name the workspace,
 * the order id (null: the conversion was no order) and the shard.
 */
export function influencedOrderCtes(p: { workspace: string; orderId: string; shard: string }) {
  return `kpi_order AS (
       UPDATE "Order" SET influenced = true
       WHERE "workspaceId" = ${p.workspace} AND "orderId" = ${p.orderId} AND NOT influenced
         AND EXISTS (SELECT 1 FROM a)
       RETURNING at, revenue
     ), kpi_day AS (
       INSERT INTO "KpiDay" ("workspaceId", day, shard, "journeyOrders", "journeyRevenue")
       SELECT ${p.workspace}, at::date, ${p.shard}, 1, revenue FROM kpi_order
       ON CONFLICT ("workspaceId", day, shard) DO UPDATE
       SET "journeyOrders" = "KpiDay"."journeyOrders" + EXCLUDED."journeyOrders",
           "journeyRevenue" = "KpiDay"."journeyRevenue" + EXCLUDED."journeyRevenue"
     )`;
}

/**
 * Recounts a workspace's KPI rollups from its Order and Attribution rows (the migration does the
 * same for every workspace), all on shard 0. For orders written around the engine (seeding, an
 * import, tests); run it while nothing else writes the workspace's orders.
 */
export async function rebuildKpiRollups(db: Database, workspaceId: string): Promise<void> {
  await inTransaction(db, async (s) => {
    for (const table of ["KpiDay", "KpiBuyerDay", "KpiSecondOrder", "KpiSecondDays"])
      await s.query(`DELETE FROM "${table}" WHERE "workspaceId" = $1`, [workspaceId]);
    await s.query(
      `UPDATE "Order" o SET influenced = NOT influenced
       WHERE o."workspaceId" = $1 AND o.influenced <> EXISTS (
         SELECT 1 FROM "Attribution" a WHERE a."workspaceId" = $1 AND a."orderId" = o."orderId")`,
      [workspaceId],
    );
    // As the migration's backfill, for one workspace.
    await s.query(
      `CREATE TEMPORARY TABLE kpi_customer_days ON COMMIT DROP AS
       SELECT day, COALESCE(day - lag(day) OVER (PARTITION BY c ORDER BY day), 0) AS gap,
              day = max(day) OVER (PARTITION BY c) AS last
       FROM (SELECT DISTINCT "customerId" AS c, at::date AS day FROM "Order" WHERE "workspaceId" = $1) d`,
      [workspaceId],
    );
    await s.query(
      `CREATE TEMPORARY TABLE kpi_customer_seconds ON COMMIT DROP AS
       SELECT ats[1]::date AS first, ats[2]::date AS second,
              floor(extract(epoch FROM ats[2] - ats[1]) / 86400)::int AS days
       FROM (SELECT (array_agg(at ORDER BY at))[1:2] AS ats FROM "Order" WHERE "workspaceId" = $1
             GROUP BY "customerId") x`,
      [workspaceId],
    );
    await s.query(
      `INSERT INTO "KpiDay" ("workspaceId", day, shard, orders, revenue, "journeyOrders",
         "journeyRevenue", "firstBuyers", "lastBuyers", "oneOrder", seconds)
       SELECT $1, day, 0, sum(orders), sum(revenue), sum(jo), sum(jr), sum(f), sum(l), sum(o), sum(s)
       FROM (
         SELECT at::date AS day, count(*) AS orders, sum(revenue) AS revenue,
                count(*) FILTER (WHERE influenced) AS jo,
                COALESCE(sum(revenue) FILTER (WHERE influenced), 0) AS jr, 0 AS f, 0 AS l, 0 AS o, 0 AS s
         FROM "Order" WHERE "workspaceId" = $1 GROUP BY 1
         UNION ALL
         SELECT day, 0, 0, 0, 0, count(*) FILTER (WHERE gap = 0), count(*) FILTER (WHERE last), 0, 0
         FROM kpi_customer_days GROUP BY 1
         UNION ALL
         SELECT first, 0, 0, 0, 0, 0, 0, count(*), 0 FROM kpi_customer_seconds WHERE second IS NULL GROUP BY 1
         UNION ALL
         SELECT second, 0, 0, 0, 0, 0, 0, 0, count(*) FROM kpi_customer_seconds WHERE second IS NOT NULL GROUP BY 1
       ) x GROUP BY 2`,
      [workspaceId],
    );
    await s.query(
      `INSERT INTO "KpiBuyerDay" ("workspaceId", day, "gapDays", shard, customers)
       SELECT $1, day, gap, 0, count(*) FROM kpi_customer_days GROUP BY 2, 3`,
      [workspaceId],
    );
    await s.query(
      `INSERT INTO "KpiSecondOrder" ("workspaceId", "secondDay", "firstDay", days, shard, customers)
       SELECT $1, second, first, days, 0, count(*) FROM kpi_customer_seconds WHERE second IS NOT NULL
       GROUP BY 2, 3, 4`,
      [workspaceId],
    );
    await s.query(
      `INSERT INTO "KpiSecondDays" ("workspaceId", days, shard, customers)
       SELECT $1, days, 0, count(*) FROM kpi_customer_seconds WHERE second IS NOT NULL GROUP BY 2`,
      [workspaceId],
    );
  });
}

async function inTransaction<T>(db: Database, fn: (s: SqlSession) => Promise<T>): Promise<T> {
  return db.withSession(async (s) => {
    await s.exec("BEGIN");
    try {
      const result = await fn(s);
      await s.exec("COMMIT");
      return result;
    } catch (err) {
      await s.exec("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}
