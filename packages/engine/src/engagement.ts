// issue 17, item 1: engagement — clicks and opens.
//
// At send time the links of an email (HTML and text parts), an SMS and a push body are rewritten
// to `${publicUrl}/c/<token>`: the token is the message id, the original URL and an HMAC of both
// (a key derived from the master keyring, like unsubscribe links), so a link can be neither forged
// nor pointed somewhere else (no open redirect). Unsubscribe links are never rewritten. Opens: when
// the workspace turned them on, a 1×1 image `${publicUrl}/o/<token>.gif` (message id + HMAC).
//
// A click (or an open) is recorded by `recordEngagement`: one statement counts it on the message
// (first time or again), writes a run trace row and adds to the analytics rollups; then the event
// (`email_clicked`, `sms_clicked`, `push_clicked`, `email_opened`) goes on the customer through
// ingest's `track`, like any /v1/track call (usable by triggers, waits, splits and goals).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { UNSUBSCRIBE_URL_PLACEHOLDER } from "@postpath/channels";
import type { EngineContext } from "./context.ts";
import { track } from "./ingest.ts";
import { loadPlan } from "./plans.ts";
import { ROLLUP_ADD, sentOnVersionSql, utcDay, variantAt } from "./rollups.ts";
import { takeShard } from "./counters.ts";
import { workspaceAnalytics } from "./attribution.ts";

let processKey: Buffer | null = null;

/** Keys for engagement links: the current master key signs, older ones still verify. */
function linkKeys(ctx: EngineContext): Buffer[] {
  const derive = (k: Buffer) => createHmac("sha256", k).update("postpath:engagement:v1").digest();
  if (ctx.keyring) {
    const current = ctx.keyring.current;
    return [
      derive(current.key),
      ...[...ctx.keyring.byId.values()]
        .filter((k) => k.id !== current.id)
        .map((k) => derive(k.key)),
    ];
  }
  processKey ??= randomBytes(32);
  return [processKey];
}

function mac(key: Buffer, text: string): string {
  return createHmac("sha256", key).update(text).digest("base64url").slice(0, 22);
}

function verify(ctx: EngineContext, text: string, given: string): boolean {
  const g = Buffer.from(given);
  for (const key of linkKeys(ctx)) {
    const want = Buffer.from(mac(key, text));
    if (want.length === g.length && timingSafeEqual(want, g)) return true;
  }
  return false;
}

/** Longest URL rewritten (longer ones are left as they are). */
const MAX_URL = 2000;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const HTTP_URL = /^https?:\/\/[^\s<>"'`\\]+$/i;

export function clickToken(ctx: EngineContext, messageId: string, url: string): string {
  const [key] = linkKeys(ctx);
  if (!key) throw new Error("no key for engagement links");
  return `${messageId}.${Buffer.from(url).toString("base64url")}.${mac(key, `click\n${messageId}\n${url}`)}`;
}

export function openToken(ctx: EngineContext, messageId: string): string {
  const [key] = linkKeys(ctx);
  if (!key) throw new Error("no key for engagement links");
  return `${messageId}.${mac(key, `open\n${messageId}`)}`;
}

/** The message and original URL of a genuine click token, else null (never says why). */
export function readClickToken(
  ctx: EngineContext,
  token: string,
): { messageId: string; url: string } | null {
  if (token.length > 4000) return null;
  const [messageId, encoded, given, extra] = token.split(".");
  if (extra !== undefined || !messageId || !encoded || !given || !ID.test(messageId)) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(encoded) || !/^[A-Za-z0-9_-]{22}$/.test(given)) return null;
  const url = Buffer.from(encoded, "base64url").toString("utf8");
  if (!verify(ctx, `click\n${messageId}\n${url}`, given)) return null;
  // Only http(s) URLs are ever signed; checked again all the same.
  return HTTP_URL.test(url) ? { messageId, url } : null;
}

export function readOpenToken(ctx: EngineContext, token: string): { messageId: string } | null {
  const [messageId, given, extra] = token.split(".");
  if (extra !== undefined || !messageId || !given || !ID.test(messageId)) return null;
  if (!/^[A-Za-z0-9_-]{22}$/.test(given)) return null;
  return verify(ctx, `open\n${messageId}`, given) ? { messageId } : null;
}

// ---------------------------------------------------------------------------------------------
// Rewriting at send time

const base = (ctx: EngineContext) => ctx.publicUrl.replace(/\/+$/, "");

/** Links never tracked: unsubscribe links (ours or the placeholder) and links already tracked. */
function untracked(ctx: EngineContext, url: string): boolean {
  if (!HTTP_URL.test(url) || url.length > MAX_URL) return true;
  if (
    url === UNSUBSCRIBE_URL_PLACEHOLDER ||
    url.startsWith("https://unsubscribe.postpath.invalid/")
  )
    return true;
  const b = base(ctx);
  return url.startsWith(`${b}/u/`) || url.startsWith(`${b}/c/`) || url.startsWith(`${b}/o/`);
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/gi, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** `href`s of `<a>` tags (not marked as the unsubscribe link) through the redirect. */
export function rewriteHtml(ctx: EngineContext, messageId: string, html: string): string {
  return html.replace(/<a\b[^>]*>/gi, (tag) => {
    if (/data-postpath-unsubscribe/i.test(tag)) return tag;
    return tag.replace(
      /(\bhref\s*=\s*)(["'])([^"']*)\2/i,
      (whole, pre: string, q: string, raw: string) => {
        const url = unescapeHtml(raw.trim());
        if (untracked(ctx, url)) return whole;
        return `${pre}${q}${base(ctx)}/c/${clickToken(ctx, messageId, url)}${q}`;
      },
    );
  });
}

/** Bare http(s) URLs in text (an SMS, a push body, an email's text part). */
export function rewriteText(ctx: EngineContext, messageId: string, text: string): string {
  return text.replace(/https?:\/\/[^\s<>"'`\\]+/gi, (found) => {
    // Sentence punctuation after a URL is not part of it.
    const url = found.replace(/[.,;:!?)\]]+$/, "");
    const tail = found.slice(url.length);
    if (untracked(ctx, url)) return found;
    return `${base(ctx)}/c/${clickToken(ctx, messageId, url)}${tail}`;
  });
}

/** The 1×1 open pixel, before `</body>` (or at the end). */
export function withOpenPixel(ctx: EngineContext, messageId: string, html: string): string {
  const img = `<img src="${base(ctx)}/o/${openToken(ctx, messageId)}.gif" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />`;
  const end = html.toLowerCase().lastIndexOf("</body>");
  return end >= 0 ? `${html.slice(0, end)}${img}${html.slice(end)}` : `${html}${img}`;
}

/**
 * The send path's hook (sends.ts): the stored payload with its links tracked (and the open pixel
 * when the workspace turned opens on). Other channels and engine outputs are returned as they are.
 */
export async function withTracking(
  ctx: EngineContext,
  msg: { id: string; workspaceId: string; channel: string },
  payload: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const out = { ...payload };
  if (msg.channel === "email") {
    if (typeof out.html === "string") {
      out.html = rewriteHtml(ctx, msg.id, out.html);
      if ((await workspaceAnalytics(ctx, msg.workspaceId)).trackOpens)
        out.html = withOpenPixel(ctx, msg.id, out.html as string);
    }
    if (typeof out.text === "string") out.text = rewriteText(ctx, msg.id, out.text);
  } else if (msg.channel === "sms" || msg.channel === "push") {
    if (typeof out.body === "string") out.body = rewriteText(ctx, msg.id, out.body);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Recording

export type EngagementKind = "clicked" | "opened";

interface MessageRef {
  id: string;
  workspaceId: string;
  runId: string;
  stepId: string;
  channel: string;
  customerId: string | null;
  externalId: string | null;
  versionId: string;
  journeyId: string;
}

/**
 * Records an open or a click of a message: counted on the message, a run trace row and the
 * rollups (one statement), then the customer's event through `track`. Returns false when the
 * message no longer exists (nothing recorded).
 */
export async function recordEngagement(
  ctx: EngineContext,
  kind: EngagementKind,
  messageId: string,
  detail: { url?: string } = {},
): Promise<boolean> {
  const [msg] = await ctx.db.query<MessageRef>(
    // issue 18: a run moved to a newer version after this message was sent counts its opens and
    // clicks on the version that sent it.
    `SELECT m.id, m."workspaceId", m."runId", m."stepId", m.channel, m."customerId",
            c."externalId", r."journeyId", ${sentOnVersionSql("m", "r")} AS "versionId"
     FROM "Message" m JOIN "JourneyRun" r ON r.id = m."runId"
     LEFT JOIN "Customer" c ON c.id = m."customerId"
     WHERE m.id = $1`,
    [messageId],
    { prepare: "engine.engagementMessage" },
  );
  if (!msg) return false;
  const plan = await loadPlan(ctx, msg.versionId).catch(() => null);
  const now = ctx.now();
  const event = `${msg.channel}_${kind}`;
  const unique = kind === "clicked" ? "clickedUnique" : "openedUnique";
  await ctx.db.query(
    `WITH e AS (
       INSERT INTO "MessageEngagement" ("messageId", kind, count, "firstAt", "lastAt")
       VALUES ($1, $2, 1, $3, $3)
       ON CONFLICT ("messageId", kind) DO UPDATE SET count = "MessageEngagement".count + 1,
         "lastAt" = EXCLUDED."lastAt"
       RETURNING (count = 1) AS first
     ), t AS (
       INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
       SELECT $4, $5, $6, $7::jsonb, $3 FROM e
     )
     INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", "${kind}", "${unique}")
     SELECT $8, $5, $9, $10::date, $11, $12, 1, CASE WHEN e.first THEN 1 ELSE 0 END FROM e
     ON CONFLICT ("versionId", "stepId", variant, day, shard) DO UPDATE SET ${ROLLUP_ADD}`,
    [
      msg.id,
      kind,
      new Date(now),
      msg.runId,
      msg.stepId,
      `message.${kind}`,
      JSON.stringify({
        channel: msg.channel,
        messageId: msg.id,
        ...(detail.url ? { url: detail.url } : {}),
      }),
      msg.versionId,
      variantAt(plan, msg.runId, msg.stepId),
      utcDay(now),
      takeShard(),
      msg.journeyId,
    ],
  );
  if (msg.externalId)
    await track(ctx, msg.workspaceId, {
      userId: msg.externalId,
      event,
      timestamp: new Date(now).toISOString(),
      properties: {
        message_id: msg.id,
        journey_id: msg.journeyId,
        step_id: msg.stepId,
        ...(detail.url ? { url: detail.url } : {}),
      },
    });
  return true;
}

/**
 * A send's outcome as an event on the customer: `email_sent` (`sms_sent`, `push_sent`) when the
 * provider accepted it, `email_failed` when it failed for good. Whether it then reached the inbox
 * or phone is the provider's to say: `email_delivered`, `email_bounced`, `sms_delivered`… come from
 * its delivery reports (delivery-reports.ts). The message id makes a replay of the same outcome
 * one event. Best effort: the send is already recorded; an outage here is logged, not retried.
 */
export async function recordSendOutcome(
  ctx: EngineContext,
  msg: {
    id: string;
    workspaceId: string;
    channel: string;
    customerId: string | null;
    runId: string;
    stepId: string;
  },
  outcome: "sent" | "failed",
): Promise<void> {
  if (!["email", "sms", "push"].includes(msg.channel) || !msg.customerId) return;
  try {
    const [c] = await ctx.db.query<{ externalId: string }>(
      `SELECT "externalId" FROM "Customer" WHERE id = $1`,
      [msg.customerId],
      { prepare: "engine.outcomeCustomer" },
    );
    if (!c) return;
    await track(ctx, msg.workspaceId, {
      userId: c.externalId,
      event: `${msg.channel}_${outcome}`,
      messageId: `${outcome}-${msg.id}`,
      timestamp: new Date(ctx.now()).toISOString(),
      properties: { message_id: msg.id, step_id: msg.stepId },
    });
  } catch (err) {
    ctx.log.warn(
      { messageId: msg.id, err: err instanceof Error ? err.message : String(err) },
      `could not record the ${outcome} event`,
    );
  }
}
