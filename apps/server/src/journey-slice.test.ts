// The foundation's end-to-end slice on real services: tRPC over HTTP creates and publishes
// "purchase → wait 2 s → email 'Thanks {{ first_name }}'", the Segment-style ingest API receives a
// purchase, the worker enrols, waits on a delayed BullMQ job and sends through nodemailer to a real
// SMTP server started here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { draftFromSteps } from "@postpath/journey";

const WAIT_SECONDS = 2;

describe("purchase → wait → thank-you email, end to end", () => {
  let h: Harness;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    h = await startHarness({ smtpUrl: smtp.url });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  const auth = () => ({
    authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
    "content-type": "application/json",
  });

  it("sends the email once, to the right person, after the wait, and completes the run", async () => {
    const api = trpcHttp(h.baseUrl);
    const signIn = await api.mutation("auth.signIn", h.marketer);
    expect(signIn.status).toBe(200);
    expect(api.cookie).toMatch(/^pp_session=/);

    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "w" },
      {
        id: "w",
        type: "wait.duration",
        data: { amount: WAIT_SECONDS, unit: "seconds" },
        next: "m",
      },
      {
        id: "m",
        type: "action.email",
        data: {
          subject: "Thanks {{ first_name }}",
          body: "Thanks {{ first_name }}, enjoy your coffee.",
          format: "text",
        },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const created = await api.mutation("journeys.create", { name: "Thanks", draft });
    expect(created.status).toBe(200);
    const journeyId = created.body.result.data.id as string;
    const published = await api.mutation("journeys.publish", { id: journeyId });
    expect(published.status).toBe(200);
    expect(published.body.result.data.version).toBe(1);
    const version = await h.db.prisma.journeyVersion.findFirstOrThrow({ where: { journeyId } });
    expect(version.triggerEvent).toBe("purchase");
    expect((version.plan as { schemaVersion: number }).schemaVersion).toBe(1);

    const identify = await fetch(`${h.baseUrl}/v1/identify`, {
      method: "POST",
      headers: auth(),
      body: JSON.stringify({
        userId: "cust-1",
        traits: { email: "ada@example.com", first_name: "Ada" },
      }),
    });
    expect(identify.status).toBe(200);

    const trackedAt = Date.now();
    const track = await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: auth(),
      body: JSON.stringify({
        userId: "cust-1",
        event: "purchase",
        properties: { sku: "BARISTA-1" },
        messageId: "m-1",
      }),
    });
    expect(track.status).toBe(200);
    // The same message id again (a client retry) changes nothing.
    const replay = await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: auth(),
      body: JSON.stringify({
        userId: "cust-1",
        event: "purchase",
        properties: { sku: "BARISTA-1" },
        messageId: "m-1",
      }),
    });
    expect(((await replay.json()) as { duplicate: boolean }).duplicate).toBe(true);

    const run = await waitFor("the run to complete", async () => {
      const r = await h.db.prisma.journeyRun.findFirst({ where: { journeyId } });
      return r?.status === "COMPLETED" ? r : undefined;
    });
    // Give any duplicate a chance to show up before counting.
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.to).toEqual(["ada@example.com"]);
    expect(mail.subject).toBe("Thanks Ada");
    expect(mail.text).toContain("Thanks Ada, enjoy your coffee.");
    // The wait really waited (a lower bound on a delay, not a speed threshold).
    expect(mail.receivedAt - trackedAt).toBeGreaterThanOrEqual(WAIT_SECONDS * 1000);

    expect(await h.db.prisma.journeyRun.count({ where: { journeyId } })).toBe(1);
    const message = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    expect(message.status).toBe("SENT");
    expect(message.recipient).toBe("ada@example.com");
    expect(mail.idempotencyKey).toBe(message.idempotencyKey); // the outbox key reached the wire
    const kinds = (
      await h.db.prisma.runTrace.findMany({ where: { runId: run.id }, orderBy: { id: "asc" } })
    ).map((t) => t.kind);
    expect(kinds[0]).toBe("entered");
    expect(kinds).toContain("message.sent");
    expect(kinds.at(-1)).toMatch(/exit|complete/);
    expect(run.endedAt).not.toBeNull();
  });

  it("answers 400 with field errors for a malformed track call and stores nothing", async () => {
    const before = await h.db.prisma.event.count();
    const res = await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: auth(),
      body: JSON.stringify({ event: 42, properties: "x" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { fields: { field: string; message: string }[] };
    expect(body.fields.map((f) => f.field).sort()).toEqual(["event", "properties", "userId"]);
    const broken = await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: auth(),
      body: "{not json",
    });
    expect(broken.status).toBe(400);
    expect(await h.db.prisma.event.count()).toBe(before);
  });

  it("answers 401 for an unknown write key and stores nothing", async () => {
    const before = await h.db.prisma.event.count();
    const res = await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("pp_wrong:").toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ userId: "cust-9", event: "purchase" }),
    });
    expect(res.status).toBe(401);
    expect(await h.db.prisma.event.count()).toBe(before);
    expect(await h.db.prisma.customer.count({ where: { externalId: "cust-9" } })).toBe(0);
  });
});
