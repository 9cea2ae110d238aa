// Issue 16, item 4: the hosted unsubscribe page, RFC 8058 one-click, the preference centre and
// inbound SMS STOP / START — through the real server, Postgres, Redis, workers and an SMTP sink.
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import {
  consentOf,
  createCredential,
  generateMasterKeyText,
  keyringFromText,
  setSubscription,
  smsInboundPath,
  unsubscribeToken,
} from "@postpath/engine";
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";
import { redactUrl } from "./log-redact.ts";
import { twilioSignature } from "./unsubscribe.ts";

let h: Harness;
let smtp: SmtpSink;
const keyring = keyringFromText(generateMasterKeyText(), "test");

beforeAll(async () => {
  smtp = await startSmtpSink();
  h = await startHarness({ smtpUrl: smtp.url, keyring });
  // Links in messages point at this server.
  h.engine.publicUrl = h.baseUrl;
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const ingest = (path: string, body: unknown) =>
  fetch(`${h.baseUrl}/v1/${path}`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });

const form = (url: string, fields: Record<string, string>) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });

async function customerId(externalId: string): Promise<string> {
  const c = await waitFor(`customer ${externalId}`, () =>
    h.db.prisma.customer.findFirst({ where: { workspaceId: h.workspaceId, externalId } }),
  );
  return c.id;
}

describe("unsubscribe link in a delivered email", () => {
  it("GET only asks; the inbox's one-click POST unsubscribes; no further marketing email arrives", async () => {
    const api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const draft = draftFromSteps(
      [
        { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "m" },
        {
          id: "m",
          type: "action.email",
          data: { subject: "Beans you'll love", body: "New roasts are in.", format: "text" },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ],
      { entry: { mode: "afterExit" } },
    );
    const created = await api.mutation("journeys.create", { name: "Cross-sell", draft });
    expect(created.status).toBe(200);
    const journeyId = created.body.result.data.id as string;
    expect((await api.mutation("journeys.publish", { id: journeyId })).status).toBe(200);

    await ingest("identify", {
      userId: "ada",
      traits: { email: "ada@example.com", first_name: "Ada" },
    });
    await ingest("track", { userId: "ada", event: "purchase" });
    const [mail] = await smtp.waitFor(1, { timeoutMs: 30_000 });
    const link = /^<(.+)>$/.exec(mail?.headers["list-unsubscribe"] ?? "")?.[1];
    expect(link).toMatch(new RegExp(`^${h.baseUrl}/u/[A-Za-z0-9_-]+\\.e\\.[A-Za-z0-9_-]{22}$`));
    expect(mail?.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(mail?.text).toContain(`Unsubscribe: ${link}`);
    const ada = await customerId("ada");

    // A mail scanner following the link changes nothing.
    const shown = await fetch(link!);
    expect(shown.status).toBe(200);
    expect(shown.headers.get("cache-control")).toBe("private, no-store");
    expect(shown.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await shown.text();
    expect(html).toContain("Unsubscribe from emails?");
    expect(html).toContain(`<form method="post" action="/u/`);
    expect(html).toContain("a••@example.com");
    expect(html).not.toContain("ada@example.com");
    expect(await h.db.prisma.subscription.count({ where: { customerId: ada } })).toBe(0);

    // The mailbox provider's one-click POST (multipart, as RFC 8058 recommends).
    const fd = new FormData();
    fd.set("List-Unsubscribe", "One-Click");
    const oneClick = await fetch(link!, { method: "POST", body: fd, redirect: "manual" });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain("You're unsubscribed");
    const consent = await consentOf(h.engine, h.workspaceId, ada);
    expect(consent?.channels[0]).toMatchObject({
      channel: "email",
      status: "unsubscribed",
      source: "one_click",
    });
    expect(consent?.history[0]).toMatchObject({
      actor: "customer",
      sourceLabel: "one-click unsubscribe in the inbox",
    });

    // Another purchase: the run goes on, the marketing email is skipped and says why. The journey
    // lets a customer in again only after their run has ended: the first email reached the sink
    // before that run's exit was committed, so wait for the exit first (on a busy machine the
    // second purchase could otherwise arrive while the first run is still in the journey).
    await waitFor("the first run to end", () =>
      h.db.prisma.journeyRun.findFirst({
        where: { customerId: ada, status: { in: ["COMPLETED", "EXITED"] } },
      }),
    );
    await ingest("track", { userId: "ada", event: "purchase" });
    const skipped = await waitFor("second email skipped", () =>
      h.db.prisma.message.findFirst({ where: { customerId: ada, status: "SKIPPED" } }),
    );
    expect(skipped.error).toMatch(
      /^Not sent: Ada unsubscribed from email on .+ \(one-click unsubscribe in the inbox\)$/,
    );
    expect(smtp.received).toHaveLength(1);
  });

  it("the page's buttons unsubscribe and subscribe again; the preference centre sets each channel", async () => {
    await ingest("identify", {
      userId: "bo",
      traits: { email: "bo@example.com", phone: "+15550100", first_name: "Bo" },
    });
    const bo = await customerId("bo");
    const url = `${h.baseUrl}/u/${unsubscribeToken(h.engine, bo, "email")}`;

    let r = await form(url, { action: "unsubscribe" });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("Subscribe again");
    r = await form(url, { action: "resubscribe" });
    expect(await r.text()).toContain("You&#39;re subscribed to emails again.");

    const page = await (await fetch(url)).text();
    expect(page).toContain('name="email" value="on" checked');
    expect(page).toContain('name="sms" value="on" checked'); // never asked: receiving
    expect(page).not.toContain('name="push"'); // no device to reach

    r = await form(url, { action: "preferences", email: "on" }); // SMS unticked
    expect(await r.text()).toContain("Your preferences are saved.");
    const c = await consentOf(h.engine, h.workspaceId, bo);
    expect(c?.channels.map((x) => [x.channel, x.status, x.source])).toEqual([
      ["email", "subscribed", "preference_centre"],
      ["sms", "unsubscribed", "preference_centre"],
      ["push", "never_asked", null],
    ]);
    expect(c?.history.map((x) => `${x.channel}:${x.previous ?? "-"}→${x.status}`)).toEqual([
      "sms:-→unsubscribed",
      "email:unsubscribed→subscribed",
      "email:-→unsubscribed",
    ]);

    r = await form(url, {});
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('the field "action" was missing');
  });

  it("a forged, altered or unknown token is refused without changing anything", async () => {
    await ingest("identify", { userId: "cy", traits: { email: "cy@example.com" } });
    const cy = await customerId("cy");
    const good = unsubscribeToken(h.engine, cy, "email");
    const forged = [
      good.replace(".e.", ".s."), // another channel, same MAC
      `${good.slice(0, -1)}${good.endsWith("A") ? "B" : "A"}`,
      `zz${good}`,
      "nonsense",
    ];
    // Over Fastify's longest path parameter: 414, before any lookup.
    expect((await fetch(`${h.baseUrl}/u/${"a".repeat(200)}.e.${"A".repeat(22)}`)).status).toBe(414);
    for (const t of forged) {
      expect((await fetch(`${h.baseUrl}/u/${encodeURIComponent(t)}`)).status).toBe(404);
      expect(
        (await form(`${h.baseUrl}/u/${encodeURIComponent(t)}`, { "List-Unsubscribe": "One-Click" }))
          .status,
      ).toBe(404);
    }
    expect(await h.db.prisma.subscription.count({ where: { customerId: cy } })).toBe(0);
  });
});

describe("inbound SMS", () => {
  it("without an SMS credential: the keyed address takes STOP and START; a wrong key is 403, a missing From 400", async () => {
    await ingest("identify", { userId: "dan", traits: { phone: "+1 555 0111" } });
    const dan = await customerId("dan");
    const path = smsInboundPath(h.engine, h.workspaceId);
    let r = await form(`${h.baseUrl}${path}`, { From: "+15550111", Body: "STOP", To: "+15550000" });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/xml/);
    expect((await consentOf(h.engine, h.workspaceId, dan))?.channels[1]).toMatchObject({
      status: "unsubscribed",
      source: "sms_stop",
    });
    r = await form(`${h.baseUrl}${path}`, { From: "+15550111", Body: "start" });
    expect(r.status).toBe(200);
    expect((await consentOf(h.engine, h.workspaceId, dan))?.channels[1]).toMatchObject({
      status: "subscribed",
      source: "sms_start",
      suppressed: null,
    });
    r = await form(`${h.baseUrl}/sms/inbound/${h.workspaceId}/wrongkey`, {
      From: "+15550111",
      Body: "STOP",
    });
    expect(r.status).toBe(403);
    r = await form(`${h.baseUrl}${path}`, { Body: "STOP" });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain("From");
    r = await form(`${h.baseUrl}/sms/inbound/nope/x`, { From: "+15550111", Body: "STOP" });
    expect(r.status).toBe(404);
  });

  it("with an SMS credential: only a request signed with its auth token (X-Twilio-Signature) counts", async () => {
    await createCredential(h.db, keyring, {
      workspaceId: h.workspaceId,
      kind: "SMS",
      label: "Twilio",
      config: { accountSid: "AC1", authToken: "tw-secret-token", from: "+15550000" },
    });
    await ingest("identify", { userId: "eli", traits: { phone: "+15550222" } });
    const eli = await customerId("eli");
    const path = `/sms/inbound/${h.workspaceId}`;
    const params = { From: "+15550222", Body: "Stop", MessageSid: "SM1" };
    const bad = await fetch(`${h.baseUrl}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilioSignature("wrong", `${h.baseUrl}${path}`, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(bad.status).toBe(403);
    // The keyed address alone is not enough once the workspace has a credential.
    const keyed = await form(`${h.baseUrl}${smsInboundPath(h.engine, h.workspaceId)}`, params);
    expect(keyed.status).toBe(403);
    expect((await consentOf(h.engine, h.workspaceId, eli))?.channels[1]?.status).toBe(
      "never_asked",
    );
    const good = await fetch(`${h.baseUrl}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilioSignature("tw-secret-token", `${h.baseUrl}${path}`, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(good.status).toBe(200);
    expect((await consentOf(h.engine, h.workspaceId, eli))?.channels[1]?.status).toBe(
      "unsubscribed",
    );
    // Setting it through the engine again is not a change.
    expect(
      (
        await setSubscription(h.engine, {
          workspaceId: h.workspaceId,
          customerId: eli,
          channel: "sms",
          status: "unsubscribed",
          source: "api",
          actor: "api",
        })
      ).changed,
    ).toBe(false);
  });
});

describe("request log", () => {
  it("keeps unsubscribe tokens and inbound SMS keys out of logged URLs", () => {
    expect(redactUrl("/u/cabcdef123.e.AAAAAAAAAAAAAAAAAAAAAA")).toBe("/u/cabc…");
    expect(redactUrl("/sms/inbound/ws1/secretkey")).toBe("/sms/inbound/ws1/[redacted]");
    expect(redactUrl("/sms/inbound/ws1")).toBe("/sms/inbound/ws1");
  });
});
