// issue 17, items 2 and 3: orders and attribution.
//
// Orders: the workspace's purchase event (settings `analytics.purchaseEvent`, default `purchase`;
// Segment's "Order Completed" too) with its revenue and order-id properties (default `revenue` —
// else Segment's `total` — and `order_id`) becomes one `Order` row per order id, ON CONFLICT DO
// NOTHING: a replayed or repeated order id adds nothing.
//
// Attribution (ATTRIBUTION_RULE, shown where the figures are): a run converts when its customer
// does the journey's conversion event — the attribution setting's event, else the journey's goal,
// else the purchase event — within the window (default 5 days) after the last message the journey
// sent them before it (or, when the journey says so, after entering). One conversion per run
// (`Attribution` keyed by run); the converting order's revenue (each order id once per journey) is
// credited to the run, the step of that last message (the trigger when counted from entry) and the
// run's A/B variant, and added to the rollups in the same statement (the first attribution naming an order
// adds it to the KPI dashboard's journey-influenced orders and revenue, kpi-rollups.ts). Runs that
// ended still convert: a customer who buys two days after the last email of a finished journey
// counts. Orders are stored with the KPI dashboard's rollups in one transaction (kpi-rollups.ts).
//
// Called by the event batch (events.ts) before it marks the events processed; all of it is
// idempotent, so processing an event again changes nothing.
import { evaluateConditions, type Plan } from "@postpath/journey";
import { z } from "zod";
import type { EngineContext } from "./context.ts";
import { asRecord } from "./customer.ts";
import { takeShard } from "./counters.ts";
import { loadPlan } from "./plans.ts";
import { influencedOrderCtes, insertOrders, withCustomerLocks } from "./kpi-rollups.ts";
import { ROLLUP_ADD, sentOnVersionSql, utcDay, variantAt } from "./rollups.ts";

/** The rule in words, for the analytics page (returned by the API with the figures). */
export const ATTRIBUTION_RULE =
  "A conversion counts when the customer does the journey's goal (or its chosen conversion event) within the attribution window — 5 days after the last message the journey sent them unless the journey sets another window, or counts from entry. One conversion per journey entry; the order's revenue (each order id once) goes to that message's step and the customer's A/B variant.";

/** Segment's e-commerce spec: https://segment.com/docs/connections/spec/ecommerce/v2/ */
export const SEGMENT_ORDER_EVENT = "Order Completed";

const Name = z.string().trim().min(1).max(200);
/** Revenue's currency until the workspace chooses one (Braze, Klaviyo and Shopify start in USD). */
export const DEFAULT_CURRENCY = "USD";
/** Workspace.settings.analytics (written by the api's analytics.updateSettings). */
export const AnalyticsSettings = z.object({
  purchaseEvent: Name.default("purchase"),
  revenueProperty: Name.default("revenue"),
  orderIdProperty: Name.default("order_id"),
  /** The open pixel in emails (off unless the workspace turns it on). */
  trackOpens: z.boolean().default(false),
  /** The currency revenue is shown in (ISO 4217; amounts are stored as sent, not converted). */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default(DEFAULT_CURRENCY),
});
export type AnalyticsSettings = z.infer<typeof AnalyticsSettings>;

const settingsCache = new Map<string, { at: number; value: AnalyticsSettings }>();
const SETTINGS_MAX_AGE_MS = 2000;

/** The workspace's analytics settings (read at most every 2 s per process). */
export async function workspaceAnalytics(
  ctx: EngineContext,
  workspaceId: string,
): Promise<AnalyticsSettings> {
  const hit = settingsCache.get(workspaceId);
  if (hit && Date.now() - hit.at < SETTINGS_MAX_AGE_MS) return hit.value;
  const [row] = await ctx.db.query<{ settings: unknown }>(
    `SELECT settings FROM "Workspace" WHERE id = $1`,
    [workspaceId],
  );
  const parsed = AnalyticsSettings.safeParse(asRecord(asRecord(row?.settings).analytics));
  const value = parsed.success ? parsed.data : AnalyticsSettings.parse({});
  settingsCache.set(workspaceId, { at: Date.now(), value });
  return value;
}

/** Forget cached settings (the settings were just changed in this process). */
export function forgetWorkspaceAnalytics(workspaceId: string): void {
  settingsCache.delete(workspaceId);
  configCache.delete(workspaceId);
}

const num = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v)
    ? v
    : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))
      ? Number(v)
      : null;
const text = (v: unknown): string | null =>
  typeof v === "string" && v.length > 0
    ? v.slice(0, 255)
    : typeof v === "number"
      ? String(v)
      : null;

/** An order from a purchase event, else null (not the purchase event). */
export function orderOf(
  s: AnalyticsSettings,
  e: { id: string; name: string; properties: unknown },
): { orderId: string; revenue: number } | null {
  if (e.name !== s.purchaseEvent && e.name !== SEGMENT_ORDER_EVENT) return null;
  const p = asRecord(e.properties);
  const revenue = num(p[s.revenueProperty]) ?? num(p.revenue) ?? num(p.total) ?? 0;
  const orderId = text(p[s.orderIdProperty]) ?? text(p.order_id) ?? e.id;
  // Decimal(18, 2): out-of-range amounts are not revenue.
  return { orderId, revenue: Math.abs(revenue) < 1e15 ? Math.round(revenue * 100) / 100 : 0 };
}

export interface AttributionConfig {
  versionId: string;
  journeyId: string;
  event: string;
  filters: unknown[];
  basis: "message" | "entry";
  windowDays: number;
}

/** A version's conversion rule from its plan (see the header). */
export function attributionConfig(
  plan: Plan,
  settings: AnalyticsSettings,
  ids: { versionId: string; journeyId: string },
): AttributionConfig {
  const a = (
    plan.settings as {
      attribution?: { basis?: string; windowDays?: number; event?: string | null };
    }
  ).attribution;
  const goal = plan.settings.goal;
  const goalStep = Object.values(plan.steps).find((s) => s.type === "flow.goal");
  const stepGoal = goalStep ? (goalStep.config as { event?: unknown; filters?: unknown }) : null;
  const [event, filters] = a?.event
    ? [a.event, []]
    : goal
      ? [goal.event, goal.filters]
      : typeof stepGoal?.event === "string"
        ? [stepGoal.event, Array.isArray(stepGoal.filters) ? stepGoal.filters : []]
        : [settings.purchaseEvent, []];
  return {
    ...ids,
    event,
    filters: filters as unknown[],
    basis: a?.basis === "entry" ? "entry" : "message",
    windowDays: typeof a?.windowDays === "number" && a.windowDays > 0 ? a.windowDays : 5,
  };
}

/**
 * Per workspace: the conversion rules of its journeys' versions. Plans never change, so the list
 * is read again only when the workspace has another number of versions (one index-only count per
 * event batch: a version published a moment ago converts its first runs) or another purchase
 * event, and at least every minute (an archived journey stops counting).
 */
const configCache = new Map<
  string,
  { at: number; versions: number; purchase: string; value: AttributionConfig[] }
>();
const CONFIGS_MAX_AGE_MS = 60_000;

async function workspaceConfigs(
  ctx: EngineContext,
  workspaceId: string,
  settings: AnalyticsSettings,
): Promise<AttributionConfig[]> {
  const [count] = await ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "JourneyVersion" WHERE "workspaceId" = $1`,
    [workspaceId],
    { prepare: "engine.attributionVersionCount" },
  );
  const versionsNow = count?.n ?? 0;
  const hit = configCache.get(workspaceId);
  if (
    hit &&
    hit.versions === versionsNow &&
    hit.purchase === settings.purchaseEvent &&
    Date.now() - hit.at < CONFIGS_MAX_AGE_MS
  )
    return hit.value;
  const versions = await ctx.db.query<{ id: string; journeyId: string }>(
    `SELECT v.id, v."journeyId" FROM "JourneyVersion" v JOIN "Journey" j ON j.id = v."journeyId"
     WHERE v."workspaceId" = $1 AND j.status <> 'ARCHIVED'`,
    [workspaceId],
  );
  const value: AttributionConfig[] = [];
  for (const v of versions) {
    const plan = await loadPlan(ctx, v.id).catch(() => null);
    if (plan)
      value.push(attributionConfig(plan, settings, { versionId: v.id, journeyId: v.journeyId }));
  }
  configCache.set(workspaceId, {
    at: Date.now(),
    versions: versionsNow,
    purchase: settings.purchaseEvent,
    value,
  });
  return value;
}

export interface ProcessedEvent {
  id: string;
  workspaceId: string;
  customerId: string;
  name: string;
  properties: unknown;
  /** ms since the epoch */
  ts: number;
}

interface Candidate {
  runId: string;
  versionId: string;
  journeyId: string;
  startedAt: Date;
  messageId: string | null;
  messageStep: string | null;
  sentAt: Date | null;
  /** The version that sent the message (issue 18: not the run's own after a move). */
  messageVersion: string | null;
}

const DAY_MS = 86_400_000;

/** The event batch's hook (events.ts): orders, then conversions. */
export async function recordOrdersAndConversions(
  ctx: EngineContext,
  events: readonly ProcessedEvent[],
): Promise<void> {
  const byWorkspace = new Map<string, ProcessedEvent[]>();
  for (const e of events)
    byWorkspace.set(e.workspaceId, [...(byWorkspace.get(e.workspaceId) ?? []), e]);
  for (const [workspaceId, list] of byWorkspace) {
    const settings = await workspaceAnalytics(ctx, workspaceId);
    const orders = list.flatMap((e) => {
      const o = orderOf(settings, e);
      return o ? [{ e, ...o }] : [];
    });
    // With the KPI dashboard's rollups, in one transaction (kpi-rollups.ts).
    await insertOrders(
      ctx,
      workspaceId,
      orders.map((o) => ({
        orderId: o.orderId,
        customerId: o.e.customerId,
        revenue: o.revenue,
        ts: o.e.ts,
        eventId: o.e.id,
      })),
    );
    // Read once per batch and workspace: each converting event used to read them again (a
    // count round trip per order).
    const configs = await workspaceConfigs(ctx, workspaceId, settings);
    const names = new Set(configs.map((c) => c.event));
    // Segment's "Order Completed" is the purchase event too.
    const converts = (x: ProcessedEvent) =>
      names.has(x.name) || (x.name === SEGMENT_ORDER_EVENT && names.has(settings.purchaseEvent));
    for (const e of list.filter(converts).sort((a, b) => a.ts - b.ts))
      await convert(ctx, settings, configs, e);
  }
}

async function convert(
  ctx: EngineContext,
  settings: AnalyticsSettings,
  all: readonly AttributionConfig[],
  e: ProcessedEvent,
): Promise<void> {
  const configs = all.filter(
    (c) =>
      (c.event === e.name ||
        (e.name === SEGMENT_ORDER_EVENT && c.event === settings.purchaseEvent)) &&
      evaluateConditions(c.filters as never, "all", asRecord(e.properties)),
  );
  if (configs.length === 0) return;
  const byVersion = new Map(configs.map((c) => [c.versionId, c]));
  const at = new Date(e.ts);
  const candidates = await ctx.db.query<Candidate>(
    `SELECT r.id AS "runId", r."versionId", r."journeyId", r."startedAt",
            m.id AS "messageId", m."stepId" AS "messageStep", m."sentAt",
            CASE WHEN m.id IS NOT NULL THEN ${sentOnVersionSql("m", "r")} END AS "messageVersion"
     FROM "JourneyRun" r
     LEFT JOIN LATERAL (
       SELECT id, "runId", "stepId", "sentAt" FROM "Message"
       WHERE "runId" = r.id AND "sentAt" IS NOT NULL AND "sentAt" <= $3
         AND status IN ('SENT', 'UNCERTAIN') AND channel IN ('email', 'sms', 'push')
       ORDER BY "sentAt" DESC, "runSeq" DESC LIMIT 1
     ) m ON true
     WHERE r."customerId" = $1 AND r."versionId" = ANY($2::text[]) AND r."startedAt" <= $3
       AND r."triggerEventId" IS DISTINCT FROM $4
       AND NOT EXISTS (SELECT 1 FROM "Attribution" a WHERE a."runId" = r.id)`,
    [e.customerId, [...byVersion.keys()], at, e.id],
    { prepare: "engine.attributionCandidates" },
  );
  const rows: {
    run: string;
    version: string;
    journey: string;
    step: string;
    variant: string;
    message: string | null;
  }[] = [];
  for (const c of candidates) {
    const cfg = byVersion.get(c.versionId);
    if (!cfg) continue;
    const from = cfg.basis === "entry" ? c.startedAt : c.sentAt;
    if (!from || e.ts < from.getTime() || e.ts >= from.getTime() + cfg.windowDays * DAY_MS)
      continue;
    // issue 18: after a message, the step and version that sent it (the run may have moved to a
    // newer version since); after entry, the run's trigger step.
    const version = c.messageVersion ?? c.versionId;
    const plan = await loadPlan(ctx, version).catch(() => null);
    const step = c.messageStep ?? plan?.triggerStepId;
    if (!step) continue;
    rows.push({
      run: c.runId,
      version,
      journey: c.journeyId,
      step,
      variant: variantAt(plan, c.runId, step),
      message: c.messageId,
    });
  }
  if (rows.length === 0) return;
  const order = orderOf(settings, e);
  // The order's revenue goes to one run per journey: the first by run id here (the candidates
  // come in no set order), unless an attribution of the journey already names the order (another
  // run, or the same order sent again under another message id). Whichever of two events with one
  // order id converts the run first credits the order's revenue (the stored order's, whichever
  // event made it), so concurrent jobs agree.
  rows.sort((a, b) => (a.run < b.run ? -1 : a.run > b.run ? 1 : 0));
  const credited = new Set<string>();
  const args = rows.map((r) => {
    const credit = !credited.has(r.journey);
    credited.add(r.journey);
    return { ...r, basis: byVersion.get(r.version)?.basis ?? "message", credit };
  });
  const statement: [string, unknown[]] = [
    ATTRIBUTE,
    [
      e.workspaceId,
      order?.orderId ?? null,
      e.id,
      e.customerId,
      at,
      JSON.stringify(args),
      e.name,
      utcDay(e.ts),
      takeShard(),
    ],
  ];
  if (!order) {
    await ctx.db.query(...statement);
    return;
  }
  // Orders: under the customer's lock (the one insertOrders takes), so two jobs converting the
  // customer's runs with one order id see each other's attributions and credit it once.
  await withCustomerLocks(ctx.db, e.workspaceId, [e.customerId], (s) => s.query(...statement));
}

// $1 workspace, $2 order id (null: not an order), $3 event, $4 customer, $5 at, $6 the runs,
// $7 event name, $8 day, $9 shard. One statement: the attributions (one per run), their trace
// rows and the rollups.
const ATTRIBUTE = `WITH o AS (
       SELECT revenue FROM "Order" WHERE "workspaceId" = $1 AND "orderId" = $2 AND "customerId" = $4
     ), a AS (
       INSERT INTO "Attribution" ("runId", "workspaceId", "journeyId", "versionId", "customerId",
         "stepId", variant, "messageId", "eventId", "orderId", revenue, basis, at)
       SELECT x.run, $1, x.journey, x.version, $4, x.step, x.variant, x.message, $3, $2,
              CASE WHEN x.credit AND NOT EXISTS (
                SELECT 1 FROM "Attribution" p
                WHERE p."workspaceId" = $1 AND p."orderId" = $2 AND p."journeyId" = x.journey
              ) THEN COALESCE((SELECT revenue FROM o), 0) ELSE 0 END, x.basis, $5
       FROM jsonb_to_recordset($6::jsonb)
         AS x(run text, version text, journey text, step text, variant text, message text,
              basis text, credit boolean)
       ORDER BY x.run
       ON CONFLICT ("runId") DO NOTHING
       RETURNING "runId", "versionId", "journeyId", "stepId", variant, revenue
     ), t AS (
       INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
       SELECT a."runId", a."stepId", 'conversion.attributed',
              jsonb_build_object('event', $7::text, 'eventId', $3::text, 'orderId', $2::text,
                                 'revenue', a.revenue, 'variant', a.variant), $5
       FROM a
     ), ${influencedOrderCtes({ workspace: "$1", orderId: "$2", shard: "$9" })}
     INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", converted, revenue)
     SELECT a."versionId", a."stepId", a.variant, $8::date, $9, min(a."journeyId"), count(*), sum(a.revenue)
     FROM a GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
     ON CONFLICT ("versionId", "stepId", variant, day, shard) DO UPDATE SET ${ROLLUP_ADD}`;
