-- issue 15 / 17: two indexes for the order and conversion path.
--   * "Order": a customer's orders by time, led by the workspace. The KPI rollups' order insert
--     (kpi-rollups.ts) reads a customer's order days with "workspaceId" = $1 AND "customerId" = c;
--     with ("customerId", at) beside ("workspaceId", at), a table without fresh statistics had the
--     planner read the workspace's orders of the day for every customer.
--   * "Attribution": whether an attribution of the journey already credits an order
--     (attribution.ts: each order's revenue once per journey), without reading the journey's
--     attributions one by one.
-- On a big table, build them first from psql outside a transaction (CREATE INDEX CONCURRENTLY
-- with the same names and columns, which blocks no writes); the IF NOT EXISTS below then builds
-- nothing. Built here, each holds a SHARE lock on its table (writes wait) while it reads it.
CREATE INDEX IF NOT EXISTS "Order_workspaceId_customerId_at_idx" ON "Order"("workspaceId", "customerId", "at");
DROP INDEX IF EXISTS "Order_customerId_at_idx";
CREATE INDEX IF NOT EXISTS "Attribution_workspaceId_orderId_journeyId_idx" ON "Attribution"("workspaceId", "orderId", "journeyId");
