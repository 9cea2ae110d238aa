// issue 17, item 1: what the providers report back after a send — deliveries, bounces, spam
// complaints and failures (Twilio's status callbacks, SendGrid's Event Webhook; apps/server
// delivery-reports.ts receives and verifies them).
//
// A report names the provider's own message id (Twilio's MessageSid, the email's Message-ID),
// which the send stored as `Message.providerMessageId`. For a message of ours it records:
// - one statement: the report on the message (a MessageEngagement row of that kind: the first
//   report of a kind writes a run trace line `message.<outcome>`; a replay adds nothing) and, the
//   first time a provider says the message was NOT delivered (bounced or failed), the analytics
//   correction: `delivered` − 1 and `failed` + 1 on the rollup row of the day it was sent. So the
//   "delivered" figure is what the provider accepted, less what it later reported undelivered —
//   the same figure as before for installs without delivery reports.
// - the suppression list and the subscription (consent.ts) when the report says so: a hard bounce
//   suppresses the address (reason bounce); a spam complaint suppresses it (reason complaint) and
//   unsubscribes the customer from email; Twilio's error 21610 (the recipient replied STOP) puts
//   the number on the list as a STOP reply does and unsubscribes them from SMS; an unsubscribe
//   through the provider's own link (SendGrid's subscription tracking or unsubscribe groups)
//   unsubscribes the customer from email without suppressing the address. A report never
//   overrides a choice recorded after it happened: a customer who subscribed again after the
//   reported unsubscribe (or complaint) stays subscribed, so a late or replayed report changes
//   nothing there.
// - the customer's event (`email_delivered`, `email_bounced`, `email_complained`, `email_failed`,
//   `email_unsubscribed`, `sms_delivered`, `sms_failed`) through ingest's `track`, with a message id derived from the
//   report, so a replayed report is one event. These steps are idempotent and not gated on the
//   first statement: a provider retrying after an outage completes what was left undone.
//
// `Message.status` is not changed: SENT means "handed to the provider" (dead letters, caps and
// replays read it); the delivery state is the report rows.
import type { EngineContext } from "./context.ts";
import { addSuppression, setSubscription, type SuppressionReason } from "./consent.ts";
import { track } from "./ingest.ts";
import { loadPlan } from "./plans.ts";
import { ROLLUP_ADD, sentOnVersionSql, utcDay, variantAt } from "./rollups.ts";
import { takeShard } from "./counters.ts";

/**
 * The addresses (after PUBLIC_URL) a workspace gives its providers for delivery reports: they name
 * the workspace and hold no secret (the providers' signatures prove the sender).
 */
export function deliveryReportPaths(workspaceId: string): { sms: string; email: string } {
  return { sms: `/hooks/twilio/${workspaceId}`, email: `/hooks/sendgrid/${workspaceId}` };
}

export const DELIVERY_OUTCOMES = [
  "delivered",
  "bounced",
  "failed",
  "complained",
  "unsubscribed",
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface DeliveryReport {
  workspaceId: string;
  channel: "email" | "sms";
  /** The provider's id of the message (as the send stored it). */
  providerMessageId: string;
  outcome: DeliveryOutcome;
  /** The provider's id of this report (event id, or message id + status): replays are one event. */
  reportId: string;
  /** When the provider says it happened (ms); defaults to now. */
  at?: number;
  /** Provider codes and words (error code, bounce reason, raw status); never secrets. */
  detail?: Record<string, string>;
  /** What else the report means for the address. */
  consequence?: "suppress_bounce" | "suppress_complaint" | "sms_stop" | "unsubscribe";
}

export type ReportResult = "recorded" | "repeated" | "unknown_message";

interface ReportedMessage {
  id: string;
  runId: string;
  stepId: string;
  customerId: string | null;
  recipient: string | null;
  sentAt: Date | null;
  externalId: string | null;
  journeyId: string;
  versionId: string;
}

/** Records one provider report (see the top of the file). */
export async function recordDeliveryReport(
  ctx: EngineContext,
  report: DeliveryReport,
): Promise<ReportResult> {
  const [msg] = await ctx.db.query<ReportedMessage>(
    `SELECT m.id, m."runId", m."stepId", m."customerId", m.recipient, m."sentAt",
            c."externalId", r."journeyId", ${sentOnVersionSql("m", "r")} AS "versionId"
     FROM "Message" m JOIN "JourneyRun" r ON r.id = m."runId"
     LEFT JOIN "Customer" c ON c.id = m."customerId"
     WHERE m."workspaceId" = $1 AND m."providerMessageId" = $2 AND m.channel = $3
     ORDER BY m."createdAt" DESC LIMIT 1`,
    [report.workspaceId, report.providerMessageId, report.channel],
    { prepare: "engine.deliveryReportMessage" },
  );
  if (!msg) return "unknown_message";
  const now = ctx.now();
  const at = report.at !== undefined && Number.isFinite(report.at) ? report.at : now;
  const undelivered = report.outcome === "bounced" || report.outcome === "failed";
  const plan = await loadPlan(ctx, msg.versionId).catch(() => null);
  const sentDay = utcDay(msg.sentAt ? msg.sentAt.getTime() : now);
  const [row] = await ctx.db.query<{ first: boolean }>(
    `WITH e AS (
       INSERT INTO "MessageEngagement" ("messageId", kind, count, "firstAt", "lastAt")
       VALUES ($1, $2, 1, $3, $3)
       ON CONFLICT ("messageId", kind) DO UPDATE SET count = "MessageEngagement".count + 1,
         "lastAt" = EXCLUDED."lastAt"
       RETURNING (count = 1) AS first
     ), t AS (
       INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
       SELECT $4, $5, $6, $7::jsonb, $3 FROM e WHERE e.first
     ), u AS (
       INSERT INTO "MessageEngagement" ("messageId", kind, count, "firstAt", "lastAt")
       SELECT $1, 'undelivered', 1, $3, $3 WHERE $8::boolean
       ON CONFLICT ("messageId", kind) DO NOTHING
       RETURNING 1
     ), r AS (
       INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", delivered, failed)
       SELECT $9, $5, $10, $11::date, $12, $13, -1, 1 FROM u
       ON CONFLICT ("versionId", "stepId", variant, day, shard) DO UPDATE SET ${ROLLUP_ADD}
     )
     SELECT first FROM e`,
    [
      msg.id,
      report.outcome,
      new Date(now),
      msg.runId,
      msg.stepId,
      `message.${report.outcome}`,
      JSON.stringify({
        channel: report.channel,
        messageId: msg.id,
        providerMessageId: report.providerMessageId,
        reportedAt: new Date(at).toISOString(),
        ...(report.detail ?? {}),
      }),
      undelivered,
      msg.versionId,
      variantAt(plan, msg.runId, msg.stepId),
      sentDay,
      takeShard(),
      msg.journeyId,
    ],
  );

  const address = msg.recipient;
  if (address && report.consequence && report.consequence !== "unsubscribe") {
    const reason: SuppressionReason =
      report.consequence === "suppress_bounce"
        ? "bounce"
        : report.consequence === "suppress_complaint"
          ? "complaint"
          : "manual";
    await addSuppression(ctx, {
      workspaceId: report.workspaceId,
      channel: report.channel,
      address,
      reason,
      // The note a STOP reply writes (handleInboundSms): a later START lifts it the same way.
      note:
        report.consequence === "sms_stop"
          ? "replied STOP"
          : `reported by the provider${report.detail?.reason ? `: ${report.detail.reason.slice(0, 200)}` : ""}`,
      createdBy: "provider",
    });
  }
  if (msg.customerId && report.consequence && report.consequence !== "suppress_bounce")
    await setSubscription(ctx, {
      workspaceId: report.workspaceId,
      customerId: msg.customerId,
      channel: report.channel,
      status: "unsubscribed",
      source:
        report.consequence === "sms_stop"
          ? "sms_stop"
          : report.consequence === "unsubscribe"
            ? "provider_unsubscribe"
            : "complaint",
      actor: "system",
      // A choice recorded after the reported one stands (see the top of the file).
      onlyIfUnchangedSince: new Date(at),
      detail: { messageId: msg.id, report: report.outcome, ...(report.detail ?? {}) },
    });

  if (msg.externalId)
    await track(ctx, report.workspaceId, {
      userId: msg.externalId,
      event: `${report.channel}_${report.outcome}`,
      messageId: `report-${report.reportId}`.slice(0, 255),
      timestamp: new Date(at).toISOString(),
      properties: {
        message_id: msg.id,
        journey_id: msg.journeyId,
        step_id: msg.stepId,
        ...(report.detail ?? {}),
      },
    });
  return row?.first === true ? "recorded" : "repeated";
}
