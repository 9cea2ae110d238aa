// A workspace's SMTP credential, end to end: stored encrypted, decrypted only by the worker at send
// time (the SMTP server, which requires that password, accepts the mail), and absent from every API response, every log line
// (pino at trace level), every BullMQ job in Redis and every stored message, trace or audit row.
import { Writable } from "node:stream";
import { generateMasterKeyText, keyringFromText } from "@postpath/engine";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { draftFromSteps } from "@postpath/journey";

const SECRET = "smtp-Secret-pass-7Hq2Zx";

describe("channel credential secrets stay secret", () => {
  let h: Harness;
  let smtp: SmtpSink;
  const logs: string[] = [];

  beforeAll(async () => {
    // Accepts mail only after AUTH as shop / SECRET.
    smtp = await startSmtpSink({ auth: { user: "shop", pass: SECRET } });
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString("utf8"));
        cb();
      },
    });
    h = await startHarness({
      keyring: keyringFromText(generateMasterKeyText(), "test"),
      log: pino({ level: "trace" }, sink),
    });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  it("sends with the decrypted secret and never shows it anywhere else", async () => {
    const admin = trpcHttp(h.baseUrl);
    expect((await admin.mutation("auth.signIn", h.admin)).status).toBe(200);
    const responses: unknown[] = [];
    const created = await admin.mutation("credentials.create", {
      kind: "SMTP",
      label: "Shop mail",
      config: {
        from: "Shop <shop@example.com>",
        host: "127.0.0.1",
        port: smtp.port,
        secure: false,
        ignoreTLS: true,
        auth: { user: "shop", pass: SECRET },
      },
    });
    expect(created.status).toBe(200);
    responses.push(created.body);
    expect(created.body.result.data.last4).toBe(SECRET.slice(-4));
    const credId = created.body.result.data.id as string;
    const tested = await admin.mutation("credentials.test", { id: credId });
    responses.push(tested.body);
    expect(tested.body.result.data).toMatchObject({ ok: true });

    // A marketer can list (to use the channel) but never read or change it.
    const marketer = trpcHttp(h.baseUrl);
    await marketer.mutation("auth.signIn", h.marketer);
    const listed = await marketer.query("credentials.list");
    responses.push(listed.body);
    expect(listed.body.result.data).toHaveLength(1);
    expect((await marketer.mutation("credentials.test", { id: credId })).status).toBe(403);

    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "m" },
      {
        id: "m",
        type: "action.email",
        data: { subject: "Thanks", body: "Thanks!", format: "text" },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const journeyId = (await marketer.mutation("journeys.create", { name: "Creds", draft })).body
      .result.data.id as string;
    expect((await marketer.mutation("journeys.publish", { id: journeyId })).status).toBe(200);
    const auth = {
      authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      "content-type": "application/json",
    };
    await fetch(`${h.baseUrl}/v1/identify`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ userId: "c1", traits: { email: "lin@example.com" } }),
    });
    await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ userId: "c1", event: "purchase" }),
    });

    const [mail] = await smtp.waitFor(1, { match: (m) => m.to.includes("lin@example.com") });
    expect(mail?.authUser).toBe("shop"); // the worker decrypted the secret at send time
    await waitFor(
      "lastUsedAt",
      async () =>
        (await h.db.prisma.channelCredential.findUniqueOrThrow({ where: { id: credId } }))
          .lastUsedAt,
    );
    responses.push(
      (await admin.query("credentials.list")).body,
      (await admin.query("audit.list")).body,
      (await admin.query("admin.deadLetters")).body,
    );

    // API responses.
    expect(JSON.stringify(responses)).not.toContain(SECRET);
    // Logs (trace level: every request, job and send).
    expect(logs.length).toBeGreaterThan(10);
    expect(logs.join("")).not.toContain(SECRET);
    // Everything BullMQ keeps in Redis for this test's queues (job data, return values, events).
    const keys = await h.redis.keys(`${h.prefix}:*`);
    expect(keys.some((k) => k.includes(":sends:"))).toBe(true);
    let redisText = "";
    for (const key of keys) {
      const type = await h.redis.type(key);
      if (type === "hash") redisText += JSON.stringify(await h.redis.hgetall(key));
      else if (type === "string") redisText += (await h.redis.get(key)) ?? "";
      else if (type === "list") redisText += JSON.stringify(await h.redis.lrange(key, "0", "-1"));
      else if (type === "zset") redisText += JSON.stringify(await h.redis.zrange(key, "0", "-1"));
      else if (type === "set") redisText += JSON.stringify(await h.redis.smembers(key));
      else if (type === "stream") redisText += JSON.stringify(await h.redis.xrange(key, "-", "+"));
    }
    expect(redisText).toContain("messageId");
    expect(redisText).not.toContain(SECRET);
    // Stored messages, traces, audit rows.
    const rows = [
      await h.db.prisma.message.findMany({ where: { workspaceId: h.workspaceId } }),
      await h.db.prisma.runTrace.findMany({
        where: {
          runId: {
            in: (
              await h.db.prisma.journeyRun.findMany({
                where: { workspaceId: h.workspaceId },
                select: { id: true },
              })
            ).map((r) => r.id),
          },
        },
      }),
      await h.db.prisma.auditLog.findMany({ where: { workspaceId: h.workspaceId } }),
    ];
    expect(rows.map((r) => r.length > 0)).toEqual([true, true, true]);
    expect(
      JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
    ).not.toContain(SECRET);
  });
});
