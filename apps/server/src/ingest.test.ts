// Segment-compatible ingest on the real app (Postgres, Redis, workers in-process): the official
// @segment/analytics-node client feeds a journey; bad input, big payloads, unknown keys, replays
// and rate limits get clear 4xx answers with nothing half-stored.
import { createHash, randomBytes } from "node:crypto";
import { Analytics } from "@segment/analytics-node";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "./app.ts";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { draftFromSteps } from "@postpath/journey";

describe("Segment-compatible ingest", () => {
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

  const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;
  const post = (path: string, body: unknown, key = h.writeKey, raw = false) =>
    fetch(`${h.baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: basic(key), "content-type": "application/json" },
      body: raw ? (body as string) : JSON.stringify(body),
    });
  const counts = async () => ({
    events: await h.db.prisma.event.count({ where: { workspaceId: h.workspaceId } }),
    customers: await h.db.prisma.customer.count({ where: { workspaceId: h.workspaceId } }),
  });

  it("the official analytics-node client's identify + track arrive as customer and events and trigger a journey", async () => {
    const api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const draft = draftFromSteps([
      {
        id: "t",
        type: "trigger.event",
        data: { event: "Order Completed", filters: [] },
        next: "m",
      },
      {
        id: "m",
        type: "action.email",
        data: { subject: "Thanks {{ first_name }}", body: "Hi {{ first_name }}", format: "text" },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const created = await api.mutation("journeys.create", { name: "Segment", draft });
    const journeyId = created.body.result.data.id as string;
    expect((await api.mutation("journeys.publish", { id: journeyId })).status).toBe(200);

    const analytics = new Analytics({
      writeKey: h.writeKey,
      host: h.baseUrl,
      flushAt: 10,
      flushInterval: 200,
      maxRetries: 0,
    });
    const failures: unknown[] = [];
    analytics.on("error", (e) => failures.push(e));
    analytics.identify({
      userId: "seg-1",
      traits: { email: "grace@example.com", first_name: "Grace", plan: "pro" },
    });
    analytics.track({
      userId: "seg-1",
      event: "Order Completed",
      properties: { orderId: "o-1", total: 42 },
    });
    analytics.page({
      anonymousId: "anon-7",
      name: "Pricing",
      properties: { url: "https://shop.example/pricing" },
    });
    await analytics.closeAndFlush();
    expect(failures).toEqual([]);

    const customer = await h.db.prisma.customer.findUniqueOrThrow({
      where: { workspaceId_externalId: { workspaceId: h.workspaceId, externalId: "seg-1" } },
    });
    expect(customer.email).toBe("grace@example.com");
    expect(customer.attributes).toMatchObject({ first_name: "Grace", plan: "pro" });
    const event = await h.db.prisma.event.findFirstOrThrow({
      where: { customerId: customer.id, name: "Order Completed" },
    });
    expect(event.properties).toMatchObject({ orderId: "o-1", total: 42 });
    expect(event.messageId).toMatch(/.+/); // the client's own messageId
    const page = await h.db.prisma.event.findFirstOrThrow({
      where: { workspaceId: h.workspaceId, name: "Page Viewed" },
    });
    const viewer = await h.db.prisma.customer.findUniqueOrThrow({ where: { id: page.customerId } });
    expect(viewer.externalId).toBe("anon:anon-7");
    expect(page.properties).toMatchObject({ name: "Pricing", url: "https://shop.example/pricing" });

    const [mail] = await smtp.waitFor(1, { match: (m) => m.to.includes("grace@example.com") });
    expect(mail?.subject).toBe("Thanks Grace");
    expect(
      await h.db.prisma.journeyRun.count({ where: { journeyId, customerId: customer.id } }),
    ).toBe(1);
    const key = await h.db.prisma.apiKey.findFirstOrThrow({
      where: { workspaceId: h.workspaceId },
    });
    expect(key.lastUsedAt).toBeInstanceOf(Date);
  });

  it("replayed messageIds are stored once, in single calls and batches", async () => {
    const body = { userId: "dup-1", event: "purchase", messageId: "dup-msg-1" };
    const first = (await (await post("/v1/track", body)).json()) as {
      duplicate: boolean;
      eventId: string;
    };
    const again = (await (await post("/v1/track", body)).json()) as {
      duplicate: boolean;
      eventId: string;
    };
    expect([first.duplicate, again.duplicate, again.eventId]).toEqual([false, true, first.eventId]);
    const batch = await post("/v1/batch", {
      batch: [
        { type: "track", ...body },
        { type: "track", userId: "dup-1", event: "purchase", messageId: "dup-msg-2" },
      ],
    });
    expect(await batch.json()).toMatchObject({ success: true, stored: 1, duplicate: 1 });
    expect(
      await h.db.prisma.event.count({
        where: { workspaceId: h.workspaceId, messageId: { in: ["dup-msg-1", "dup-msg-2"] } },
      }),
    ).toBe(2);
  });

  it("a replayed identify is a duplicate: traits not merged again, no second segment check", async () => {
    type Identified = { success: boolean; customerId: string; duplicate: boolean };
    const identify = async (body: unknown) =>
      (await (await post("/v1/identify", body)).json()) as Identified;
    const first = { userId: "idem-1", traits: { plan: "pro" }, messageId: "idem-msg-1" };
    const sent = await identify(first);
    expect(sent).toMatchObject({ success: true, duplicate: false });
    expect(await identify({ ...first, traits: { plan: "free" }, messageId: "idem-msg-2" })).toEqual(
      { success: true, customerId: sent.customerId, duplicate: false },
    );
    const plan = async () =>
      (
        (await h.db.prisma.customer.findUniqueOrThrow({ where: { id: sent.customerId } }))
          .attributes as { plan?: string }
      ).plan;
    // idem-msg-1 again, arriving late: its plan must not overwrite idem-msg-2's.
    expect(await identify(first)).toEqual({
      success: true,
      customerId: sent.customerId,
      duplicate: true,
    });
    expect(await plan()).toBe("free");
    const batch = await post("/v1/batch", {
      batch: [
        { type: "identify", ...first },
        { type: "identify", ...first, messageId: "idem-msg-3" }, // same traits, new call
      ],
    });
    expect(await batch.json()).toMatchObject({ success: true, stored: 1, duplicate: 1 });

    expect(await plan()).toBe("pro"); // idem-msg-3 was merged
    // One segment check per distinct call (idem-msg-1, -2, -3), none for the two replays.
    const checks = async (
      states: Parameters<Harness["engine"]["queues"]["events"]["getJobs"]>[0],
    ) =>
      (await h.engine.queues.events.getJobs(states)).filter(
        (j) =>
          j.name === "customer" && "customerId" in j.data && j.data.customerId === sent.customerId,
      );
    const finished = await waitFor("the segment checks to finish", async () => {
      const jobs = await checks(["completed", "failed"]);
      return jobs.length >= 3 && jobs;
    });
    expect(finished).toHaveLength(3);
    expect(await checks(["waiting", "prioritized", "delayed", "active"])).toEqual([]);
  });

  it("bad input gets a clear 4xx and stores nothing", async () => {
    const before = await counts();
    const malformed = await post("/v1/track", '{"userId": "x", "event": ', h.writeKey, true);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/JSON/i);
    const send = (body: string, contentType?: string) =>
      fetch(`${h.baseUrl}/v1/track`, {
        method: "POST",
        headers: {
          authorization: basic(h.writeKey),
          ...(contentType ? { "content-type": contentType } : {}),
        },
        body,
      });
    const wrongType = await send('{"userId":"x","event":"e"}', "application/xml");
    expect(wrongType.status).toBe(415);
    expect(((await wrongType.json()) as { error: string }).error).toMatch(/application\/json/);
    const empty = await send("", "application/json");
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toMatch(/empty/);

    const wrongTypes = await post("/v1/track", {
      userId: { id: 1 },
      event: 42,
      properties: "nope",
    });
    expect(wrongTypes.status).toBe(400);
    const fields = ((await wrongTypes.json()) as { fields: { field: string }[] }).fields.map(
      (f) => f.field,
    );
    expect(fields).toEqual(expect.arrayContaining(["userId", "event", "properties"]));

    expect((await post("/v1/identify", { traits: { email: "x@example.com" } })).status).toBe(400); // no userId/anonymousId
    for (const body of ["null", "[]", '"text"', "42"])
      expect((await post("/v1/track", body, h.writeKey, true)).status, body).toBe(400);
    expect((await post("/v1/batch", "null", h.writeKey, true)).status).toBe(400);
    expect(
      (await post("/v1/track", { userId: "u", event: "e", timestamp: "yesterday" })).status,
    ).toBe(400);

    // A batch where no item can be taken is refused whole, naming each bad field.
    const badBatch = await post("/v1/batch", {
      batch: [
        { type: "track", userId: "half-1" },
        { type: "identify", traits: {} },
      ],
    });
    expect(badBatch.status).toBe(400);
    expect(
      ((await badBatch.json()) as { fields: { field: string }[] }).fields.map((f) => f.field),
    ).toEqual(["batch.0.event", "batch.1.userId"]);
    expect((await post("/v1/batch", { batch: [{ type: "bogus" }] })).status).toBe(400);
    expect((await post("/v1/batch", { batch: [] })).status).toBe(400);
    expect((await post("/v1/batch", { batch: "nope" })).status).toBe(400);

    // Payload limits: 32 KB per call, 500 KB per batch, 32 KB per batch item.
    const big = "x".repeat(40 * 1024);
    const tooBig = await post("/v1/track", { userId: "big", event: "e", properties: { big } });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: string }).error).toMatch(/too large/i);
    expect(
      (
        await post("/v1/batch", {
          batch: Array.from({ length: 18 }, (_, i) => ({
            type: "track",
            userId: "big",
            event: "e",
            messageId: `b${i}`,
            properties: { big: "y".repeat(30 * 1024) },
          })),
        })
      ).status,
    ).toBe(413);
    // An item over 32 KB is refused on its own (here the only one: the batch is refused).
    const bigItem = await post("/v1/batch", {
      batch: [{ type: "track", userId: "big", event: "e", properties: { big } }],
    });
    expect(bigItem.status).toBe(400);
    expect(await bigItem.json()).toMatchObject({
      refused: [
        { index: 0, fields: [{ field: "batch.0", message: expect.stringMatching(/32 KB/) }] },
      ],
    });

    // Unknown, missing and revoked write keys.
    expect((await post("/v1/track", { userId: "u", event: "e" }, "pp_unknown")).status).toBe(401);
    expect(
      (
        await fetch(`${h.baseUrl}/v1/track`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        })
      ).status,
    ).toBe(401);
    const revoked = `pp_${randomBytes(8).toString("hex")}`;
    await h.db.prisma.apiKey.create({
      data: {
        workspaceId: h.workspaceId,
        name: "old",
        prefix: revoked.slice(0, 8),
        keyHash: createHash("sha256").update(revoked).digest("hex"),
        revokedAt: new Date(),
      },
    });
    expect((await post("/v1/track", { userId: "u", event: "e" }, revoked)).status).toBe(401);

    expect(await counts()).toEqual(before);
  });

  it("a bad item in a batch costs only itself: the good ones are stored and the bad listed", async () => {
    const res = await post("/v1/batch", {
      batch: [
        { type: "identify", userId: "half-1", traits: { plan: "pro" }, messageId: "half-m1" },
        { type: "track", userId: "half-1", event: "ok", messageId: "half-m2" },
        { type: "track", userId: "half-1", messageId: "half-m3" },
        {
          type: "track",
          userId: "half-1",
          event: "big",
          messageId: "half-m4",
          properties: { big: "z".repeat(40 * 1024) },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      stored: 2,
      duplicate: 0,
      ignored: 0,
      refused: [
        {
          index: 2,
          messageId: "half-m3",
          fields: [{ field: "batch.2.event", message: expect.any(String) as string }],
        },
        {
          index: 3,
          messageId: "half-m4",
          fields: [{ field: "batch.3", message: expect.stringMatching(/32 KB/) as string }],
        },
      ],
    });
    const stored = await h.db.prisma.event.findMany({
      where: { workspaceId: h.workspaceId, messageId: { startsWith: "half-m" } },
      select: { messageId: true },
    });
    expect(stored.map((e) => e.messageId)).toEqual(["half-m2"]);
  });

  it("rate-limits per write key in Redis, shared by every server process; other keys are unaffected", async () => {
    const limited = `pp_${randomBytes(8).toString("hex")}`;
    await h.db.prisma.apiKey.create({
      data: {
        workspaceId: h.workspaceId,
        name: "limited",
        prefix: limited.slice(0, 8),
        keyHash: createHash("sha256").update(limited).digest("hex"),
        rateLimitPerMinute: 4,
      },
    });
    // A second server process on the same Redis and Postgres.
    const other = await buildApp({
      db: h.db,
      engine: h.engine,
      log: h.engine.log,
      monitor: h.monitor,
    });
    await other.listen({ host: "127.0.0.1", port: 0 });
    const otherUrl = `http://127.0.0.1:${(other.server.address() as AddressInfo).port}`;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const base = i % 2 === 0 ? h.baseUrl : otherUrl;
        const res = await fetch(`${base}/v1/track`, {
          method: "POST",
          headers: { authorization: basic(limited), "content-type": "application/json" },
          body: JSON.stringify({ userId: "rl", event: "e", messageId: `rl-${i}` }),
        });
        statuses.push(res.status);
        if (res.status === 429) {
          expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
          expect(((await res.json()) as { error: string }).error).toMatch(/4 requests per minute/);
        }
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      expect(
        await h.db.prisma.event.count({
          where: { workspaceId: h.workspaceId, messageId: { startsWith: "rl-" } },
        }),
      ).toBe(4);
      expect((await post("/v1/track", { userId: "rl", event: "e" })).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
