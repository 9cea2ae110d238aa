// issue 16, item 1: the customers router on real Postgres — search by each key with keyset pages,
// the profile (consent per channel), the timeline, runs with their trace in words and rendered
// messages, and erasure: nothing of the customer is left in any table, an audit row says who,
// a later identify/track starts a fresh profile, and only admins may erase.
import { waitFor } from "@postpath/db/testing";
import { identify, track } from "@postpath/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

const CAST = [
  ["admin", "ws-a", "ADMIN"],
  ["a", "ws-a", "MARKETER"],
  ["viewer", "ws-a", "VIEWER"],
  ["b", "ws-b", "MARKETER"],
] as const;

describe("customers router (issue 16)", () => {
  let env: ApiTestEnv<"admin" | "a" | "viewer" | "b">;
  let ws: string;
  beforeAll(async () => {
    env = await openApiTestEnv(CAST, { prefix: "customers" });
    ws = env.users.a.workspaceId;
    const prisma = env.db.prisma;
    // 30 customers in ws-a; one look-alike in ws-b that must never show up.
    for (let i = 0; i < 30; i++) {
      const n = String(i).padStart(2, "0");
      await prisma.customer.create({
        data: {
          workspaceId: ws,
          externalId: `user-${n}`,
          email: `person${n}@example.com`,
          phone: `+4477009${n}`,
          attributes: { plan: i % 3 === 0 ? "gold" : "basic", visits: i, vip: i === 7 },
        },
      });
    }
    await prisma.customer.create({
      data: {
        workspaceId: env.users.b.workspaceId,
        externalId: "user-00",
        email: "person00@example.com",
        phone: "+447700900",
        attributes: { plan: "gold" },
      },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  const caller = (k: "admin" | "a" | "viewer" | "b") => createCaller(env.ctxFor(env.users[k]));

  it("finds customers by external id, email, phone prefix and attribute, in this workspace only", async () => {
    const a = caller("a");
    const ids = async (query: string, by?: "id" | "email" | "phone" | "attribute") =>
      (await a.customers.search({ query, ...(by ? { by } : {}), limit: 100 })).items.map(
        (c) => c.externalId,
      );
    expect(await ids("user-07")).toEqual(["user-07"]);
    expect(await ids("user-1")).toEqual([...Array(10)].map((_, i) => `user-1${i}`));
    expect(await ids("person12@example.com")).toEqual(["user-12"]);
    expect(await ids("person2", "email")).toHaveLength(10);
    expect(await ids("+44770092")).toEqual([...Array(10)].map((_, i) => `user-2${i}`));
    expect(await ids("+447700905")).toEqual(["user-05"]);
    expect(await ids("plan = gold")).toEqual(
      [...Array(10)].map((_, i) => `user-${String(i * 3).padStart(2, "0")}`).sort(),
    );
    // A typed number and a boolean match the attribute's JSON type as well as a string.
    expect(await ids("visits=12")).toEqual(["user-12"]);
    expect(await ids("vip = true")).toEqual(["user-07"]);
    expect(await ids("nobody-here")).toEqual([]);
    const guessed = await a.customers.search({ query: "person01@example.com" });
    expect(guessed.by).toBe("email");
    // ws-b sees only its own look-alike.
    const b = await caller("b").customers.search({ query: "user-0" });
    expect(b.items.map((c) => c.externalId)).toEqual(["user-00"]);
  });

  it("pages through results with a cursor, without gaps or repeats, for every kind of search", async () => {
    const a = caller("a");
    for (const [query, by, total] of [
      ["user-", "id", 30],
      ["person", "email", 30],
      ["+4477", "phone", 30],
      ["plan = basic", "attribute", 20],
    ] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await a.customers.search({
          query,
          by,
          limit: 7,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.items.map((c) => c.externalId));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(seen, query).toHaveLength(total);
      expect(new Set(seen).size, query).toBe(total);
      expect(pages, query).toBe(Math.ceil(total / 7));
    }
    const bad = await rejects(a.customers.search({ query: "user-", cursor: "garbage" }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain("search again");
    expect((await rejects(a.customers.search({ query: "= gold" }))).code).toBe("BAD_REQUEST");
    const noValue = await rejects(a.customers.search({ query: "gold", by: "attribute" }));
    expect(noValue.message).toContain("“name = value”");
  });

  it("shows the profile with consent per channel, the timeline in pages, and viewers cannot look", async () => {
    const prisma = env.db.prisma;
    const c = await prisma.customer.findFirstOrThrow({
      where: { workspaceId: ws, externalId: "user-03" },
    });
    await prisma.customer.update({ where: { id: c.id }, data: { tags: ["vip"] } });
    await prisma.subscription.create({
      data: {
        customerId: c.id,
        workspaceId: ws,
        channel: "email",
        status: "unsubscribed",
        source: "unsubscribe_link",
      },
    });
    for (let i = 0; i < 5; i++)
      await prisma.event.create({
        data: {
          workspaceId: ws,
          customerId: c.id,
          name: i % 2 ? "purchase" : "page_view",
          properties: { total: 10 * i, items: [{ sku: "A" }] },
          timestamp: new Date(Date.UTC(2026, 10, 1 + i)),
          messageId: `tl-${i}`,
        },
      });
    const a = caller("a");
    const profile = await a.customers.get({ id: c.id });
    expect(profile.tags).toEqual(["vip"]);
    expect(profile.attributes).toContainEqual({ key: "plan", value: "gold" });
    expect(profile.consent.map((s) => [s.channel, s.status, s.source])).toEqual([
      ["email", "unsubscribed", "unsubscribe link"],
      ["sms", "never asked", null],
      ["push", "never asked", null],
    ]);
    expect(profile.counts.events).toBe(5);
    const first = await a.customers.timeline({ id: c.id, limit: 3 });
    expect(first.items.map((e) => e.timestamp.slice(0, 10))).toEqual([
      "2026-11-05",
      "2026-11-04",
      "2026-11-03",
    ]);
    expect(first.items[0]?.properties).toEqual([
      { key: "items", value: "sku: A" },
      { key: "total", value: "40" },
    ]);
    const second = await a.customers.timeline({ id: c.id, limit: 3, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.timestamp.slice(0, 10))).toEqual(["2026-11-02", "2026-11-01"]);
    expect(second.nextCursor).toBeNull();
    // A forged cursor is a 400 naming it, never a database error.
    for (const parts of [
      ["not a date", "x"],
      ["2026-11-01T00:00:00Z", "a\u0000b"],
      [1, 2],
    ]) {
      const cursor = Buffer.from(JSON.stringify(parts)).toString("base64url");
      const err = await rejects(a.customers.timeline({ id: c.id, cursor }));
      expect(err.code).toBe("BAD_REQUEST");
    }
    expect((await rejects(caller("viewer").customers.get({ id: c.id }))).code).toBe("FORBIDDEN");
    expect((await rejects(caller("b").customers.get({ id: c.id }))).code).toBe("NOT_FOUND");
  });

  /** A journey with labelled steps and one run of `customerId` through them, with a message. */
  async function runFor(customerId: string, n: number) {
    const prisma = env.db.prisma;
    const journey = await prisma.journey.create({
      data: { workspaceId: ws, name: `Welcome ${n}`, draft: {}, status: "LIVE" },
    });
    const version = await prisma.journeyVersion.create({
      data: {
        journeyId: journey.id,
        workspaceId: ws,
        version: 1,
        schemaVersion: 1,
        triggerType: "trigger.event",
        triggerEvent: "signup",
        plan: {
          schemaVersion: 1,
          triggerStepId: "t",
          settings: {},
          steps: {
            t: { id: "t", type: "trigger.event", config: { event: "signup" }, next: { out: "s" } },
            s: {
              id: "s",
              type: "split.condition",
              config: { label: "Is a gold member?" },
              next: { yes: "e", no: null },
            },
            e: {
              id: "e",
              type: "action.email",
              config: { label: "Gold welcome" },
              next: { out: null },
            },
          },
        },
      },
    });
    const run = await prisma.journeyRun.create({
      data: {
        workspaceId: ws,
        journeyId: journey.id,
        versionId: version.id,
        customerId,
        entryNumber: 1,
        status: "COMPLETED",
        startedAt: new Date(Date.UTC(2026, 10, 10, 9, n)),
      },
    });
    const message = await prisma.message.create({
      data: {
        workspaceId: ws,
        runId: run.id,
        stepId: "e",
        runSeq: 2,
        channel: "email",
        idempotencyKey: `${run.id}:e`,
        status: "SENT",
        customerId,
        recipient: "person@example.com",
        payload: { subject: "Welcome, Ada", text: "Hi Ada", html: "<p>Hi <b>Ada</b></p>" },
      },
    });
    // issue 15: its idempotency key, as the engine stores it with every message.
    await prisma.messageKey.create({
      data: {
        idempotencyKey: message.idempotencyKey,
        messageId: message.id,
        createdAt: message.createdAt,
      },
    });
    await prisma.runTrace.createMany({
      data: [
        { runId: run.id, stepId: "t", kind: "entered", detail: {} },
        { runId: run.id, stepId: "s", kind: "split.branch", detail: { branch: "yes", next: "e" } },
        {
          runId: run.id,
          stepId: "e",
          kind: "message.sent",
          detail: { channel: "email", messageId: message.id },
        },
      ],
    });
    return { journey, version, run, message };
  }

  it("lists every run with its trace in words, step names as drawn, and the rendered message", async () => {
    const c = await env.db.prisma.customer.findFirstOrThrow({
      where: { workspaceId: ws, externalId: "user-04" },
    });
    const made = [await runFor(c.id, 1), await runFor(c.id, 2), await runFor(c.id, 3)];
    const a = caller("a");
    const page1 = await a.customers.runs({ id: c.id, limit: 2 });
    expect(page1.items.map((r) => r.journeyName)).toEqual(["Welcome 3", "Welcome 2"]);
    const page2 = await a.customers.runs({ id: c.id, limit: 2, cursor: page1.nextCursor! });
    expect(page2.items.map((r) => r.journeyName)).toEqual(["Welcome 1"]);
    expect(page2.nextCursor).toBeNull();
    const run = page1.items[0]!;
    expect(run.statusWords).toBe("Completed");
    expect(run.trace.map((t) => [t.stepName, t.text])).toEqual([
      ["Event trigger", "Entered the journey at “Event trigger”"],
      ["Is a gold member?", "Took the “yes” path → “Gold welcome”"],
      ["Gold welcome", "Sent the email"],
    ]);
    expect(run.trace[2]?.messageId).toBe(made[2]!.message.id);
    expect(run.messages).toMatchObject([{ stepName: "Gold welcome", statusWords: "Sent" }]);
    const m = await a.customers.message({ id: made[2]!.message.id });
    expect(m).toMatchObject({
      subject: "Welcome, Ada",
      text: "Hi Ada",
      html: "<p>Hi <b>Ada</b></p>",
    });
    expect((await rejects(caller("b").customers.message({ id: m.id }))).code).toBe("NOT_FOUND");
  });

  it("erases a customer: nothing of them is left, an audit row says who, a later event starts afresh", async () => {
    const prisma = env.db.prisma;
    const c = await prisma.customer.findFirstOrThrow({
      where: { workspaceId: ws, externalId: "user-09" },
    });
    const other = await prisma.customer.findFirstOrThrow({
      where: { workspaceId: ws, externalId: "user-10" },
    });
    const mine = await runFor(c.id, 20);
    const theirs = await runFor(other.id, 21);
    const fill = async (customerId: string, runId: string, messageId: string, k: string) => {
      await prisma.purl.create({
        data: { token: `tok-${k}`, workspaceId: ws, runId, customerId, messageId, page: "welcome" },
      });
      await prisma.pageVisit.create({
        data: { workspaceId: ws, token: `tok-${k}`, page: "welcome", customerId, runId },
      });
      await prisma.formSubmission.create({
        data: {
          workspaceId: ws,
          pageVersionId: "pv",
          purlToken: `tok-${k}`,
          customerId,
          formId: "f",
          idempotencyKey: `idem-${k}`,
          fields: { email: "x@example.com" },
        },
      });
      await prisma.formStart.create({
        data: {
          token: `tok-${k}`,
          formId: "f",
          workspaceId: ws,
          page: "welcome",
          pageVersion: 1,
          customerId,
        },
      });
      await prisma.subscription.create({
        data: { customerId, workspaceId: ws, channel: "sms", status: "subscribed", source: "form" },
      });
      await prisma.subscriptionChange.create({
        data: {
          workspaceId: ws,
          customerId,
          channel: "sms",
          status: "subscribed",
          source: "form",
          actor: "customer",
        },
      });
      const event = await prisma.event.create({
        data: {
          workspaceId: ws,
          customerId,
          name: "purchase",
          timestamp: new Date(),
          messageId: `ev-${k}`,
        },
      });
      // Its de-duplication key, as ingest stores it (no foreign key ties either to the customer).
      await prisma.eventKey.create({
        data: {
          workspaceId: ws,
          messageId: event.messageId,
          eventId: event.id,
          receivedAt: event.receivedAt,
        },
      });
      await prisma.entrySkip.create({
        data: {
          workspaceId: ws,
          journeyId: "j",
          versionId: "v",
          customerId,
          triggerId: `t-${k}`,
          reason: "filter",
          detail: "no",
        },
      });
      await prisma.segmentMember.create({ data: { journeyId: `j-${k}`, customerId } });
      // Segment checks still owed (issue 15 outboxes: a journey step's, an identify call's).
      await env.db.query(
        `INSERT INTO "PendingCheck" ("runId", seq, "workspaceId", "customerId") VALUES ($1, 1, $2, $3)`,
        [runId, ws, customerId],
      );
      await env.db.query(
        `INSERT INTO "IdentifyCheck" ("customerId", "callId", "workspaceId") VALUES ($1, $2, $3)`,
        [customerId, `call-${k}`, ws],
      );
    };
    await fill(c.id, mine.run.id, mine.message.id, "mine");
    await fill(other.id, theirs.run.id, theirs.message.id, "theirs");
    await identify(env.engine, ws, {
      userId: "user-09",
      traits: { first_name: "Nine" },
      messageId: "idm-9",
    });

    // Marketers cannot erase; a wrong confirmation erases nothing.
    const denied = await rejects(
      caller("a").customers.erase({ id: c.id, confirmExternalId: "user-09" }),
    );
    expect(denied.code).toBe("FORBIDDEN");
    const admin = caller("admin");
    const wrong = await rejects(admin.customers.erase({ id: c.id, confirmExternalId: "user-9" }));
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(wrong.message).toContain("Type the customer's id");
    expect(await prisma.customer.count({ where: { id: c.id } })).toBe(1);

    const result = await admin.customers.erase({ id: c.id, confirmExternalId: "user-09" });
    expect(result.counts).toMatchObject({
      runs: 1,
      traces: 3,
      messages: 1,
      events: 1,
      customer: 1,
    });

    // Every table, by the customer's id, their run's id and their external id.
    const left = await env.db.query<{ table: string; n: number }>(
      `SELECT 'Customer' AS table, count(*)::int AS n FROM "Customer" WHERE id = $1 OR ("workspaceId" = $3 AND "externalId" = 'user-09')
       UNION ALL SELECT 'Event', count(*)::int FROM "Event" WHERE "customerId" = $1
       UNION ALL SELECT 'EventKey', count(*)::int FROM "EventKey" WHERE "workspaceId" = $3 AND "messageId" = 'ev-mine'
       UNION ALL SELECT 'JourneyRun', count(*)::int FROM "JourneyRun" WHERE "customerId" = $1
       UNION ALL SELECT 'RunTrace', count(*)::int FROM "RunTrace" WHERE "runId" = $2
       UNION ALL SELECT 'Message', count(*)::int FROM "Message" WHERE "customerId" = $1 OR "runId" = $2
       UNION ALL SELECT 'MessageKey', count(*)::int FROM "MessageKey" WHERE "idempotencyKey" = $4
       UNION ALL SELECT 'Purl', count(*)::int FROM "Purl" WHERE "customerId" = $1
       UNION ALL SELECT 'PageVisit', count(*)::int FROM "PageVisit" WHERE "customerId" = $1
       UNION ALL SELECT 'FormStart', count(*)::int FROM "FormStart" WHERE "customerId" = $1
       UNION ALL SELECT 'FormSubmission', count(*)::int FROM "FormSubmission" WHERE "customerId" = $1
       UNION ALL SELECT 'Subscription', count(*)::int FROM "Subscription" WHERE "customerId" = $1
       UNION ALL SELECT 'SubscriptionChange', count(*)::int FROM "SubscriptionChange" WHERE "customerId" = $1
       UNION ALL SELECT 'EntrySkip', count(*)::int FROM "EntrySkip" WHERE "customerId" = $1
       UNION ALL SELECT 'SegmentMember', count(*)::int FROM "SegmentMember" WHERE "customerId" = $1
       UNION ALL SELECT 'IdentifyCall', count(*)::int FROM "IdentifyCall" WHERE "workspaceId" = $3 AND "externalId" = 'user-09'
       UNION ALL SELECT 'PendingCheck', count(*)::int FROM "PendingCheck" WHERE "customerId" = $1
       UNION ALL SELECT 'IdentifyCheck', count(*)::int FROM "IdentifyCheck" WHERE "customerId" = $1`,
      [c.id, mine.run.id, ws, mine.message.idempotencyKey],
    );
    expect(left.filter((r) => r.n > 0)).toEqual([]);
    // Another customer's rows are untouched.
    const kept = await env.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM "RunTrace" WHERE "runId" = $2)::int
            + (SELECT count(*) FROM "Message" WHERE "runId" = $2)::int
            + (SELECT count(*) FROM "MessageKey" k JOIN "Message" m ON m.id = k."messageId"
                WHERE m."runId" = $2)::int
            + (SELECT count(*) FROM "Purl" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "PageVisit" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "FormSubmission" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "FormStart" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "Subscription" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "SubscriptionChange" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "Event" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "EventKey" k JOIN "Event" e ON e.id = k."eventId"
                WHERE e."customerId" = $1)::int
            + (SELECT count(*) FROM "EntrySkip" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "SegmentMember" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "PendingCheck" WHERE "customerId" = $1)::int
            + (SELECT count(*) FROM "IdentifyCheck" WHERE "customerId" = $1)::int AS n`,
      [other.id, theirs.run.id],
    );
    expect(kept[0]?.n).toBe(17);

    const audit = await prisma.auditLog.findMany({
      where: { workspaceId: ws, action: "customer.erase" },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorId: env.users.admin.id,
      targetType: "Customer",
      targetId: c.id,
    });
    expect(JSON.stringify(audit[0]?.detail)).not.toContain("user-09");
    expect((await rejects(caller("a").customers.get({ id: c.id }))).code).toBe("NOT_FOUND");
    expect((await caller("a").customers.search({ query: "user-09" })).items).toEqual([]);

    // A later identify and track with the same id make a fresh profile, nothing carried over.
    const again = await identify(env.engine, ws, {
      userId: "user-09",
      traits: { email: "new@example.com" },
    });
    expect(again.customerId).not.toBe(c.id);
    await track(env.engine, ws, { userId: "user-09", event: "purchase", messageId: "ev-after" });
    const fresh = await caller("a").customers.get({ id: again.customerId });
    expect(fresh.attributes.map((x) => x.key)).toEqual(["email"]);
    expect(fresh.counts).toEqual({ events: 1, runs: 0 });
    expect(fresh.consent.every((s) => s.status === "never asked")).toBe(true);
    // Erased already: NOT_FOUND, not a second audit row.
    expect(
      (await rejects(admin.customers.erase({ id: c.id, confirmExternalId: "user-09" }))).code,
    ).toBe("NOT_FOUND");
  });

  it("erases the events a statement in flight stores for the customer (Event has no foreign key to stop it)", async () => {
    const prisma = env.db.prisma;
    const c = await prisma.customer.create({ data: { workspaceId: ws, externalId: "in-flight" } });
    let settled = false;
    let erasing: Promise<unknown> = Promise.resolve();
    await env.db.withSession(async (s) => {
      // What ingest's one statement does, held open: it has read the customer and inserted the
      // event's key, not yet the event, and has not committed.
      await s.exec("BEGIN");
      await s.query(`SELECT id FROM "Customer" WHERE id = $1`, [c.id]);
      await s.query(
        `INSERT INTO "EventKey" VALUES ($1, 'ev-in-flight', 'e-in-flight', now() AT TIME ZONE 'UTC')`,
        [ws],
      );
      erasing = caller("admin")
        .customers.erase({ id: c.id, confirmExternalId: "in-flight" })
        .finally(() => (settled = true));
      // The erasure waits for it (its lock on "EventKey"); one that does not finishes first.
      await waitFor("the erasure waiting for the statement in flight, or finished", async () => {
        if (settled) return true;
        const waiting = await env.db.query(
          `SELECT 1 FROM pg_locks l JOIN pg_class t ON t.oid = l.relation
            WHERE t.relname = 'EventKey' AND NOT l.granted`,
        );
        return waiting.length > 0;
      });
      await s.query(
        `INSERT INTO "Event" (id, "workspaceId", "customerId", name, timestamp, "messageId")
         VALUES ('e-in-flight', $1, $2, 'purchase', now(), 'ev-in-flight')`,
        [ws, c.id],
      );
      await s.exec("COMMIT");
    });
    await erasing;
    const [left] = await env.db.query<{ events: number; keys: number; customers: number }>(
      `SELECT (SELECT count(*) FROM "Event" WHERE "customerId" = $1)::int AS events,
              (SELECT count(*) FROM "EventKey" WHERE "workspaceId" = $2 AND "messageId" = 'ev-in-flight')::int AS keys,
              (SELECT count(*) FROM "Customer" WHERE id = $1)::int AS customers`,
      [c.id, ws],
    );
    expect(left).toEqual({ events: 0, keys: 0, customers: 0 });
  });

  it("an erasure that waits over 2 s for the statements storing events fails, to be tried again, and erases nothing", async () => {
    const c = await env.db.prisma.customer.create({
      data: { workspaceId: ws, externalId: "held-up" },
    });
    await env.db.withSession(async (s) => {
      // A write to "EventKey" that stays open (a long sweep round, a stuck statement).
      await s.exec("BEGIN");
      await s.query(
        `INSERT INTO "EventKey" VALUES ($1, 'ev-held-up', 'e-held-up', now() AT TIME ZONE 'UTC')`,
        [ws],
      );
      try {
        const err = await rejects(
          caller("admin").customers.erase({ id: c.id, confirmExternalId: "held-up" }),
        );
        expect(err.code).toBe("TIMEOUT");
        expect(err.message).toContain("try the erasure again");
      } finally {
        await s.exec("ROLLBACK");
      }
    });
    expect(await env.db.prisma.customer.count({ where: { id: c.id } })).toBe(1);
  });
});
