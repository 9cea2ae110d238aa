// issue 16: consent and subscriptions. A customer's state per channel (email, SMS, push) —
// subscribed, unsubscribed or never asked (no row) — with the history of every change (who,
// when, source); a workspace-wide suppression list (bounces, complaints, manual); signed
// unsubscribe links; inbound SMS STOP / START. Marketing messages are checked against all of it
// inside the outbox claim (sends.ts), so nothing claimed after an unsubscribe commits is sent.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { EngineContext } from "./context.ts";

export const CONSENT_CHANNELS = ["email", "sms", "push"] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

export const SUBSCRIPTION_STATUSES = ["subscribed", "unsubscribed"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** Where a change came from. */
export const CONSENT_SOURCES = [
  "api",
  "form",
  "unsubscribe_link",
  "one_click",
  "preference_centre",
  "sms_stop",
  "sms_start",
  "admin",
  "bounce",
  "identify",
  /** issue 17: the email provider reported the recipient marked a message as spam. */
  "complaint",
  /** issue 17: the recipient unsubscribed through the email provider's own link. */
  "provider_unsubscribe",
] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

export const SUPPRESSION_REASONS = ["bounce", "complaint", "manual"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** Words for a source, as the trace and the profile show them. */
export const SOURCE_WORDS: Record<ConsentSource, string> = {
  api: "through the API",
  form: "a form",
  unsubscribe_link: "unsubscribe link",
  one_click: "one-click unsubscribe in the inbox",
  preference_centre: "preference centre",
  sms_stop: "replied STOP",
  sms_start: "replied START",
  admin: "changed by a team member",
  bounce: "bounce",
  identify: "profile update",
  complaint: "marked an email as spam",
  provider_unsubscribe: "unsubscribed with the email provider's link",
};

export function isConsentChannel(c: string): c is ConsentChannel {
  return (CONSENT_CHANNELS as readonly string[]).includes(c);
}

function sourceWords(source: string): string {
  return (SOURCE_WORDS as Record<string, string | undefined>)[source] ?? source;
}

// ---------------------------------------------------------------------------------------------
// Signed links

const CHANNEL_CODE: Record<ConsentChannel, string> = { email: "e", sms: "s", push: "p" };
const CODE_CHANNEL: Record<string, ConsentChannel> = { e: "email", s: "sms", p: "push" };
const TOKEN = /^([A-Za-z0-9_-]{1,64})\.([esp])\.([A-Za-z0-9_-]{22})$/;
let processKey: Buffer | null = null;

/**
 * Keys for unsubscribe links: derived from each master key (the current one signs; older ones
 * still verify until a rotation drops them). Without a keyring (tests, tools), a key of this
 * process — links then die with it.
 */
function linkKeys(ctx: EngineContext): Buffer[] {
  const derive = (k: Buffer) => createHmac("sha256", k).update("postpath:unsubscribe:v1").digest();
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

function mac(key: Buffer, customerId: string, channel: ConsentChannel): string {
  return createHmac("sha256", key)
    .update(`unsubscribe\n${customerId}\n${channel}`)
    .digest("base64url")
    .slice(0, 22);
}

/**
 * A customer's unsubscribe token for a channel: `<customer id>.<channel letter>.<HMAC>` — the
 * internal customer id (not their email or external id) and a MAC; no secret, no destination.
 */
export function unsubscribeToken(
  ctx: EngineContext,
  customerId: string,
  channel: ConsentChannel,
): string {
  const [key] = linkKeys(ctx);
  if (!key) throw new Error("no key for unsubscribe links");
  return `${customerId}.${CHANNEL_CODE[channel]}.${mac(key, customerId, channel)}`;
}

/** The hosted unsubscribe page (GET) and RFC 8058 one-click endpoint (POST) for a customer. */
export function unsubscribeUrl(
  ctx: EngineContext,
  customerId: string,
  channel: ConsentChannel,
): string {
  return `${ctx.publicUrl.replace(/\/+$/, "")}/u/${unsubscribeToken(ctx, customerId, channel)}`;
}

/** The customer and channel of a genuine token, else null (never says why). */
export function readUnsubscribeToken(
  ctx: EngineContext,
  token: string,
): { customerId: string; channel: ConsentChannel } | null {
  const m = TOKEN.exec(token);
  if (!m) return null;
  const [, customerId, code, given] = m;
  const channel = code ? CODE_CHANNEL[code] : undefined;
  if (!customerId || !channel || !given) return null;
  const g = Buffer.from(given);
  for (const key of linkKeys(ctx)) {
    const want = Buffer.from(mac(key, customerId, channel));
    if (want.length === g.length && timingSafeEqual(want, g)) return { customerId, channel };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// State and history

export interface SetSubscription {
  /** The customer's workspace; null: whichever it is (callers that hold only the customer id). */
  workspaceId: string | null;
  customerId: string;
  channel: ConsentChannel;
  status: SubscriptionStatus;
  source: ConsentSource;
  /** A user id, "customer", "api" or "system". */
  actor: string;
  detail?: Record<string, unknown>;
  /**
   * Only when the subscription was not changed after this time: a provider's report of something
   * the customer did then must not undo a choice they made later.
   */
  onlyIfUnchangedSince?: Date;
}

export interface SubscriptionResult {
  /** False: the customer (in that workspace) does not exist. */
  found: boolean;
  /** False when the customer already had this status (no history row is written). */
  changed: boolean;
  previous: SubscriptionStatus | null;
}

/**
 * Sets a customer's subscription to a channel and writes its history, in one statement. From the
 * moment it commits, no marketing message on that channel is claimed for sending (sends.ts).
 */
export async function setSubscription(
  ctx: EngineContext,
  input: SetSubscription,
): Promise<SubscriptionResult> {
  const rows = await ctx.db.query<{
    found: boolean;
    previous: SubscriptionStatus | null;
    changed: number;
  }>(
    `WITH c AS (
       SELECT id, "workspaceId" FROM "Customer"
       WHERE id = $1 AND ($2::text IS NULL OR "workspaceId" = $2)
     ), prev AS (
       SELECT s.status FROM "Subscription" s JOIN c ON c.id = s."customerId" WHERE s.channel = $3
     ), up AS (
       INSERT INTO "Subscription" ("customerId", "workspaceId", channel, status, source, "changedAt")
       SELECT c.id, c."workspaceId", $3, $4, $5, $8 FROM c
       ON CONFLICT ("customerId", channel) DO UPDATE
         SET status = EXCLUDED.status, source = EXCLUDED.source, "changedAt" = EXCLUDED."changedAt"
         WHERE "Subscription".status IS DISTINCT FROM EXCLUDED.status
           AND ($9::timestamptz IS NULL OR "Subscription"."changedAt" <= $9)
       RETURNING "customerId", "workspaceId"
     ), ch AS (
       INSERT INTO "SubscriptionChange"
         ("workspaceId", "customerId", channel, previous, status, source, actor, detail, at)
       SELECT up."workspaceId", up."customerId", $3, (SELECT status FROM prev), $4, $5, $6, $7::jsonb, $8
       FROM up
       RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM c) AS found, (SELECT status FROM prev) AS previous,
       (SELECT count(*) FROM ch)::int AS changed`,
    [
      input.customerId,
      input.workspaceId,
      input.channel,
      input.status,
      input.source,
      input.actor,
      JSON.stringify(input.detail ?? {}),
      new Date(ctx.now()),
      input.onlyIfUnchangedSince ?? null,
    ],
  );
  const row = rows[0];
  return {
    found: row?.found === true,
    changed: (row?.changed ?? 0) > 0,
    previous: row?.previous ?? null,
  };
}

export interface ChannelConsent {
  channel: ConsentChannel;
  /** "never_asked": no choice recorded. */
  status: SubscriptionStatus | "never_asked";
  source: string | null;
  changedAt: Date | null;
  /** Suppressed address for this channel (applies whatever the status), with why. */
  suppressed: { address: string; reason: string; at: Date } | null;
}

export interface ConsentChange {
  id: string;
  channel: string;
  previous: string | null;
  status: string;
  source: string;
  /** The source in words ("unsubscribe link"). */
  sourceLabel: string;
  actor: string;
  detail: unknown;
  at: Date;
}

/** A customer's state per channel and their history (newest first, at most `limit`). */
export async function consentOf(
  ctx: EngineContext,
  workspaceId: string,
  customerId: string,
  limit = 100,
): Promise<{ channels: ChannelConsent[]; history: ConsentChange[] } | null> {
  const { prisma } = ctx.db;
  const customer = await prisma.customer.findFirst({
    where: { id: customerId, workspaceId },
    select: { id: true, email: true, phone: true },
  });
  if (!customer) return null;
  const [subs, changes, suppressions] = await Promise.all([
    prisma.subscription.findMany({ where: { customerId } }),
    prisma.subscriptionChange.findMany({
      where: { customerId },
      orderBy: { id: "desc" },
      take: limit,
    }),
    prisma.suppression.findMany({
      where: {
        workspaceId,
        OR: [
          ...(customer.email ? [{ channel: "email", address: customer.email.toLowerCase() }] : []),
          ...(customer.phone ? [{ channel: "sms", address: normalizePhone(customer.phone) }] : []),
        ],
      },
    }),
  ]);
  const channels = CONSENT_CHANNELS.map((channel): ChannelConsent => {
    const s = subs.find((x) => x.channel === channel);
    const sup = suppressions.find((x) => x.channel === channel);
    return {
      channel,
      status: s ? (s.status as SubscriptionStatus) : "never_asked",
      source: s?.source ?? null,
      changedAt: s?.changedAt ?? null,
      suppressed: sup ? { address: sup.address, reason: sup.reason, at: sup.createdAt } : null,
    };
  });
  return {
    channels,
    history: changes.map((c) => ({
      id: c.id.toString(),
      channel: c.channel,
      previous: c.previous,
      status: c.status,
      source: c.source,
      sourceLabel: sourceWords(c.source),
      actor: c.actor,
      detail: c.detail,
      at: c.at,
    })),
  };
}

/**
 * issue 16: subscription state from identify traits. Recognised: `email_subscribed`,
 * `sms_subscribed`, `push_subscribed` (true/false, or "subscribed"/"unsubscribed"), and
 * `subscriptions: { email: …, sms: …, push: … }` with the same values. Anything else is ignored.
 * Returns the channels whose state changed. To be called by ingest after the identify's customer
 * is stored (apps/server/src/ingest.ts / packages/engine/src/ingest.ts).
 */
export async function applyConsentTraits(
  ctx: EngineContext,
  customerId: string,
  traits: Record<string, unknown>,
  /** Leave a channel changed after this time as it is (a replayed call: a later call wins). */
  onlyIfUnchangedSince?: Date,
): Promise<ConsentChannel[]> {
  const wanted = consentFromTraits(traits);
  const changed: ConsentChannel[] = [];
  for (const [channel, status] of wanted) {
    const r = await setSubscription(ctx, {
      workspaceId: null,
      customerId,
      channel,
      status,
      source: "identify",
      actor: "api",
      ...(onlyIfUnchangedSince ? { onlyIfUnchangedSince } : {}),
    });
    if (r.changed) changed.push(channel);
  }
  return changed;
}

/**
 * issue 16: a landing-page form's consent checkbox, ticked: the customer subscribes to the
 * channels the form asks about (email unless told), source "form", with what they agreed to.
 * Unticked changes nothing (not ticking a box is not an unsubscribe). To be called once per
 * stored FormSubmission (apps/server/src/purl.ts, after the insert that returned a row).
 */
export async function recordFormConsent(
  ctx: EngineContext,
  input: {
    workspaceId: string;
    customerId: string;
    submissionId: string;
    formId: string;
    consent: { given: boolean; text: string; version?: string | number; ip?: string | null } | null;
    channels?: readonly ConsentChannel[];
  },
): Promise<ConsentChannel[]> {
  if (!input.consent?.given) return [];
  const changed: ConsentChannel[] = [];
  for (const channel of input.channels ?? ["email"]) {
    const r = await setSubscription(ctx, {
      workspaceId: input.workspaceId,
      customerId: input.customerId,
      channel,
      status: "subscribed",
      source: "form",
      actor: "customer",
      detail: {
        formId: input.formId,
        submissionId: input.submissionId,
        text: input.consent.text.slice(0, 1000),
        ...(input.consent.version !== undefined ? { version: String(input.consent.version) } : {}),
        ...(input.consent.ip ? { ip: input.consent.ip } : {}),
      },
    });
    if (r.changed) changed.push(channel);
  }
  return changed;
}

/** The subscription states identify traits ask for (see applyConsentTraits). */
export function consentFromTraits(
  traits: Record<string, unknown>,
): [ConsentChannel, SubscriptionStatus][] {
  const statusOf = (v: unknown): SubscriptionStatus | null =>
    v === true || v === "subscribed"
      ? "subscribed"
      : v === false || v === "unsubscribed"
        ? "unsubscribed"
        : null;
  const nested =
    traits.subscriptions !== null && typeof traits.subscriptions === "object"
      ? (traits.subscriptions as Record<string, unknown>)
      : {};
  const out: [ConsentChannel, SubscriptionStatus][] = [];
  for (const channel of CONSENT_CHANNELS) {
    const s = statusOf(nested[channel]) ?? statusOf(traits[`${channel}_subscribed`]);
    if (s) out.push([channel, s]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Suppression list

/** Addresses as the suppression list keys them: emails lower-cased, phones without spaces. */
export function suppressionAddress(channel: string, address: string): string {
  const a = address.trim();
  return channel === "email" ? a.toLowerCase() : channel === "sms" ? normalizePhone(a) : a;
}

export function normalizePhone(phone: string): string {
  return phone.replace(/[\s().-]/g, "");
}

export async function addSuppression(
  ctx: EngineContext,
  input: {
    workspaceId: string;
    channel: ConsentChannel;
    address: string;
    reason: SuppressionReason;
    note?: string | null;
    createdBy?: string | null;
  },
): Promise<{ id: string; created: boolean }> {
  const address = suppressionAddress(input.channel, input.address);
  const rows = await ctx.db.query<{ id: string; created: boolean }>(
    `INSERT INTO "Suppression" (id, "workspaceId", channel, address, reason, note, "createdBy", "createdAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT ("workspaceId", channel, address) DO UPDATE SET reason = "Suppression".reason
     RETURNING id, (xmax = 0) AS created`,
    [
      `sup_${randomBytes(12).toString("hex")}`,
      input.workspaceId,
      input.channel,
      address,
      input.reason,
      input.note ?? null,
      input.createdBy ?? null,
      new Date(ctx.now()),
    ],
  );
  const row = rows[0];
  return { id: row?.id ?? "", created: row?.created === true };
}

export async function removeSuppression(
  ctx: EngineContext,
  workspaceId: string,
  channel: ConsentChannel,
  address: string,
): Promise<boolean> {
  const r = await ctx.db.prisma.suppression.deleteMany({
    where: { workspaceId, channel, address: suppressionAddress(channel, address) },
  });
  return r.count > 0;
}

/**
 * The address a workspace gives its SMS provider for inbound messages when it has no SMS
 * credential to verify signatures with: `/sms/inbound/<workspace id>/<key>`, the key an HMAC of
 * the workspace id with a key derived from the master key (stable across restarts and servers).
 */
export function smsInboundPath(ctx: EngineContext, workspaceId: string): string {
  return `/sms/inbound/${workspaceId}/${smsInboundKey(ctx, workspaceId)}`;
}

export function smsInboundKey(ctx: EngineContext, workspaceId: string): string {
  const base = ctx.keyring
    ? createHmac("sha256", ctx.keyring.current.key).update("postpath:sms-inbound:v1").digest()
    : (processKey ??= randomBytes(32));
  return createHmac("sha256", base).update(workspaceId).digest("base64url").slice(0, 32);
}

// ---------------------------------------------------------------------------------------------
// Inbound SMS keywords (the words carriers and Twilio treat as opt-out / opt-in)

const STOP_WORDS = new Set(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"]);
const START_WORDS = new Set(["START", "YES", "UNSTOP", "SUBSCRIBE"]);

export function smsKeyword(body: string): "stop" | "start" | null {
  const word = body
    .trim()
    .toUpperCase()
    .replace(/[.!]+$/, "");
  if (STOP_WORDS.has(word)) return "stop";
  if (START_WORDS.has(word)) return "start";
  return null;
}

/**
 * A reply to the workspace's SMS number. STOP unsubscribes every customer with that phone from
 * SMS and puts the number on the suppression list (so it stays stopped should it later belong to
 * a new customer); START subscribes them again and lifts that entry. Other texts change nothing.
 */
export async function handleInboundSms(
  ctx: EngineContext,
  workspaceId: string,
  from: string,
  body: string,
): Promise<{ keyword: "stop" | "start" | null; customers: number }> {
  const keyword = smsKeyword(body);
  if (!keyword) return { keyword, customers: 0 };
  const phone = normalizePhone(from);
  const customers = await ctx.db.query<{ id: string }>(
    `SELECT id FROM "Customer"
     WHERE "workspaceId" = $1 AND regexp_replace(phone, '[\\s().-]', '', 'g') = $2`,
    [workspaceId, phone],
  );
  if (keyword === "stop") {
    await addSuppression(ctx, {
      workspaceId,
      channel: "sms",
      address: phone,
      reason: "manual",
      note: "replied STOP",
      createdBy: "customer",
    });
  } else {
    await ctx.db.prisma.suppression.deleteMany({
      where: { workspaceId, channel: "sms", address: phone, note: "replied STOP" },
    });
  }
  for (const c of customers) {
    await setSubscription(ctx, {
      workspaceId,
      customerId: c.id,
      channel: "sms",
      status: keyword === "stop" ? "unsubscribed" : "subscribed",
      source: keyword === "stop" ? "sms_stop" : "sms_start",
      actor: "customer",
      detail: { from: phone, text: body.slice(0, 160) },
    });
  }
  return { keyword, customers: customers.length };
}

// ---------------------------------------------------------------------------------------------
// The send-time check (used inside the claim, sends.ts)

/**
 * SQL condition, true when the message row `m` (a "Message") may NOT be sent as marketing: the
 * customer unsubscribed from its channel, or its address is suppressed. Evaluated in the claim's
 * own statement, so it sees every unsubscribe committed before the claim.
 */
export const MARKETING_BLOCKED_SQL = `(
  EXISTS (SELECT 1 FROM "Subscription" s
          WHERE s."customerId" = m."customerId" AND s.channel = m.channel AND s.status = 'unsubscribed')
  OR EXISTS (SELECT 1 FROM "Suppression" x
             WHERE x."workspaceId" = m."workspaceId" AND x.channel = m.channel
               AND m.recipient IS NOT NULL
               AND x.address = CASE WHEN m.channel = 'email' THEN lower(btrim(m.recipient))
                                    WHEN m.channel = 'sms' THEN regexp_replace(m.recipient, '[\\s().-]', '', 'g')
                                    ELSE m.recipient END)
)`;

/** Why a marketing message to this customer would not be sent now, in words; null: it would. */
export async function marketingBlock(
  ctx: EngineContext,
  msg: {
    workspaceId: string;
    customerId: string | null;
    channel: string;
    recipient: string | null;
  },
): Promise<{
  reason: "unsubscribed" | "suppressed";
  line: string;
  detail: Record<string, unknown>;
} | null> {
  if (!isConsentChannel(msg.channel)) return null;
  const { prisma } = ctx.db;
  const customer = msg.customerId
    ? await prisma.customer.findUnique({
        where: { id: msg.customerId },
        select: { externalId: true, email: true, attributes: true },
      })
    : null;
  const name = displayName(customer);
  const sub = msg.customerId
    ? await prisma.subscription.findUnique({
        where: { customerId_channel: { customerId: msg.customerId, channel: msg.channel } },
      })
    : null;
  const channelWords = msg.channel === "sms" ? "SMS" : msg.channel;
  if (sub?.status === "unsubscribed") {
    return {
      reason: "unsubscribed",
      line: `Not sent: ${name} unsubscribed from ${channelWords} on ${shortDate(sub.changedAt, ctx.now())} (${sourceWords(sub.source)})`,
      detail: { unsubscribedAt: sub.changedAt.toISOString(), source: sub.source },
    };
  }
  if (msg.recipient) {
    const sup = await prisma.suppression.findUnique({
      where: {
        workspaceId_channel_address: {
          workspaceId: msg.workspaceId,
          channel: msg.channel,
          address: suppressionAddress(msg.channel, msg.recipient),
        },
      },
    });
    if (sup) {
      const why =
        sup.reason === "bounce"
          ? "bounced"
          : sup.reason === "complaint"
            ? "complained (marked as spam)"
            : (sup.note ?? "was added by hand");
      return {
        reason: "suppressed",
        line: `Not sent: ${name}'s ${msg.channel === "sms" ? "phone number" : msg.channel === "email" ? "email address" : "device"} is on the suppression list since ${shortDate(sup.createdAt, ctx.now())} (${why})`,
        detail: { suppression: sup.reason, since: sup.createdAt.toISOString() },
      };
    }
  }
  return null;
}

function displayName(
  c: { externalId: string; email: string | null; attributes: unknown } | null,
): string {
  if (!c) return "the customer";
  const a = (c.attributes ?? {}) as Record<string, unknown>;
  for (const k of ["first_name", "firstName", "name"]) {
    const v = a[k];
    if (typeof v === "string" && v.trim()) return v.trim().slice(0, 60);
  }
  return c.email ?? c.externalId;
}

/** "3 Dec" (this year) or "3 Dec 2025", in UTC. */
export function shortDate(d: Date, now: number): string {
  const sameYear = d.getUTCFullYear() === new Date(now).getUTCFullYear();
  return new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    ...(sameYear ? {} : { year: "numeric" }),
    timeZone: "UTC",
  }).format(d);
}
