// Issue 17, item 1: delivery reports from the providers, through the real server, Postgres, Redis,
// workers, an SMTP sink and a stand-in for Twilio's Messages API (a third-party HTTP API at its
// boundary). Messages are really sent by journeys; the reports are posted to /hooks/twilio and
// /hooks/sendgrid signed as the providers sign them — Twilio's HMAC-SHA1 computed here from its
// documented algorithm, SendGrid's ECDSA P-256 signature with a key pair generated here — and
// must become events on the customer, trace lines on the run, suppressions and unsubscribes,
// with replays adding nothing. Afterwards the send path refuses the suppressed addresses.
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import {
  consentOf,
  createCredential,
  setSubscription,
  generateMasterKeyText,
  keyringFromText,
} from "@postpath/engine";
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

let h: Harness;
let smtp: SmtpSink;
let twilio: Server;
let twilioUrl = "";
/** What the Twilio stand-in received: the form of each Messages.json call, and the sid it gave. */
const twilioCalls: { to: string; statusCallback: string | null; sid: string }[] = [];
const keyring = keyringFromText(generateMasterKeyText(), "test");
const AUTH_TOKEN = `tw-${randomBytes(12).toString("hex")}`;
const sendgridKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const otherKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });

beforeAll(async () => {
  smtp = await startSmtpSink();
  twilio = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      const form = new URLSearchParams(body);
      const sid = `SM${randomBytes(16).toString("hex")}`;
      twilioCalls.push({
        to: form.get("To") ?? "",
        statusCallback: form.get("StatusCallback"),
        sid,
      });
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ sid, status: "queued", to: form.get("To") }));
    });
  });
  await new Promise<void>((resolve) => twilio.listen(0, "127.0.0.1", resolve));
  twilioUrl = `http://127.0.0.1:${(twilio.address() as AddressInfo).port}`;
  h = await startHarness({ smtpUrl: smtp.url, keyring });
  h.engine.publicUrl = h.baseUrl;

  await createCredential(h.db, keyring, {
    workspaceId: h.workspaceId,
    kind: "SMS",
    label: "Twilio",
    config: {
      accountSid: "AC0123",
      authToken: AUTH_TOKEN,
      from: "+15550000",
      baseUrl: twilioUrl,
      statusCallbackUrl: `${h.baseUrl}/hooks/twilio/${h.workspaceId}`,
    },
  });
  await createCredential(h.db, keyring, {
    workspaceId: h.workspaceId,
    kind: "SMTP",
    label: "SendGrid",
    config: {
      from: "Shop <shop@example.com>",
      host: "127.0.0.1",
      port: smtp.port,
      secure: false,
      ignoreTLS: true,
      eventWebhookPublicKey: spki(sendgridKeys.publicKey),
    },
  });

  // Two journeys: "order" sends an SMS then an email; "again" (after the reports) sends both once
  // more, to prove the suppressed addresses are refused at send time.
  const api = trpcHttp(h.baseUrl);
  expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
  for (const [name, event] of [
    ["Thanks", "order"],
    ["Again", "again"],
  ] as const) {
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event, filters: [] }, next: "s" },
      {
        id: "s",
        type: "action.sms",
        data: { body: `${name}! Your order is on its way.`, respectQuietHours: false },
        next: "m",
      },
      {
        id: "m",
        type: "action.email",
        data: { subject: name, body: `${name} for your order.`, format: "text" },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const created = await api.mutation("journeys.create", { name, draft });
    expect(created.status).toBe(200);
    const id = created.body.result.data.id as string;
    expect((await api.mutation("journeys.publish", { id })).status).toBe(200);
  }
  for (const [userId, n] of [
    ["ada", 1],
    ["bob", 2],
    ["cy", 3],
  ] as const) {
    await ingest("identify", {
      userId,
      traits: { email: `${userId}@example.com`, phone: `+1555010${n}` },
    });
    await ingest("track", { userId, event: "order" });
  }
  await smtp.waitFor(3, { timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await smtp?.close();
  await new Promise((resolve) => twilio?.close(resolve));
});

function spki(key: KeyObject): string {
  return key.export({ format: "der", type: "spki" }).toString("base64");
}

const ingest = (path: string, body: unknown) =>
  fetch(`${h.baseUrl}/v1/${path}`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });

async function customerId(userId: string): Promise<string> {
  return (
    await h.db.prisma.customer.findFirstOrThrow({
      where: { workspaceId: h.workspaceId, externalId: userId },
      select: { id: true },
    })
  ).id;
}

/** The journey message of a customer on a channel (the "Thanks" journey unless told). */
async function messageOf(userId: string, channel: string, journey = "Thanks") {
  const id = await customerId(userId);
  const j = await h.db.prisma.journey.findFirstOrThrow({
    where: { workspaceId: h.workspaceId, name: journey },
    select: { id: true },
  });
  // "Message" has no relation to its run (issue 15: no foreign keys): the journey's runs first.
  const runs = await h.db.prisma.journeyRun.findMany({
    where: { journeyId: j.id, customerId: id },
    select: { id: true },
  });
  return h.db.prisma.message.findFirst({
    where: { customerId: id, channel, runId: { in: runs.map((r) => r.id) } },
  });
}

const events = async (userId: string, name: string) =>
  h.db.prisma.event.findMany({ where: { customerId: await customerId(userId), name } });

/** A run's trace lines of a kind (about one message when given). */
const traces = async (runId: string, kind: string, messageId?: string) =>
  (await h.db.prisma.runTrace.findMany({ where: { runId, kind } })).filter(
    (t) => !messageId || (t.detail as { messageId?: string } | null)?.messageId === messageId,
  );

async function stepFigures(stepId: string) {
  const [row] = await h.db.query<{ sent: number; delivered: number; failed: number }>(
    `SELECT sum(r.sent)::int AS sent, sum(r.delivered)::int AS delivered, sum(r.failed)::int AS failed
     FROM "JourneyRollup" r JOIN "Journey" j ON j.id = r."journeyId"
     WHERE j.name = 'Thanks' AND r."stepId" = $1`,
    [stepId],
  );
  return row!;
}

// --- Twilio ----------------------------------------------------------------------------------

/** Twilio's documented signature: base64(HMAC-SHA1(auth token, URL + each name+value, by name)). */
function twilioSign(token: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac("sha1", token).update(data, "utf8").digest("base64");
}

function twilioPost(params: Record<string, string>, signature?: string | null) {
  const url = `${h.baseUrl}/hooks/twilio/${h.workspaceId}`;
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(signature === null
        ? {}
        : { "x-twilio-signature": signature ?? twilioSign(AUTH_TOKEN, url, params) }),
    },
    body: new URLSearchParams(params).toString(),
  });
}

// --- SendGrid --------------------------------------------------------------------------------

function sendgridPost(
  body: string,
  opts: { key?: KeyObject; signature?: string | null; timestamp?: string } = {},
) {
  const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const signature =
    opts.signature === undefined
      ? sign(
          "sha256",
          Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]),
          opts.key ?? sendgridKeys.privateKey,
        ).toString("base64")
      : opts.signature;
  return fetch(`${h.baseUrl}/hooks/sendgrid/${h.workspaceId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-twilio-email-event-webhook-timestamp": timestamp,
      ...(signature === null ? {} : { "x-twilio-email-event-webhook-signature": signature }),
    },
    body,
  });
}

describe("issue 17: SMS delivery reports (Twilio status callbacks)", () => {
  it("asks Twilio for reports, verifies their signature, and records delivered / failed / STOP once", async () => {
    const ada = await waitFor("ada's SMS sent", async () => {
      const m = await messageOf("ada", "sms");
      return m?.status === "SENT" ? m : null;
    });
    const bob = await waitFor("bob's SMS sent", async () => {
      const m = await messageOf("bob", "sms");
      return m?.status === "SENT" ? m : null;
    });
    // The provider's id is stored with the message, and the status callback was asked for.
    const adaCall = twilioCalls.find((c) => c.to === "+15550101")!;
    expect(ada.providerMessageId).toBe(adaCall.sid);
    expect(adaCall.statusCallback).toBe(`${h.baseUrl}/hooks/twilio/${h.workspaceId}`);
    const bobSid = twilioCalls.find((c) => c.to === "+15550102")!.sid;
    expect(bob.providerMessageId).toBe(bobSid);

    const delivered = {
      MessageSid: adaCall.sid,
      MessageStatus: "delivered",
      AccountSid: "AC0123",
      To: "+15550101",
      From: "+15550000",
    };
    // No signature: 401; signed with another token, or the parameters changed after signing: 403.
    let r = await twilioPost(delivered, null);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: string }).error).toMatch(/X-Twilio-Signature is missing/);
    const url = `${h.baseUrl}/hooks/twilio/${h.workspaceId}`;
    r = await twilioPost(delivered, twilioSign("not-the-token", url, delivered));
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: string }).error).toMatch(/does not match/);
    r = await twilioPost(
      { ...delivered, MessageStatus: "failed" },
      twilioSign(AUTH_TOKEN, url, delivered),
    );
    expect(r.status).toBe(403);
    expect(await events("ada", "sms_delivered")).toHaveLength(0);
    expect(await events("ada", "sms_failed")).toHaveLength(0);

    // Signed but malformed: 400 naming the field.
    r = await twilioPost({ MessageStatus: "delivered", To: "+15550101" });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^MessageSid:/);

    // Delivered: the event, a trace line; twice (Twilio retries) is still one of each.
    const before = await stepFigures("s");
    for (let i = 0; i < 2; i++) {
      r = await twilioPost(delivered);
      expect(r.status).toBe(200);
    }
    const got = await events("ada", "sms_delivered");
    expect(got).toHaveLength(1);
    expect(got[0]!.properties).toMatchObject({ message_id: ada.id, step_id: "s" });
    expect(await traces(ada.runId, "message.delivered", ada.id)).toHaveLength(1);
    // An intermediate status changes nothing; a status for a message that is not ours is
    // acknowledged (200) so Twilio does not retry it.
    r = await twilioPost({ ...delivered, MessageStatus: "sent" });
    expect(r.status).toBe(200);
    r = await twilioPost({ ...delivered, MessageSid: `SM${"0".repeat(32)}` });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ recorded: 0, ignored: 1 });
    expect(await stepFigures("s")).toEqual(before); // delivered was already counted at acceptance

    // 21610: bob replied STOP to the number. sms_failed with the code, the number suppressed,
    // bob unsubscribed from SMS; the analytics no longer count it delivered. A replay adds nothing.
    const stop = {
      MessageSid: bobSid,
      MessageStatus: "undelivered",
      ErrorCode: "21610",
      To: "+15550102",
      AccountSid: "AC0123",
    };
    for (let i = 0; i < 2; i++) expect((await twilioPost(stop)).status).toBe(200);
    const failed = await events("bob", "sms_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.properties).toMatchObject({ message_id: bob.id, error_code: "21610" });
    expect(await traces(bob.runId, "message.failed", bob.id)).toHaveLength(1);
    expect(
      await h.db.prisma.suppression.findMany({
        where: { workspaceId: h.workspaceId, channel: "sms" },
        select: { address: true, note: true },
      }),
    ).toEqual([{ address: "+15550102", note: "replied STOP" }]);
    const consent = await consentOf(h.engine, h.workspaceId, await customerId("bob"));
    expect(consent?.channels.find((c) => c.channel === "sms")?.status).toBe("unsubscribed");
    expect(await stepFigures("s")).toEqual({
      sent: before.sent,
      delivered: before.delivered - 1,
      failed: before.failed + 1,
    });
    // "undelivered" then "failed" for the same message is still one failure.
    expect((await twilioPost({ ...stop, MessageStatus: "failed" })).status).toBe(200);
    expect(await events("bob", "sms_failed")).toHaveLength(1);
    expect(await stepFigures("s")).toEqual({
      sent: before.sent,
      delivered: before.delivered - 1,
      failed: before.failed + 1,
    });
  });
});

describe("issue 17: email delivery reports (SendGrid Event Webhook)", () => {
  it("verifies the signature over the raw body and records delivered / bounce / spam report once", async () => {
    const mails = await Promise.all(
      ["ada", "bob", "cy"].map((u) =>
        waitFor(`${u}'s email sent`, async () => {
          const m = await messageOf(u, "email");
          return m?.status === "SENT" ? m : null;
        }),
      ),
    );
    const [ada, bob, cy] = mails as [(typeof mails)[0], (typeof mails)[0], (typeof mails)[0]];
    // The Message-ID the provider reports as smtp-id is the one the mail went out with.
    const received = smtp.received.find((m) => m.to.includes("ada@example.com"))!;
    expect(received.headers["message-id"]).toBe(ada.providerMessageId);
    const ts = 1_790_000_000;
    const body = JSON.stringify([
      {
        email: "ada@example.com",
        timestamp: ts,
        "smtp-id": ada.providerMessageId,
        event: "processed",
        sg_event_id: "sg-processed-ada",
      },
      {
        email: "ada@example.com",
        timestamp: ts,
        "smtp-id": ada.providerMessageId,
        event: "delivered",
        sg_event_id: "sg-delivered-ada",
        response: "250 OK",
      },
      {
        email: "bob@example.com",
        timestamp: ts,
        "smtp-id": bob.providerMessageId,
        event: "bounce",
        type: "bounce",
        reason: "550 5.1.1 The email account that you tried to reach does not exist",
        status: "5.1.1",
        sg_event_id: "sg-bounce-bob",
      },
      {
        email: "cy@example.com",
        timestamp: ts,
        "smtp-id": cy.providerMessageId,
        event: "spamreport",
        sg_event_id: "sg-spam-cy",
      },
      {
        email: "zed@example.com",
        timestamp: ts,
        "smtp-id": "<not.ours@example.com>",
        event: "delivered",
        sg_event_id: "sg-not-ours",
      },
    ]);

    // No signature: 401. Another key's signature, or a body changed after signing: 403.
    let r = await sendgridPost(body, { signature: null });
    expect(r.status).toBe(401);
    r = await sendgridPost(body, { key: otherKeys.privateKey });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: string }).error).toMatch(/does not match/);
    // The request is signed now (the events inside happened earlier, at `ts`).
    const timestamp = String(Math.floor(Date.now() / 1000));
    const good = sign(
      "sha256",
      Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]),
      sendgridKeys.privateKey,
    ).toString("base64");
    r = await sendgridPost(body.replace("bob@", "bab@"), { signature: good, timestamp });
    expect(r.status).toBe(403);
    r = await sendgridPost(body, { signature: good, timestamp: String(Number(timestamp) + 1) });
    expect(r.status).toBe(403);
    expect(await events("ada", "email_delivered")).toHaveLength(0);

    // Signed but malformed: 400 naming the field.
    r = await sendgridPost(JSON.stringify([{ event: "delivered", "smtp-id": "<x@y>" }]));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^\[0\]\.sg_event_id:/);
    r = await sendgridPost("{not json");
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^body:/);

    const before = await stepFigures("m");
    r = await sendgridPost(body, { signature: good, timestamp });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ received: 5, recorded: 3, ignored: 2 });
    // A replay (SendGrid retries): 200, nothing new.
    r = await sendgridPost(body, { signature: good, timestamp });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ recorded: 0 });

    const delivered = await events("ada", "email_delivered");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.properties).toMatchObject({ message_id: ada.id, step_id: "m" });
    expect(delivered[0]!.timestamp.getTime()).toBe(ts * 1000);
    expect(await traces(ada.runId, "message.delivered", ada.id)).toHaveLength(1);
    const bounced = await events("bob", "email_bounced");
    expect(bounced).toHaveLength(1);
    expect(bounced[0]!.properties).toMatchObject({ message_id: bob.id, type: "bounce" });
    expect(await traces(bob.runId, "message.bounced", bob.id)).toHaveLength(1);
    expect(await events("cy", "email_complained")).toHaveLength(1);
    expect(await traces(cy.runId, "message.complained", cy.id)).toHaveLength(1);
    expect(
      await h.db.prisma.suppression.findMany({
        where: { workspaceId: h.workspaceId, channel: "email" },
        select: { address: true, reason: true },
        orderBy: { address: "asc" },
      }),
    ).toEqual([
      { address: "bob@example.com", reason: "bounce" },
      { address: "cy@example.com", reason: "complaint" },
    ]);
    const cyConsent = await consentOf(h.engine, h.workspaceId, await customerId("cy"));
    expect(cyConsent?.channels.find((c) => c.channel === "email")?.status).toBe("unsubscribed");
    // The bounce is no longer counted delivered; the complaint was delivered.
    expect(await stepFigures("m")).toEqual({
      sent: before.sent,
      delivered: before.delivered - 1,
      failed: before.failed + 1,
    });
  });
});

describe("issue 17: after the reports, the send path refuses the suppressed addresses", () => {
  it("sends to ada again, and not to bob's number and email nor to cy's email", async () => {
    const twilioBefore = twilioCalls.length;
    const mailsBefore = smtp.received.length;
    for (const userId of ["ada", "bob", "cy"]) await ingest("track", { userId, event: "again" });
    const settled = async (userId: string, channel: string) =>
      waitFor(`${userId}'s ${channel} settled`, async () => {
        const m = await messageOf(userId, channel, "Again");
        return m && (m.status === "SENT" || m.status === "SKIPPED") ? m : null;
      });
    expect((await settled("ada", "sms")).status).toBe("SENT");
    expect((await settled("ada", "email")).status).toBe("SENT");
    expect((await settled("bob", "sms")).status).toBe("SKIPPED");
    expect((await settled("bob", "email")).status).toBe("SKIPPED");
    expect((await settled("cy", "email")).status).toBe("SKIPPED");
    expect((await settled("cy", "sms")).status).toBe("SENT");
    // What reached the providers: ada's two messages and cy's SMS, nothing for bob.
    expect(
      twilioCalls
        .slice(twilioBefore)
        .map((c) => c.to)
        .sort(),
    ).toEqual(["+15550101", "+15550103"]);
    await smtp.waitFor(mailsBefore + 1, { timeoutMs: 30_000 });
    expect(smtp.received.slice(mailsBefore).map((m) => m.to)).toEqual([["ada@example.com"]]);
    const bobEmail = (await messageOf("bob", "email", "Again"))!;
    const skipped = await traces(bobEmail.runId, "message.skipped", bobEmail.id);
    expect(JSON.stringify(skipped.map((t) => t.detail))).toMatch(/suppress/i);
  });
});

describe("issue 17: unsubscribes through SendGrid's own link, and replayed reports", () => {
  it("unsubscribes from email without suppressing, never undoes a later choice, and refuses stale signatures", async () => {
    const ada = (await messageOf("ada", "email"))!;
    const adaId = await customerId("ada");
    const emailStatus = async () =>
      (await consentOf(h.engine, h.workspaceId, adaId))?.channels.find(
        (c) => c.channel === "email",
      );
    expect((await emailStatus())?.status).not.toBe("unsubscribed");
    const suppressedBefore = await h.db.prisma.suppression.count({
      where: { workspaceId: h.workspaceId },
    });
    const now = Math.floor(Date.now() / 1000);
    const unsubscribe = JSON.stringify([
      {
        email: "ada@example.com",
        timestamp: now - 5,
        "smtp-id": ada.providerMessageId,
        event: "group_unsubscribe",
        asm_group_id: 42,
        sg_event_id: "sg-unsub-ada",
      },
    ]);

    // A correctly signed request whose signature is older than the window (a recorded request
    // replayed), or dated in the future: refused, nothing recorded.
    for (const signedAt of [now - 16 * 60, now + 10 * 60]) {
      const r = await sendgridPost(unsubscribe, { timestamp: String(signedAt) });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: string }).error).toMatch(
        /^X-Twilio-Email-Event-Webhook-Timestamp: signed .*minutes/,
      );
    }
    expect((await emailStatus())?.status).not.toBe("unsubscribed");
    // A malformed group id is named.
    let r = await sendgridPost(unsubscribe.replace('"asm_group_id":42', '"asm_group_id":"x"'));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^\[0\]\.asm_group_id:/);

    r = await sendgridPost(unsubscribe);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ received: 1, recorded: 1, ignored: 0 });
    const status = await emailStatus();
    expect(status?.status).toBe("unsubscribed");
    expect(JSON.stringify(status)).toMatch(/provider/);
    const unsubscribed = await events("ada", "email_unsubscribed");
    expect(unsubscribed).toHaveLength(1);
    expect(unsubscribed[0]!.properties).toMatchObject({
      message_id: ada.id,
      unsubscribeGroup: "42",
    });
    expect(await traces(ada.runId, "message.unsubscribed", ada.id)).toHaveLength(1);
    // Not a suppression: a receipt may still reach her.
    expect(await h.db.prisma.suppression.count({ where: { workspaceId: h.workspaceId } })).toBe(
      suppressedBefore,
    );

    // She subscribes again; a report of an unsubscribe that happened before that (SendGrid
    // delivering late, or the same event again) leaves her subscribed.
    const again = await setSubscription(h.engine, {
      workspaceId: h.workspaceId,
      customerId: adaId,
      channel: "email",
      status: "subscribed",
      source: "preference_centre",
      actor: "customer",
    });
    expect(again.changed).toBe(true);
    for (const [id, event] of [
      ["sg-unsub-ada", "group_unsubscribe"],
      ["sg-unsub-ada-late", "unsubscribe"],
    ]) {
      r = await sendgridPost(
        JSON.stringify([
          {
            email: "ada@example.com",
            timestamp: now - 5,
            "smtp-id": ada.providerMessageId,
            event,
            sg_event_id: id,
          },
        ]),
      );
      expect(r.status).toBe(200);
    }
    expect((await emailStatus())?.status).toBe("subscribed");
    // One event per report id: the replayed one added nothing, the late one is on her timeline.
    expect(await events("ada", "email_unsubscribed")).toHaveLength(2);
  });
});
