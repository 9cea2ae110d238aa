// issue 16: the hosted unsubscribe page and preference centre, and inbound SMS STOP / START.
//
// GET  /u/:token   a page that confirms in one click (a POST button) and lists the customer's
//                  channels with their state. GET never changes anything: mail scanners and link
//                  previewers follow links.
// POST /u/:token   `action=unsubscribe | resubscribe | preferences` from the page, or the RFC 8058
//                  one-click body `List-Unsubscribe=One-Click` (form-urlencoded or multipart) that
//                  mailbox providers send from their own "Unsubscribe" button.
// POST /sms/inbound/:workspaceId[/:key]
//                  a Twilio-style inbound message (form-encoded From, Body). With an SMS
//                  credential in the workspace, the request must carry a valid
//                  X-Twilio-Signature (HMAC-SHA1 of the URL and sorted parameters with its auth
//                  token); without one, the path's key (an HMAC of the workspace id) is required.
//
// The token is `<customer id>.<channel>.<HMAC>` (packages/engine/src/consent.ts): no secret, no
// destination. The pages never redirect anywhere, so there is nothing to open-redirect.
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  CONSENT_CHANNELS,
  handleInboundSms,
  readCredential,
  readUnsubscribeToken,
  setSubscription,
  smsInboundKey,
  type ConsentChannel,
  type ConsentSource,
  type EngineContext,
  type Keyring,
  type SubscriptionStatus,
} from "@postpath/engine";
import { PAGE_CSS } from "@postpath/pages";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface UnsubscribeOptions {
  engine: EngineContext;
  keyring?: Keyring;
}

const BODY_LIMIT = 8 * 1024;

const SECURITY_HEADERS = {
  "cache-control": "private, no-store",
  // The token is in the URL: never send it to another site.
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-robots-tag": "noindex",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

const CHANNEL_WORDS: Record<ConsentChannel, { name: string; what: string }> = {
  email: { name: "Email", what: "emails" },
  sms: { name: "Text messages (SMS)", what: "text messages" },
  push: { name: "Push notifications", what: "push notifications" },
};

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${PAGE_CSS}
.pp-prefs{border:1px solid #d8dce1;border-radius:.75rem;padding:1rem;margin:2rem 0 0;text-align:left}
.pp-prefs legend{font-weight:600;padding:0 .25rem}
.pp-muted{color:#4a5058;font-size:.95rem}
</style></head><body><main class="pp-page pp-message">${body}</main></body></html>`;
}

function send(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(SECURITY_HEADERS).type("text/html; charset=utf-8").send(html);
}

const INVALID = page(
  "This link is not valid",
  `<h1 class="pp-heading">This link is not valid</h1><div class="pp-text"><p>We could not recognise this unsubscribe link. Please use the link in the most recent message you received from us, or reply to it and we will take you off the list.</p></div>`,
);

/** "ada@example.com" → "a••@example.com"; "+447700900123" → "•••••••••0123". */
function masked(channel: ConsentChannel, address: string | null): string | null {
  if (!address) return null;
  if (channel === "email") {
    const at = address.indexOf("@");
    if (at < 1) return "•••";
    return `${address[0]}••${address.slice(at)}`;
  }
  return `${"•".repeat(Math.max(0, address.length - 4))}${address.slice(-4)}`;
}

interface Customer {
  id: string;
  workspaceId: string;
  email: string | null;
  phone: string | null;
  attributes: unknown;
  workspace: { name: string };
}

export function registerUnsubscribe(app: FastifyInstance, opts: UnsubscribeOptions): void {
  const { engine } = opts;
  const prisma = engine.db.prisma;
  const keyring = opts.keyring ?? engine.keyring;

  async function load(token: string) {
    if (token.length > 120) return null;
    const t = readUnsubscribeToken(engine, token);
    if (!t) return null;
    const customer: Customer | null = await prisma.customer.findUnique({
      where: { id: t.customerId },
      select: {
        id: true,
        workspaceId: true,
        email: true,
        phone: true,
        attributes: true,
        workspace: { select: { name: true } },
      },
    });
    if (!customer) return null;
    const subs = await prisma.subscription.findMany({ where: { customerId: customer.id } });
    const state = new Map(subs.map((s) => [s.channel, s.status as SubscriptionStatus]));
    return { channel: t.channel, customer, state };
  }

  /** Channels the customer can be reached on (the link's own channel always). */
  function channelsOf(customer: Customer, own: ConsentChannel): ConsentChannel[] {
    const attrs = (customer.attributes ?? {}) as Record<string, unknown>;
    const has: Record<ConsentChannel, boolean> = {
      email: Boolean(customer.email),
      sms: Boolean(customer.phone),
      push: ["push_token", "pushToken", "device_token"].some((k) => Boolean(attrs[k])),
    };
    return CONSENT_CHANNELS.filter((c) => c === own || has[c]);
  }

  function render(
    token: string,
    loaded: NonNullable<Awaited<ReturnType<typeof load>>>,
    notice: string | null,
  ): string {
    const { channel, customer, state } = loaded;
    const words = CHANNEL_WORDS[channel];
    const from = escapeHtml(customer.workspace.name);
    const address = masked(channel, channel === "email" ? customer.email : customer.phone);
    const unsubscribed = state.get(channel) === "unsubscribed";
    const action = `/u/${encodeURIComponent(token)}`;
    const main = unsubscribed
      ? `<h1 class="pp-heading">You're unsubscribed</h1>
<div class="pp-text"><p>You will get no more marketing ${words.what} from ${from}${address ? ` at ${escapeHtml(address)}` : ""}. Receipts and messages about your orders still reach you.</p></div>
<form method="post" action="${action}"><input type="hidden" name="action" value="resubscribe"><p class="pp-button-row"><button class="pp-button pp-secondary" type="submit">Subscribe again</button></p></form>`
      : `<h1 class="pp-heading">Unsubscribe from ${words.what}?</h1>
<div class="pp-text"><p>You will get no more marketing ${words.what} from ${from}${address ? ` at ${escapeHtml(address)}` : ""}.</p></div>
<form method="post" action="${action}"><input type="hidden" name="action" value="unsubscribe"><p class="pp-button-row"><button class="pp-button pp-primary" type="submit">Unsubscribe</button></p></form>`;
    const boxes = channelsOf(customer, channel)
      .map((c) => {
        const on = state.get(c) !== "unsubscribed";
        return `<div class="pp-field pp-check"><input type="checkbox" id="pp-${c}" name="${c}" value="on"${on ? " checked" : ""}><label for="pp-${c}">${CHANNEL_WORDS[c].name}</label></div>`;
      })
      .join("");
    const prefs = `<form method="post" action="${action}" class="pp-prefs"><fieldset style="border:0;margin:0;padding:0"><legend>What would you like to hear about from ${from}?</legend>
<p class="pp-muted">Tick the ways we may send you offers and news.</p>${boxes}<input type="hidden" name="action" value="preferences"><button class="pp-button pp-secondary" type="submit">Save preferences</button></fieldset></form>`;
    const note = notice
      ? `<p class="pp-error-summary" role="status" style="border-left-color:#1f5f8b;background:#eaf2f8">${escapeHtml(notice)}</p>`
      : "";
    return page(unsubscribed ? "You're unsubscribed" : "Unsubscribe", `${note}${main}${prefs}`);
  }

  async function change(
    loaded: NonNullable<Awaited<ReturnType<typeof load>>>,
    channel: ConsentChannel,
    status: SubscriptionStatus,
    source: ConsentSource,
    req: FastifyRequest,
  ): Promise<void> {
    await setSubscription(engine, {
      workspaceId: loaded.customer.workspaceId,
      customerId: loaded.customer.id,
      channel,
      status,
      source,
      actor: "customer",
      detail: { ip: req.ip, userAgent: String(req.headers["user-agent"] ?? "").slice(0, 200) },
    });
    loaded.state.set(channel, status);
  }

  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: BODY_LIMIT },
      (_req, body, next) => {
        const out: Record<string, string> = {};
        for (const [k, v] of new URLSearchParams(body as string)) out[k] ??= v;
        next(null, out);
      },
    );
    // RFC 8058 recommends multipart/form-data for the one-click POST: only its field names and
    // short values matter here.
    scope.addContentTypeParser(
      "multipart/form-data",
      { parseAs: "string", bodyLimit: BODY_LIMIT },
      (_req, body, next) => {
        const out: Record<string, string> = {};
        const re =
          /content-disposition:\s*form-data;\s*name="([^"]{1,100})"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]{0,200})/gi;
        for (const m of (body as string).matchAll(re))
          if (m[1] !== undefined) out[m[1]] ??= m[2] ?? "";
        next(null, out);
      },
    );

    scope.get<{ Params: { token: string } }>("/u/:token", async (req, reply) => {
      const loaded = await load(req.params.token);
      if (!loaded) return send(reply, 404, INVALID);
      return send(reply, 200, render(req.params.token, loaded, null));
    });

    scope.post<{ Params: { token: string }; Body: Record<string, string> | undefined }>(
      "/u/:token",
      { bodyLimit: BODY_LIMIT },
      async (req, reply) => {
        const loaded = await load(req.params.token);
        if (!loaded) return send(reply, 404, INVALID);
        const body = req.body && typeof req.body === "object" ? req.body : {};
        const { channel } = loaded;
        const words = CHANNEL_WORDS[channel].what;
        if (body["List-Unsubscribe"] === "One-Click") {
          // RFC 8058: the mailbox provider's button; answer 200, nothing to follow.
          await change(loaded, channel, "unsubscribed", "one_click", req);
          return send(reply, 200, render(req.params.token, loaded, null));
        }
        switch (body["action"] ?? "") {
          case "unsubscribe":
            await change(loaded, channel, "unsubscribed", "unsubscribe_link", req);
            return send(reply, 200, render(req.params.token, loaded, null));
          case "resubscribe":
            await change(loaded, channel, "subscribed", "preference_centre", req);
            return send(
              reply,
              200,
              render(req.params.token, loaded, `You're subscribed to ${words} again.`),
            );
          case "preferences": {
            for (const c of channelsOf(loaded.customer, channel)) {
              const want: SubscriptionStatus = body[c] === "on" ? "subscribed" : "unsubscribed";
              const now = loaded.state.get(c) ?? "subscribed"; // never asked: receiving
              // Only a box the customer changed is recorded. A never-asked channel's box is shown
              // ticked (it is receiving); saving it untouched recorded an SMS "subscribed" from
              // the preference centre that the customer never chose (walk 2026-12-05: after
              // unsubscribing from email, Save preferences opted Bea in to SMS on her profile).
              if (want !== now) await change(loaded, c, want, "preference_centre", req);
            }
            return send(
              reply,
              200,
              render(req.params.token, loaded, "Your preferences are saved."),
            );
          }
          default:
            return send(
              reply,
              400,
              page(
                "Nothing changed",
                `<h1 class="pp-heading">Nothing changed</h1><div class="pp-text"><p>The form was incomplete (the field "action" was missing). Please use the buttons on the <a href="/u/${encodeURIComponent(req.params.token)}">unsubscribe page</a>.</p></div>`,
              ),
            );
        }
      },
    );

    // --- Inbound SMS --------------------------------------------------------------------------
    const inbound = async (
      req: FastifyRequest<{
        Params: { workspaceId: string; key?: string };
        Body: Record<string, string> | undefined;
      }>,
      reply: FastifyReply,
    ) => {
      const { workspaceId, key } = req.params;
      const body = req.body && typeof req.body === "object" ? req.body : {};
      const workspace =
        workspaceId.length <= 64
          ? await prisma.workspace.findUnique({ where: { id: workspaceId }, select: { id: true } })
          : null;
      if (!workspace) return reply.code(404).send({ error: "Unknown workspace." });
      const credential = keyring
        ? await readCredential(engine.db, keyring, { workspaceId, kind: "SMS" })
        : null;
      const authToken =
        typeof credential?.config["authToken"] === "string" ? credential.config["authToken"] : null;
      if (authToken) {
        const given = req.headers["x-twilio-signature"];
        const url = `${engine.publicUrl.replace(/\/+$/, "")}${req.url}`;
        if (typeof given !== "string" || !sameText(given, twilioSignature(authToken, url, body)))
          return reply.code(403).send({
            error:
              "X-Twilio-Signature is missing or does not match this workspace's SMS credential.",
          });
      } else if (!key || !sameText(key, smsInboundKey(engine, workspaceId))) {
        return reply
          .code(403)
          .send({ error: "The key in this address is not valid for the workspace." });
      }
      const from = body["From"];
      const text = body["Body"];
      if (typeof from !== "string" || !/^\+?[0-9 ().-]{3,32}$/.test(from))
        return reply.code(400).send({ error: "From: a phone number is required." });
      if (typeof text !== "string")
        return reply.code(400).send({ error: "Body: the message text is required." });
      await handleInboundSms(engine, workspaceId, from, text);
      // An empty TwiML answer: the provider sends its own STOP/START confirmation.
      return reply
        .code(200)
        .type("text/xml")
        .send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    };
    scope.post("/sms/inbound/:workspaceId", { bodyLimit: BODY_LIMIT }, inbound);
    scope.post("/sms/inbound/:workspaceId/:key", { bodyLimit: BODY_LIMIT }, inbound);
    done();
  });
}

/** Twilio's request signature: base64 HMAC-SHA1 of the URL followed by each POST key and value, keys sorted. */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Record<string, string>,
): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + (params[k] ?? ""), url);
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
