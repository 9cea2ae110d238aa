-- issue 17, item 7: rollups for the workspace KPI dashboard (packages/engine/src/kpi-rollups.ts),
-- kept by the engine with each Order insert and each order's first attribution, backfilled here
-- from the existing Order and Attribution rows.

-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "influenced" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "KpiDay" (
    "workspaceId" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "shard" INTEGER NOT NULL,
    "orders" INTEGER NOT NULL DEFAULT 0,
    "revenue" DECIMAL(24,2) NOT NULL DEFAULT 0,
    "journeyOrders" INTEGER NOT NULL DEFAULT 0,
    "journeyRevenue" DECIMAL(24,2) NOT NULL DEFAULT 0,
    "firstBuyers" INTEGER NOT NULL DEFAULT 0,
    "lastBuyers" INTEGER NOT NULL DEFAULT 0,
    "oneOrder" INTEGER NOT NULL DEFAULT 0,
    "seconds" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "KpiDay_pkey" PRIMARY KEY ("workspaceId","day","shard")
);

-- CreateTable
CREATE TABLE "KpiBuyerDay" (
    "workspaceId" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "gapDays" INTEGER NOT NULL,
    "customers" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "KpiBuyerDay_pkey" PRIMARY KEY ("workspaceId","day","gapDays")
);

-- CreateTable
CREATE TABLE "KpiSecondOrder" (
    "workspaceId" TEXT NOT NULL,
    "secondDay" DATE NOT NULL,
    "firstDay" DATE NOT NULL,
    "days" INTEGER NOT NULL,
    "customers" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "KpiSecondOrder_pkey" PRIMARY KEY ("workspaceId","secondDay","firstDay","days")
);

-- CreateTable
CREATE TABLE "KpiSecondDays" (
    "workspaceId" TEXT NOT NULL,
    "days" INTEGER NOT NULL,
    "customers" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "KpiSecondDays_pkey" PRIMARY KEY ("workspaceId","days")
);

-- Backfill: orders an attribution names.
UPDATE "Order" o SET "influenced" = true
FROM (SELECT DISTINCT "workspaceId", "orderId" FROM "Attribution" WHERE "orderId" IS NOT NULL) a
WHERE o."workspaceId" = a."workspaceId" AND o."orderId" = a."orderId";

-- Per customer: order-days (with the gap to the one before), first two orders, number of orders.
CREATE TEMPORARY TABLE kpi_customer_days ON COMMIT DROP AS
SELECT ws, c, day, COALESCE(day - lag(day) OVER (PARTITION BY ws, c ORDER BY day), 0) AS gap,
       day = max(day) OVER (PARTITION BY ws, c) AS last
FROM (SELECT DISTINCT "workspaceId" AS ws, "customerId" AS c, "at"::date AS day FROM "Order") d;

CREATE TEMPORARY TABLE kpi_customer_seconds ON COMMIT DROP AS
SELECT ws, ats[1]::date AS first, ats[2]::date AS second,
       floor(extract(epoch FROM ats[2] - ats[1]) / 86400)::int AS days
FROM (SELECT "workspaceId" AS ws, (array_agg("at" ORDER BY "at"))[1:2] AS ats FROM "Order"
      GROUP BY "workspaceId", "customerId") x;

-- Per day: orders, revenue, those of them influenced by a journey, and customers by their first,
-- latest, only and second order.
INSERT INTO "KpiDay" ("workspaceId", "day", "shard", "orders", "revenue", "journeyOrders",
  "journeyRevenue", "firstBuyers", "lastBuyers", "oneOrder", "seconds")
SELECT ws, day, 0, sum(orders), sum(revenue), sum(jo), sum(jr), sum(f), sum(l), sum(o), sum(s) FROM (
  SELECT "workspaceId" AS ws, "at"::date AS day, count(*) AS orders, sum("revenue") AS revenue,
         count(*) FILTER (WHERE "influenced") AS jo, COALESCE(sum("revenue") FILTER (WHERE "influenced"), 0) AS jr,
         0 AS f, 0 AS l, 0 AS o, 0 AS s
  FROM "Order" GROUP BY 1, 2
  UNION ALL
  SELECT ws, day, 0, 0, 0, 0, count(*) FILTER (WHERE gap = 0), count(*) FILTER (WHERE last), 0, 0
  FROM kpi_customer_days GROUP BY 1, 2
  UNION ALL
  SELECT ws, first, 0, 0, 0, 0, 0, 0, count(*), 0 FROM kpi_customer_seconds WHERE second IS NULL GROUP BY 1, 2
  UNION ALL
  SELECT ws, second, 0, 0, 0, 0, 0, 0, 0, count(*) FROM kpi_customer_seconds WHERE second IS NOT NULL GROUP BY 1, 2
) x GROUP BY 1, 2;

INSERT INTO "KpiBuyerDay" ("workspaceId", "day", "gapDays", "customers")
SELECT ws, day, gap, count(*) FROM kpi_customer_days GROUP BY 1, 2, 3;

INSERT INTO "KpiSecondOrder" ("workspaceId", "secondDay", "firstDay", "days", "customers")
SELECT ws, second, first, days, count(*) FROM kpi_customer_seconds WHERE second IS NOT NULL GROUP BY 1, 2, 3, 4;

INSERT INTO "KpiSecondDays" ("workspaceId", "days", "customers")
SELECT ws, days, count(*) FROM kpi_customer_seconds WHERE second IS NOT NULL GROUP BY 1, 2;
