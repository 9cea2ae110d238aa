import { createHash } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import {
  createEngineContext,
  createLogger,
  createRedis,
  generateMasterKeyText,
  keyringFromText,
  staticProviders,
  type EngineContext,
} from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSession,
  hashPassword,
  recordSignInFailure,
  THROTTLE_FREE_FAILURES,
  throttleKeys,
  throttleWait,
  userForSession,
} from "../auth.ts";
import { createCaller } from "../router.ts";
import type { ApiContext, SessionUser } from "../trpc.ts";

describe("accounts, invites, API keys, limits, dead letters, audit (real Postgres)", () => {
  let db: TestDatabase;
  let redis: Redis;
  let engine: EngineContext;
  let admin: SessionUser;
  const keyring = keyringFromText(generateMasterKeyText(), "test");
  const cookies: { token: string | null } = { token: null };

  const ctxFor = (user: SessionUser | null, ip = "10.0.0.1"): ApiContext => ({
    db,
    engine,
    user,
    keyring,
    ip,
    session: {
      token: cookies.token,
      set: (t) => void (cookies.token = t),
      clear: () => void (cookies.token = null),
    },
  });

  async function rejects(p: Promise<unknown>): Promise<TRPCError> {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(TRPCError);
      return err as TRPCError;
    }
    throw new Error("expected the call to fail");
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis("redis://127.0.0.1:6379");
    engine = createEngineContext({
      db,
      connection: redis,
      prefix: `adm${Date.now()}`,
      log: createLogger("silent"),
      providers: staticProviders({}),
    });
    const ws = await db.prisma.workspace.create({ data: { name: "Adm", slug: "adm" } });
    const row = await db.prisma.user.create({
      data: {
        workspaceId: ws.id,
        email: "boss@adm.example",
        name: "Boss",
        role: "ADMIN",
        passwordHash: await hashPassword("right-password-1"),
      },
    });
    admin = { id: row.id, email: row.email, name: row.name, role: row.role, workspaceId: ws.id };
  });
  afterAll(async () => {
    await engine?.queues.close();
    await redis?.quit();
    await db?.drop();
  });

  it("sign-in: wrong password and unknown user answer the same; repeated failures lock the email, success clears it", async () => {
    const anon = createCaller(ctxFor(null));
    const wrong = await rejects(anon.auth.signIn({ email: "boss@adm.example", password: "nope" }));
    const unknown = await rejects(
      anon.auth.signIn({ email: "ghost@adm.example", password: "nope" }),
    );
    expect([wrong.code, wrong.message]).toEqual([unknown.code, unknown.message]);
    expect(wrong.code).toBe("UNAUTHORIZED");

    // The counter just incremented: 1 failure so far for boss@. Fail up to the free allowance.
    for (let i = 1; i < THROTTLE_FREE_FAILURES; i++)
      await rejects(
        createCaller(ctxFor(null, `10.0.1.${i}`)).auth.signIn({
          email: "boss@adm.example",
          password: "nope",
        }),
      );
    // One more failure locks the email — from any IP, even with the right password.
    await rejects(
      createCaller(ctxFor(null, "10.0.2.1")).auth.signIn({
        email: "boss@adm.example",
        password: "nope",
      }),
    );
    const locked = await rejects(
      createCaller(ctxFor(null, "10.0.3.1")).auth.signIn({
        email: "boss@adm.example",
        password: "right-password-1",
      }),
    );
    expect(locked.code).toBe("TOO_MANY_REQUESTS");
    // Unknown emails lock the same way (no way to tell them apart).
    for (let i = 0; i <= THROTTLE_FREE_FAILURES; i++)
      await rejects(
        createCaller(ctxFor(null, `10.0.4.${i}`)).auth.signIn({
          email: "ghost2@adm.example",
          password: "x",
        }),
      );
    expect(
      (
        await rejects(
          createCaller(ctxFor(null, "10.0.5.1")).auth.signIn({
            email: "ghost2@adm.example",
            password: "x",
          }),
        )
      ).code,
    ).toBe("TOO_MANY_REQUESTS");

    // The lock doubles per failure and expires: seen through the throttle clock directly.
    const keys = throttleKeys("clock@adm.example", undefined);
    const t0 = Date.now();
    for (let i = 0; i < THROTTLE_FREE_FAILURES + 2; i++) await recordSignInFailure(db, keys, t0);
    expect(await throttleWait(db, keys, t0)).toBe(2000);
    expect(await throttleWait(db, keys, t0 + 2000)).toBe(0);

    await db.prisma.loginThrottle.updateMany({
      where: { key: "email:boss@adm.example" },
      data: { lockedUntil: null },
    });
    const ok = await createCaller(ctxFor(null, "10.0.6.1")).auth.signIn({
      email: "BOSS@adm.example",
      password: "right-password-1",
    });
    expect(ok.user.role).toBe("ADMIN");
    expect(
      await db.prisma.loginThrottle.findUnique({ where: { key: "email:boss@adm.example" } }),
    ).toBeNull();
  });

  it("sessions: stored hashed, expire after their TTL, sign-out deletes them", async () => {
    const t0 = Date.now();
    const { token } = await createSession(db, admin.id, t0);
    expect(await db.prisma.session.count({ where: { tokenHash: token } })).toBe(0);
    expect(
      await db.prisma.session.count({
        where: { tokenHash: createHash("sha256").update(token).digest("hex") },
      }),
    ).toBe(1);
    expect((await userForSession(db, token, t0 + 1000))?.id).toBe(admin.id);
    expect(await userForSession(db, token, t0 + 8 * 24 * 3600 * 1000)).toBeNull();
    cookies.token = token;
    await createCaller(ctxFor(admin)).auth.signOut();
    expect(cookies.token).toBeNull();
    expect(await userForSession(db, token, t0 + 1000)).toBeNull();
  });

  it("invites: link works once, creates the user with the invited role, signs them in; expired/revoked links fail", async () => {
    const a = createCaller(ctxFor(admin));
    const { token, invite } = await a.invites.create({
      email: "New.Person@adm.example",
      role: "VIEWER",
    });
    expect(invite.email).toBe("new.person@adm.example");
    const anon = createCaller(ctxFor(null));
    expect(await anon.auth.invite({ token })).toMatchObject({
      email: "new.person@adm.example",
      role: "VIEWER",
      workspace: "Adm",
    });
    expect(
      (await rejects(anon.auth.acceptInvite({ token, name: "New", password: "short" }))).code,
    ).toBe("BAD_REQUEST");
    cookies.token = null;
    const joined = await anon.auth.acceptInvite({
      token,
      name: "New",
      password: "long-enough-password",
    });
    expect(joined.user).toMatchObject({ email: "new.person@adm.example", role: "VIEWER" });
    expect(cookies.token).toBeTruthy();
    expect((await userForSession(db, cookies.token))?.workspaceId).toBe(admin.workspaceId);
    expect(
      (
        await rejects(
          anon.auth.acceptInvite({ token, name: "Again", password: "long-enough-password" }),
        )
      ).code,
    ).toBe("NOT_FOUND");

    const second = await a.invites.create({ email: "later@adm.example" });
    await a.invites.revoke({ id: second.invite.id });
    expect((await rejects(anon.auth.invite({ token: second.token }))).code).toBe("NOT_FOUND");
    const third = await a.invites.create({ email: "expired@adm.example" });
    await db.prisma.invite.update({
      where: { id: third.invite.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(
      (
        await rejects(
          anon.auth.acceptInvite({
            token: third.token,
            name: "E",
            password: "long-enough-password",
          }),
        )
      ).code,
    ).toBe("NOT_FOUND");
    expect((await rejects(a.invites.create({ email: "boss@adm.example" }))).code).toBe("CONFLICT");
  });

  it("users: roles change, the last admin cannot be demoted, removal signs the user out", async () => {
    const a = createCaller(ctxFor(admin));
    expect((await rejects(a.users.setRole({ id: admin.id, role: "MARKETER" }))).code).toBe(
      "PRECONDITION_FAILED",
    );
    const viewer = (await a.users.list()).find((x) => x.email === "new.person@adm.example");
    expect(viewer?.role).toBe("VIEWER");
    expect((await a.users.setRole({ id: viewer?.id ?? "", role: "MARKETER" })).role).toBe(
      "MARKETER",
    );
    await a.users.remove({ id: viewer?.id ?? "" });
    expect(await db.prisma.session.count({ where: { userId: viewer?.id ?? "" } })).toBe(0);
    expect((await rejects(a.users.remove({ id: admin.id }))).code).toBe("PRECONDITION_FAILED");
  });

  it("API keys: the secret is shown once and stored as sha256; revoke; lists never show it", async () => {
    const a = createCaller(ctxFor(admin));
    const { key, secret } = await a.apiKeys.create({
      name: "Shop backend",
      rateLimitPerMinute: 120,
    });
    expect(secret).toMatch(/^pp_/);
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(row.keyHash).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(JSON.stringify(await a.apiKeys.list())).not.toContain(secret);
    await a.apiKeys.revoke({ id: key.id });
    expect((await a.apiKeys.list()).find((k) => k.id === key.id)?.revokedAt).toBeInstanceOf(Date);
    expect((await rejects(a.apiKeys.revoke({ id: key.id }))).code).toBe("NOT_FOUND");
  });

  it("sending limits: validated, stored per workspace, readable by viewers", async () => {
    const a = createCaller(ctxFor(admin));
    expect(await a.limits.get()).toEqual({
      quietHours: null,
      frequencyCap: null,
      maxPerMinute: null,
    });
    await a.limits.update({
      quietHours: { start: "21:00", end: "08:00" },
      frequencyCap: { max: 3, period: { amount: 1, unit: "days" } },
      maxPerMinute: 600,
    });
    expect(await a.limits.get()).toMatchObject({
      quietHours: { start: "21:00", end: "08:00", mode: "hold" },
      frequencyCap: { max: 3, onCap: "skip" },
      maxPerMinute: 600,
    });
    await a.limits.update({
      frequencyCap: { max: 2, period: { amount: 1, unit: "hours" }, onCap: "delay" },
    });
    expect((await a.limits.get()).frequencyCap).toMatchObject({ max: 2, onCap: "delay" });
    expect(
      (await rejects(a.limits.update({ quietHours: { start: "25:00", end: "08:00" } }))).code,
    ).toBe("BAD_REQUEST");
  });

  it("queue view counts jobs; a dead message is replayed back to PENDING with a send job", async () => {
    const a = createCaller(ctxFor(admin));
    const customer = await db.prisma.customer.create({
      data: { workspaceId: admin.workspaceId, externalId: "c1" },
    });
    const journey = await db.prisma.journey.create({
      data: { workspaceId: admin.workspaceId, name: "J", draft: {} },
    });
    const version = await db.prisma.journeyVersion.create({
      data: {
        journeyId: journey.id,
        workspaceId: admin.workspaceId,
        version: 1,
        schemaVersion: 1,
        plan: {},
        triggerType: "event",
      },
    });
    const run = await db.prisma.journeyRun.create({
      data: {
        workspaceId: admin.workspaceId,
        journeyId: journey.id,
        versionId: version.id,
        customerId: customer.id,
        entryNumber: 1,
        state: {},
      },
    });
    const msg = await db.prisma.message.create({
      data: {
        workspaceId: admin.workspaceId,
        runId: run.id,
        stepId: "s",
        runSeq: 0,
        channel: "email",
        idempotencyKey: "k-dead",
        payload: { subject: "Hello", text: "Hi" },
        status: "DEAD",
        attempts: 8,
        error: "SMTP 421",
      },
    });
    // issue 15: its idempotency key, as the engine stores it with every message.
    await db.prisma.messageKey.create({
      data: { idempotencyKey: msg.idempotencyKey, messageId: msg.id, createdAt: msg.createdAt },
    });
    const dead = await a.admin.deadLetters();
    expect(dead.items.map((d) => d.messageId)).toEqual([msg.id]);
    expect(dead.items[0]?.journeyName).toBe("J");
    await a.admin.replay({ id: msg.id });
    expect(await db.prisma.message.findFirstOrThrow({ where: { id: msg.id } })).toMatchObject({
      status: "PENDING",
      attempts: 0,
      error: null,
    });
    const waiting = await engine.queues.sends.getJobs(["waiting", "prioritized", "delayed"]);
    expect(waiting.map((j) => j.data.messageId)).toContain(msg.id);
    const queues = await a.admin.queues();
    expect(queues.find((q) => q.name === "sends")?.waiting).toBeGreaterThanOrEqual(1);
    expect((await rejects(a.admin.replay({ id: msg.id }))).code).toBe("CONFLICT");
    expect((await a.admin.deadLetters()).items).toEqual([]);
  });

  it("audit log records who did what, newest first, with pages", async () => {
    const a = createCaller(ctxFor(admin));
    const page1 = await a.audit.list({ limit: 3 });
    expect(page1).toHaveLength(3);
    expect(page1[0]?.action).toBe("message.replay");
    expect(page1[0]?.actor?.email).toBe("boss@adm.example");
    const page2 = await a.audit.list({ limit: 200, before: page1[2]?.id });
    const actions = [...page1, ...page2].map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "invite.create",
        "invite.revoke",
        "user.join",
        "user.role",
        "user.remove",
        "apiKey.create",
        "apiKey.revoke",
        "limits.update",
        "message.replay",
      ]),
    );
    expect(new Set([...page1, ...page2].map((e) => e.id)).size).toBe(page1.length + page2.length);
  });
});
