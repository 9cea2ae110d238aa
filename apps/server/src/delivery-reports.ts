// issue 17, item 1: delivery reports from the providers — what happened to a message after the
// provider accepted it (packages/engine/src/delivery-reports.ts records them).
//
// POST /hooks/twilio/:workspaceId    Twilio's SMS status callback (form-encoded MessageSid,
//                                    MessageStatus, ErrorCode, To, …). Signed with
//                                    X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token
//                                    of the workspace's SMS credential, of the full URL followed by
//                                    every POST parameter's name and value, sorted by name.
//                                    delivered → sms_delivered; undelivered / failed → sms_failed
//                                    (error 21610, "the recipient replied STOP": also unsubscribed
//                                    and on the suppression list); other statuses are acknowledged.
// POST /hooks/sendgrid/:workspaceId  SendGrid's Event Webhook (a JSON array of events), signed
//                                    (Signed Event Webhook): ECDSA P-256 / SHA-256 over the
//                                    X-Twilio-Email-Event-Webhook-Timestamp header followed by the
//                                    raw body, verified with the public key saved in the
//                                    workspace's SMTP credential. `smtp-id` is our Message-ID.
//                                    delivered → email_delivered; bounce → email_bounced and
//                                    suppressed (type "blocked": email_failed); dropped →
//                                    email_failed; spamreport → email_complained, suppressed and
//                                    unsubscribed from email; unsubscribe / group_unsubscribe
//                                    (the recipient used SendGrid's own unsubscribe link) →
//                                    email_unsubscribed and unsubscribed from email (not
//                                    suppressed: they may still get transactional mail); other
//                                    events are acknowledged. The signed timestamp must be within
//                                    SENDGRID_MAX_AGE_S of now (a recorded request replayed later,
//                                    e.g. an old unsubscribe after the customer subscribed again,
//                                    is refused; each retry of SendGrid's is signed anew).
//
// The address names the workspace (its id, no secret): the signature is what proves the sender.
// Answers: a missing signature 401, a wrong one 403; a malformed body 400 naming the field; a
// report about a message that is not ours 200 (acknowledged, logged at debug) so the provider does
// not retry it for days; a replay 200 and nothing new (reports are de-duplicated: SendGrid's
// sg_event_id, Twilio's MessageSid + status). An outage is 503 (ingest.ts's error handler), which
// both providers retry.
import { createPublicKey, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import {
  readCredential,
  recordDeliveryReport,
  type DeliveryReport,
  type EngineContext,
  type Keyring,
} from "@postpath/engine";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { twilioSignature } from "./unsubscribe.ts";

export interface DeliveryReportOptions {
  engine: EngineContext;
  keyring?: Keyring;
}

const FORM_LIMIT = 16 * 1024;
/** SendGrid posts batches of events; a few MB is far above what it sends at once. */
const JSON_LIMIT = 5 * 1024 * 1024;

export const TWILIO_SIGNATURE_HEADER = "x-twilio-signature";
export const SENDGRID_SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature";
export const SENDGRID_TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp";
/** How far the signed timestamp may be from now, in seconds (past; a fifth of it in the future). */
export const SENDGRID_MAX_AGE_S = 15 * 60;

/** SendGrid shows its verification key as base64 DER (SPKI); a PEM is taken too. Null if neither. */
export function sendgridPublicKey(text: string): KeyObject | null {
  try {
    const t = text.trim();
    return t.startsWith("-----BEGIN")
      ? createPublicKey(t)
      : createPublicKey({ key: Buffer.from(t, "base64"), format: "der", type: "spki" });
  } catch {
    return null;
  }
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function registerDeliveryReports(app: FastifyInstance, opts: DeliveryReportOptions): void {
  const { engine, keyring } = opts;
  const { prisma } = engine.db;

  async function workspaceExists(id: string): Promise<boolean> {
    if (!ID.test(id)) return false;
    return (await prisma.workspace.findUnique({ where: { id }, select: { id: true } })) !== null;
  }

  const fail = (reply: FastifyReply, status: number, error: string) =>
    reply.code(status).header("cache-control", "no-store").send({ error });

  // --- Twilio: SMS status callbacks ---------------------------------------------------------
  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: FORM_LIMIT },
      (_req, body, next) => {
        const out: Record<string, string> = {};
        for (const [k, v] of new URLSearchParams(body as string)) out[k] ??= v;
        next(null, out);
      },
    );
    scope.post<{ Params: { workspaceId: string }; Body: unknown }>(
      "/hooks/twilio/:workspaceId",
      { bodyLimit: FORM_LIMIT },
      async (req, reply) => {
        const { workspaceId } = req.params;
        if (!(await workspaceExists(workspaceId)))
          return fail(reply, 404, "Unknown workspace: check the address copied from Postpath.");
        const body =
          req.body && typeof req.body === "object" && !Array.isArray(req.body)
            ? (req.body as Record<string, string>)
            : null;
        if (!body)
          return fail(
            reply,
            400,
            "body: expected a form-encoded status callback (application/x-www-form-urlencoded).",
          );
        const credential = keyring
          ? await readCredential(engine.db, keyring, { workspaceId, kind: "SMS" })
          : null;
        const authToken =
          typeof credential?.config["authToken"] === "string"
            ? credential.config["authToken"]
            : null;
        if (!authToken)
          return fail(
            reply,
            403,
            "This workspace has no SMS credential, so delivery reports cannot be verified: add the Twilio account in Settings → Channel credentials.",
          );
        const given = req.headers[TWILIO_SIGNATURE_HEADER];
        if (typeof given !== "string" || given.length === 0)
          return fail(
            reply,
            401,
            "X-Twilio-Signature is missing: only Twilio's signed requests are accepted.",
          );
        const url = `${engine.publicUrl.replace(/\/+$/, "")}${req.url}`;
        if (!sameText(given, twilioSignature(authToken, url, body)))
          return fail(
            reply,
            403,
            "X-Twilio-Signature does not match this workspace's SMS credential (its auth token) and this address.",
          );

        const sid = body["MessageSid"] ?? body["SmsSid"];
        const status = body["MessageStatus"] ?? body["SmsStatus"];
        if (typeof sid !== "string" || !ID.test(sid))
          return fail(reply, 400, "MessageSid: the provider's message id is required.");
        if (typeof status !== "string" || !/^[a-z_]{1,40}$/.test(status))
          return fail(reply, 400, "MessageStatus: the message status is required.");
        const errorCode = body["ErrorCode"];
        if (errorCode !== undefined && errorCode !== "" && !/^[0-9]{1,10}$/.test(errorCode))
          return fail(reply, 400, "ErrorCode: expected a number.");

        const outcome =
          status === "delivered"
            ? "delivered"
            : status === "undelivered" || status === "failed"
              ? "failed"
              : null;
        if (!outcome) return reply.code(200).send({ ok: true, recorded: 0 });
        const result = await recordDeliveryReport(engine, {
          workspaceId,
          channel: "sms",
          providerMessageId: sid,
          outcome,
          reportId: `twilio-${sid}-${outcome}`,
          detail: {
            status,
            ...(errorCode ? { error_code: errorCode } : {}),
          },
          ...(errorCode === "21610" ? { consequence: "sms_stop" as const } : {}),
        });
        if (result === "unknown_message")
          req.log.debug({ workspaceId, sid, status }, "SMS status for a message that is not ours");
        return reply.code(200).send({
          ok: true,
          recorded: result === "recorded" ? 1 : 0,
          ...(result === "unknown_message" ? { ignored: 1 } : {}),
        });
      },
    );
    done();
  });

  // --- SendGrid: Event Webhook --------------------------------------------------------------
  void app.register((scope, _opts, done) => {
    // The signature covers the raw bytes: this route alone takes its body unparsed.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: JSON_LIMIT },
      (_req, body, next) => next(null, body),
    );
    scope.post<{ Params: { workspaceId: string }; Body: Buffer | undefined }>(
      "/hooks/sendgrid/:workspaceId",
      { bodyLimit: JSON_LIMIT },
      async (req, reply) => sendgrid(req, reply),
    );
    done();
  });

  async function sendgrid(
    req: FastifyRequest<{ Params: { workspaceId: string }; Body: Buffer | undefined }>,
    reply: FastifyReply,
  ) {
    const { workspaceId } = req.params;
    if (!(await workspaceExists(workspaceId)))
      return fail(reply, 404, "Unknown workspace: check the address copied from Postpath.");
    const credential = keyring
      ? await readCredential(engine.db, keyring, { workspaceId, kind: "SMTP" })
      : null;
    const keyText = credential?.config["eventWebhookPublicKey"];
    const key = typeof keyText === "string" ? sendgridPublicKey(keyText) : null;
    if (!key)
      return fail(
        reply,
        403,
        "This workspace's email credential has no SendGrid verification key, so delivery reports cannot be verified: paste the key from SendGrid's Event Webhook settings into the SMTP credential.",
      );
    const signature = req.headers[SENDGRID_SIGNATURE_HEADER];
    const timestamp = req.headers[SENDGRID_TIMESTAMP_HEADER];
    if (typeof signature !== "string" || !signature || typeof timestamp !== "string" || !timestamp)
      return fail(
        reply,
        401,
        "X-Twilio-Email-Event-Webhook-Signature and -Timestamp are required: turn on Signed Event Webhook in SendGrid.",
      );
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let ok: boolean;
    try {
      ok = verify(
        "sha256",
        Buffer.concat([Buffer.from(timestamp, "utf8"), raw]),
        key,
        Buffer.from(signature, "base64"),
      );
    } catch {
      ok = false; // not a DER signature at all
    }
    if (!ok)
      return fail(
        reply,
        403,
        "X-Twilio-Email-Event-Webhook-Signature does not match the verification key saved in this workspace's SMTP credential.",
      );
    const signedAt = /^\d{1,12}$/.test(timestamp.trim()) ? Number(timestamp.trim()) : NaN;
    const age = Math.floor(engine.now() / 1000) - signedAt;
    if (!Number.isFinite(age) || age > SENDGRID_MAX_AGE_S || age < -SENDGRID_MAX_AGE_S / 5)
      return fail(
        reply,
        403,
        `X-Twilio-Email-Event-Webhook-Timestamp: signed ${Number.isFinite(age) ? `${Math.round(age / 60)} minutes ago` : "at an unreadable time"}; only requests signed in the last ${SENDGRID_MAX_AGE_S / 60} minutes are accepted (a replayed request is refused). Check this server's clock if SendGrid's requests are refused.`,
      );

    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      return fail(reply, 400, "body: expected a JSON array of events.");
    }
    if (!Array.isArray(parsed)) return fail(reply, 400, "body: expected a JSON array of events.");
    const reports: DeliveryReport[] = [];
    let ignored = 0;
    for (const [i, item] of parsed.entries()) {
      const problem = (field: string, what: string) =>
        fail(reply, 400, `[${i}].${field}: ${what}.`);
      if (!item || typeof item !== "object" || Array.isArray(item))
        return fail(reply, 400, `[${i}]: expected an event object.`);
      const e = item as Record<string, unknown>;
      if (typeof e.event !== "string" || !e.event) return problem("event", "required");
      if (typeof e.sg_event_id !== "string" || !e.sg_event_id || e.sg_event_id.length > 200)
        return problem("sg_event_id", "required");
      const smtpId = e["smtp-id"];
      if (smtpId !== undefined && (typeof smtpId !== "string" || smtpId.length > 998))
        return problem("smtp-id", "expected the message's Message-ID");
      if (e.timestamp !== undefined && typeof e.timestamp !== "number")
        return problem("timestamp", "expected seconds since 1970");
      for (const f of ["reason", "type", "email", "status"])
        if (e[f] !== undefined && typeof e[f] !== "string") return problem(f, "expected a string");
      if (e.asm_group_id !== undefined && !Number.isInteger(e.asm_group_id))
        return problem("asm_group_id", "expected the unsubscribe group's number");
      const type = e.type as string | undefined;
      const mapped =
        e.event === "delivered"
          ? ({ outcome: "delivered" } as const)
          : e.event === "bounce"
            ? type === "blocked"
              ? ({ outcome: "failed" } as const)
              : ({ outcome: "bounced", consequence: "suppress_bounce" } as const)
            : e.event === "dropped" || e.event === "blocked"
              ? ({ outcome: "failed" } as const)
              : e.event === "spamreport"
                ? ({ outcome: "complained", consequence: "suppress_complaint" } as const)
                : e.event === "unsubscribe" || e.event === "group_unsubscribe"
                  ? ({ outcome: "unsubscribed", consequence: "unsubscribe" } as const)
                  : null;
      // Events about other mail (no Message-ID), or that change nothing here (processed,
      // deferred, open, click, …) are acknowledged.
      if (!mapped || typeof smtpId !== "string" || !smtpId.trim()) {
        ignored++;
        continue;
      }
      const id = smtpId.trim();
      const detail: Record<string, string> = { event: e.event };
      if (typeof e.reason === "string" && e.reason) detail.reason = e.reason.slice(0, 500);
      if (type) detail.type = type.slice(0, 40);
      if (typeof e.status === "string" && e.status) detail.status = e.status.slice(0, 40);
      if (typeof e.asm_group_id === "number") detail.unsubscribeGroup = String(e.asm_group_id);
      reports.push({
        workspaceId,
        channel: "email",
        providerMessageId: id.startsWith("<") ? id : `<${id}>`,
        reportId: `sendgrid-${e.sg_event_id}`,
        ...mapped,
        ...(typeof e.timestamp === "number" ? { at: e.timestamp * 1000 } : {}),
        detail,
      });
    }
    let recorded = 0;
    for (const r of reports) {
      const result = await recordDeliveryReport(engine, r);
      if (result === "recorded") recorded++;
      if (result === "unknown_message") {
        ignored++;
        req.log.debug(
          { workspaceId, reportId: r.reportId },
          "email event for a message that is not ours",
        );
      }
    }
    return reply.code(200).send({ ok: true, received: parsed.length, recorded, ignored });
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
