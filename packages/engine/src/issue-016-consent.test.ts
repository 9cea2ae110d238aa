// Issue 16, item 4: consent at send time. A marketing message to a customer who unsubscribed (or
// whose address is suppressed) is never handed to the provider, whatever path brings it there:
// a send queued before the unsubscribe, a retry, a dead-letter replay, a version published
// before messages had a purpose. Transactional messages are always sent. Every marketing email
// carries the customer's signed unsubscribe link and RFC 8058 headers.
// Real Postgres, Redis and a local SMTP sink.
import { createProvider, type Provider } from "@postpath/channels";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import type { StepSpec } from "@postpath/journey";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  addSuppression,
  applyConsentTraits,
  consentOf,
  handleInboundSms,
  readUnsubscribeToken,
  recordFormConsent,
  setSubscription,
  unsubscribeToken,
} from "./consent.ts";
import { identify, track } from "./ingest.ts";
import { replayMessage } from "./operate.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { startSink } from "./testing/sink.ts";

let smtp: SmtpSink;
let failing: SmtpSink;
let h: EngineHarness;
/** The provider the engine uses: failing (451 to every recipient) until a test switches it. */
let current: Provider;
let working: Provider;
let broken: Provider;

beforeEach(async () => {
  smtp = await startSmtpSink();
  failing = await startSmtpSink({ rejectRecipientWith: 451 });
  working = createProvider("email", { url: smtp.url, from: "Shop <s@pp.test>" });
  broken = createProvider("email", { url: failing.url, from: "Shop <s@pp.test>" });
  current = working;
  const email: Provider = {
    channel: "email",
    name: "email (switchable)",
    send: (req, opts) => current.send(req, opts),
  };
  h = await startEngineHarness({
    providers: { email },
    sendRetry: { attempts: 2, backoffMs: 50 },
  });
});
afterEach(async () => {
  await h.close();
  await working.close?.();
  await broken.close?.();
  await smtp.close();
  await failing.close();
});

const journey: StepSpec[] = [
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "promo" },
  {
    id: "promo",
    type: "action.email",
    data: { subject: "20% off your next coffee", body: "Hi {{ first_name }}!", format: "text" },
    next: "receipt",
  },
  {
    id: "receipt",
    type: "action.email",
    data: {
      subject: "Your receipt",
      body: "Order confirmed.",
      format: "text",
      purpose: "transactional",
    },
    next: "end",
  },
];

async function sendsIdle() {
  await waitFor("send queue idle", async () => {
    const c = await h.ctx.queues.sends.getJobCounts("active", "waiting", "delayed");
    return (c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) === 0;
  });
}

describe("consent at send time", () => {
  it("unsubscribe while the marketing email is queued: not sent (trace says why); the receipt is", async () => {
    const { journeyId, versionId } = await h.publish("post-purchase", journey);
    // A version in flight from before messages had a purpose: the promo step has no field at all.
    await h.db.query(
      `UPDATE "JourneyVersion" SET plan = plan #- '{steps,promo,config,purpose}' WHERE id = $1`,
      [versionId],
    );
    const ada = await h.customer("ada", { email: "ada@example.com", first_name: "Ada" });
    await h.ctx.queues.sends.pause();
    await track(h.ctx, h.workspaceId, { userId: "ada", event: "purchase" });
    const queued = await waitFor("the promo is in the outbox, its send job queued", async () => {
      const m = await h.db.prisma.message.findFirst({ where: { stepId: "promo" } });
      const jobs = await h.ctx.queues.sends.getJobCounts("waiting");
      return m && (jobs.waiting ?? 0) > 0 ? m : null;
    });
    expect(queued.status).toBe("PENDING");

    const r = await setSubscription(h.ctx, {
      workspaceId: h.workspaceId,
      customerId: ada,
      channel: "email",
      status: "unsubscribed",
      source: "unsubscribe_link",
      actor: "customer",
    });
    expect(r).toEqual({ found: true, changed: true, previous: null });
    await h.ctx.queues.sends.resume();

    const run = await waitFor("run completes", () =>
      h.db.prisma.journeyRun.findFirst({ where: { journeyId, status: "COMPLETED" } }),
    );
    await sendsIdle();
    const promo = await h.db.prisma.message.findFirstOrThrow({ where: { id: queued.id } });
    expect(promo.status).toBe("SKIPPED");
    const day = new Intl.DateTimeFormat("en-GB", {
      day: "numeric",
      month: "short",
      timeZone: "UTC",
    }).format(new Date());
    expect(promo.error).toBe(`Not sent: Ada unsubscribed from email on ${day} (unsubscribe link)`);
    const trace = await h.db.prisma.runTrace.findFirstOrThrow({
      where: { runId: run.id, kind: "message.skipped", stepId: "promo" },
    });
    expect(trace.detail).toMatchObject({ reason: "unsubscribed", message: promo.error });
    // The transactional receipt went out; the promo never reached the SMTP server.
    expect(smtp.received.map((m) => m.subject)).toEqual(["Your receipt"]);
    expect(smtp.received[0]?.headers["list-unsubscribe"]).toBeUndefined();
  });

  it("a dead letter replayed after the unsubscribe is not sent; the same replay for a subscribed customer is", async () => {
    current = broken;
    const { journeyId } = await h.publish("promo only", [
      journey[0]!,
      { ...journey[1]!, next: "end" },
    ]);
    const ada = await h.customer("ada", { email: "ada@example.com", first_name: "Ada" });
    await h.customer("bo", { email: "bo@example.com", first_name: "Bo" });
    await track(h.ctx, h.workspaceId, { userId: "ada", event: "purchase" });
    await track(h.ctx, h.workspaceId, { userId: "bo", event: "purchase" });
    await waitFor("both runs complete", async () => {
      const n = await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } });
      return n === 2;
    });
    await sendsIdle();
    const dead = await h.db.prisma.message.findMany({
      where: { status: "DEAD" },
    });
    expect(dead).toHaveLength(2);
    expect(smtp.received).toHaveLength(0);

    // The SMTP server is fixed; Ada unsubscribes; an admin replays both dead letters.
    current = working;
    await setSubscription(h.ctx, {
      workspaceId: h.workspaceId,
      customerId: ada,
      channel: "email",
      status: "unsubscribed",
      source: "admin",
      actor: "u1",
    });
    for (const m of dead) await replayMessage(h.ctx, m.id, { workspaceId: h.workspaceId });
    await waitFor("both replays settle", async () => {
      const left = await h.db.prisma.message.count({
        where: { id: { in: dead.map((m) => m.id) }, status: { in: ["PENDING", "SENDING"] } },
      });
      return left === 0;
    });
    await sendsIdle();
    const after = await h.db.prisma.message.findMany({
      where: { id: { in: dead.map((m) => m.id) } },
    });
    const adas = after.find((m) => m.customerId === ada);
    const bos = after.find((m) => m.customerId !== ada);
    expect(adas).toMatchObject({ status: "SKIPPED" });
    expect(adas?.error).toMatch(
      /^Not sent: Ada unsubscribed from email on .+ \(changed by a team member\)$/,
    );
    expect(bos).toMatchObject({ status: "SENT" });
    expect(smtp.received.map((m) => m.to)).toEqual([["bo@example.com"]]);
  });

  it("a suppressed address gets no marketing email in any journey; the receipt still goes", async () => {
    await h.publish("post-purchase", journey);
    await h.customer("cy", { email: "Cy@Example.com", first_name: "Cy" });
    await addSuppression(h.ctx, {
      workspaceId: h.workspaceId,
      channel: "email",
      address: "cy@example.COM",
      reason: "bounce",
    });
    await track(h.ctx, h.workspaceId, { userId: "cy", event: "purchase" });
    await waitFor("run completes", () =>
      h.db.prisma.journeyRun.findFirst({ where: { status: "COMPLETED" } }),
    );
    await sendsIdle();
    const promo = await h.db.prisma.message.findFirstOrThrow({ where: { stepId: "promo" } });
    expect(promo.status).toBe("SKIPPED");
    expect(promo.error).toMatch(
      /^Not sent: Cy's email address is on the suppression list since .+ \(bounced\)$/,
    );
    expect(smtp.received.map((m) => m.subject)).toEqual(["Your receipt"]);
  });

  it("marketing emails carry the signed unsubscribe link (as written, or as a footer) and RFC 8058 headers", async () => {
    await h.publish("links", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "a" },
      {
        id: "a",
        type: "action.email",
        data: {
          subject: "News",
          body: '<p>Hello</p><p><a href="{{ unsubscribe_url }}">Stop these</a></p>',
          format: "html",
        },
        next: "b",
      },
      {
        id: "b",
        type: "action.email",
        data: { subject: "More news", body: "Plain news.", format: "text" },
        next: "end",
      },
    ]);
    const dee = await h.customer("dee", { email: "dee@example.com" });
    await track(h.ctx, h.workspaceId, { userId: "dee", event: "purchase" });
    const mails = await smtp.waitFor(2);
    const url = `http://pp.test/u/${unsubscribeToken(h.ctx, dee, "email")}`;
    for (const m of mails) {
      expect(m.headers["list-unsubscribe"]).toBe(`<${url}>`);
      expect(m.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    }
    const [a, b] = [
      mails.find((m) => m.subject === "News"),
      mails.find((m) => m.subject === "More news"),
    ];
    // Written in the body: used where it stands, no footer added.
    expect(a?.html).toContain(`<a href="${url}">Stop these</a>`);
    expect(a?.html?.split(url)).toHaveLength(2);
    expect(a?.raw).not.toContain("postpath.invalid");
    // Not written: a footer with the link.
    expect(b?.text).toContain(`Unsubscribe: ${url}`);
    // The token names the customer and channel, and nothing forged passes.
    const token = url.split("/u/")[1]!;
    expect(readUnsubscribeToken(h.ctx, token)).toEqual({ customerId: dee, channel: "email" });
    expect(readUnsubscribeToken(h.ctx, token.replace(".e.", ".s."))).toBeNull();
    expect(readUnsubscribeToken(h.ctx, `x${token}`)).toBeNull();
    expect(token).not.toContain("dee@example.com");
  });
});

describe("interrupted sends", () => {
  it("a worker died holding the claim: the at-least-once resend checks consent again (SMS)", async () => {
    const sink = await startSink();
    sink.setReply(() => ({ status: 201, body: { sid: "SM1", status: "queued" } }));
    const sms = createProvider("sms", {
      accountSid: "AC1",
      authToken: "t",
      from: "+15550000",
      baseUrl: sink.url,
    });
    const hs = await startEngineHarness({ providers: { sms }, workers: false });
    try {
      await hs.publish("sms promo", [
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "s" },
        { id: "s", type: "action.sms", data: { body: "2 for 1 on beans" }, next: "end" },
      ]);
      const fay = await hs.customer("fay", { phone: "+15550101" });
      await hs.customer("gus", { phone: "+15550102" });
      hs.startWorkers();
      await hs.ctx.queues.sends.pause();
      await track(hs.ctx, hs.workspaceId, { userId: "fay", event: "purchase" });
      await track(hs.ctx, hs.workspaceId, { userId: "gus", event: "purchase" });
      await waitFor("both SMS in the outbox, jobs queued", async () => {
        const n = await hs.db.prisma.message.count({ where: { status: "PENDING" } });
        const jobs = await hs.ctx.queues.sends.getJobCounts("waiting");
        return n === 2 && (jobs.waiting ?? 0) === 2;
      });
      // As if a worker had claimed both, handed them over (or not) and died before recording.
      await hs.db.query(`UPDATE "Message" SET status = 'SENDING', "claimToken" = 'dead-worker'`);
      await setSubscription(hs.ctx, {
        workspaceId: hs.workspaceId,
        customerId: fay,
        channel: "sms",
        status: "unsubscribed",
        source: "sms_stop",
        actor: "customer",
      });
      await hs.ctx.queues.sends.resume();
      const done = await waitFor("both settle", async () => {
        const rows = await hs.db.prisma.message.findMany({
          where: { status: { in: ["SENT", "SKIPPED"] } },
        });
        return rows.length === 2 ? rows : null;
      });
      const fays = done.find((m) => m.customerId === fay);
      expect(fays?.status).toBe("SKIPPED");
      expect(fays?.error).toMatch(
        /^Not sent again: fay unsubscribed from SMS on .+ \(replied STOP\)$/,
      );
      expect(done.find((m) => m.customerId !== fay)?.status).toBe("SENT");
      expect(sink.deliveries.map((d) => new URLSearchParams(d.body).get("To"))).toEqual([
        "+15550102",
      ]);
    } finally {
      await hs.close();
      await sink.close();
    }
  });
});

describe("subscription state", () => {
  it("identify traits set it through ingest, once per call", async () => {
    const call = { userId: "fay", messageId: "id-fay-1", traits: { email_subscribed: false } };
    const { customerId } = await identify(h.ctx, h.workspaceId, call);
    expect(await identify(h.ctx, h.workspaceId, call)).toMatchObject({ duplicate: true });
    const c = await consentOf(h.ctx, h.workspaceId, customerId);
    expect(c?.channels[0]).toMatchObject({
      channel: "email",
      status: "unsubscribed",
      source: "identify",
    });
    expect(c?.history).toHaveLength(1);
  });

  it("history records each change once, with who and the source; identify traits and SMS STOP/START set it", async () => {
    const id = await h.customer("eve", { email: "eve@example.com", phone: "+44 7700 900123" });
    expect((await consentOf(h.ctx, h.workspaceId, id))?.channels.map((c) => c.status)).toEqual([
      "never_asked",
      "never_asked",
      "never_asked",
    ]);
    expect(
      await applyConsentTraits(h.ctx, id, {
        email_subscribed: true,
        subscriptions: { push: "unsubscribed" },
      }),
    ).toEqual(["email", "push"]);
    // The same again changes nothing and writes no history.
    expect(await applyConsentTraits(h.ctx, id, { email_subscribed: true })).toEqual([]);
    expect(await handleInboundSms(h.ctx, h.workspaceId, "+447700900123", " stop ")).toEqual({
      keyword: "stop",
      customers: 1,
    });
    expect(await handleInboundSms(h.ctx, h.workspaceId, "+447700900123", "Hello?")).toEqual({
      keyword: null,
      customers: 0,
    });
    let c = await consentOf(h.ctx, h.workspaceId, id);
    expect(c?.channels).toMatchObject([
      { channel: "email", status: "subscribed", source: "identify" },
      {
        channel: "sms",
        status: "unsubscribed",
        source: "sms_stop",
        suppressed: { reason: "manual" },
      },
      { channel: "push", status: "unsubscribed", source: "identify" },
    ]);
    expect(
      c?.history.map((x) => [x.channel, x.previous, x.status, x.sourceLabel, x.actor]),
    ).toEqual([
      ["sms", null, "unsubscribed", "replied STOP", "customer"],
      ["push", null, "unsubscribed", "profile update", "api"],
      ["email", null, "subscribed", "profile update", "api"],
    ]);
    await handleInboundSms(h.ctx, h.workspaceId, "+447700900123", "START");
    c = await consentOf(h.ctx, h.workspaceId, id);
    expect(c?.channels[1]).toMatchObject({
      status: "subscribed",
      source: "sms_start",
      suppressed: null,
    });
    expect(c?.history[0]).toMatchObject({ previous: "unsubscribed", status: "subscribed" });
    // Another workspace's id does not reach this customer.
    expect(
      await setSubscription(h.ctx, {
        workspaceId: "other",
        customerId: id,
        channel: "email",
        status: "unsubscribed",
        source: "api",
        actor: "api",
      }),
    ).toEqual({ found: false, changed: false, previous: null });
  });

  it("a ticked form consent subscribes (source form, with the text agreed to); unticked changes nothing", async () => {
    const id = await h.customer("fin", { email: "fin@example.com" });
    const base = { workspaceId: h.workspaceId, customerId: id, formId: "register" };
    expect(
      await recordFormConsent(h.ctx, {
        ...base,
        submissionId: "fs1",
        consent: { given: false, text: "Send me offers", version: 1 },
      }),
    ).toEqual([]);
    expect(
      await recordFormConsent(h.ctx, {
        ...base,
        submissionId: "fs2",
        consent: { given: true, text: "Send me offers", version: 1, ip: "203.0.113.9" },
      }),
    ).toEqual(["email"]);
    const c = await consentOf(h.ctx, h.workspaceId, id);
    expect(c?.channels[0]).toMatchObject({ status: "subscribed", source: "form" });
    expect(c?.history[0]).toMatchObject({
      actor: "customer",
      sourceLabel: "a form",
      detail: { formId: "register", submissionId: "fs2", text: "Send me offers", version: "1" },
    });
  });
});
