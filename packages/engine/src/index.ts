export * from "./context.ts";
export * from "./customer.ts";
export * from "./engine.ts";
export * from "./enrol.ts";
export * from "./events.ts";
export * from "./exit.ts";
export * from "./funnel.ts";
export * from "./health.ts";
export * from "./ingest.ts";
export * from "./logger.ts";
export * from "./maintenance.ts";
export * from "./operate.ts";
export * from "./outputs.ts";
export * from "./visits.ts";
export * from "./plans.ts";
export * from "./providers.ts";
export * from "./queues.ts";
export * from "./recovery.ts";
export * from "./runner.ts";
export * from "./sends.ts";
export * from "./timers.ts";
export * from "./wake.ts";
export * from "./runtime.ts";
export * from "./kpis.ts"; // issue 17: workspace KPIs
export { insertOrders, rebuildKpiRollups, type NewOrder } from "./kpi-rollups.ts"; // issue 17, item 7
export * from "./sanitize.ts";
export * from "./credentials/index.ts"; // admin issue
export * from "./group-commit.ts";
export * from "./identify-commit.ts";
export * from "./random-pool.ts"; // pooled random ids (request, event, form key)
export * from "./consent.ts"; // issue 16
export * from "./experiments.ts"; // issue 17
export * from "./analytics.ts"; // issue 17, item 4
export * from "./migration.ts"; // issue 18
export * from "./engagement.ts"; // issue 17: clicks, opens
export * from "./delivery-reports.ts"; // issue 17: deliveries, bounces, complaints
export * from "./attribution.ts"; // issue 17: orders, attribution
export * from "./rollups.ts"; // issue 17: analytics rollups
export * from "./segments.ts"; // issue 16: saved segments, membership, lifecycle
export * from "./partitions.ts"; // issue 15: run traces partitioned by month
