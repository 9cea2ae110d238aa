// Walks the whole appRouter programmatically, so procedures added later are covered too:
// every procedure declares a role, admin procedures refuse marketers and viewers, ids from
// another workspace are NOT_FOUND (also when mixed with the caller's own ids in one call), and no
// response ever carries a credential secret.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Prisma } from "@postpath/db";
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
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../auth.ts";
import { appRouter, createCaller } from "../router.ts";
import { demoJourneyDraft } from "../seed.ts";
import type { ApiContext, SessionUser } from "../trpc.ts";

type AnyCaller = Record<string, unknown>;
interface Proc {
  path: string;
  type: "query" | "mutation" | "subscription";
  inputs: unknown[];
}

const procedures: Proc[] = Object.entries(
  (
    appRouter as unknown as {
      _def: { procedures: Record<string, { _def: { type: Proc["type"]; inputs: unknown[] } }> };
    }
  )._def.procedures,
).map(([path, p]) => ({ path, type: p._def.type, inputs: p._def.inputs }));

/** Procedures anyone may call (they are how a session starts or ends). */
const PUBLIC = new Set([
  "auth.signIn",
  "auth.signOut",
  "auth.me",
  "auth.invite",
  "auth.acceptInvite",
  // issue 12 (accounts): what the signed-out pages offer, reset by link, sign-up.
  "auth.settings",
  "auth.resetInfo",
  "auth.resetPassword",
  "auth.signUp",
]);
/** Whole routers that are admin-only, and admin-only procedures of mixed routers. */
const ADMIN_ROUTERS = new Set(["users", "invites", "apiKeys", "audit", "admin"]);
const ADMIN_PROCS = new Set([
  "credentials.create",
  "credentials.rotate",
  "credentials.rename",
  "credentials.remove",
  "credentials.test",
  "credentials.deliveryReports", // issue 17
  "limits.update",
]);
const isAdminOnly = (p: string) => ADMIN_ROUTERS.has(p.split(".")[0] ?? "") || ADMIN_PROCS.has(p);

/** Procedures that name one thing by id (`id`, or `journeyId` for the operate router). */
function takesId(p: Proc): boolean {
  return p.inputs.some(
    (s) => s instanceof z.ZodObject && ("id" in s.shape || "journeyId" in s.shape),
  );
}

async function call(
  ctx: ApiContext,
  path: string,
  input: unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; error: TRPCError }> {
  let node: unknown = createCaller(ctx);
  for (const part of path.split(".")) node = (node as AnyCaller)[part];
  try {
    return { ok: true, value: await (node as (i: unknown) => Promise<unknown>)(input) };
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { ok: false, error: err };
  }
}

describe("API security (walks every procedure of appRouter)", () => {
  let db: TestDatabase;
  let redis: Redis;
  let engine: EngineContext;
  let hook: http.Server;
  let hookUrl: string;
  const keyring = keyringFromText(generateMasterKeyText(), "test");
  const u: Record<
    "adminA" | "marketerA" | "viewerA" | "otherA" | "adminB" | "otherB",
    SessionUser
  > = {} as never;
  const ids: Record<string, string> = {};
  /** issue 16: a saved segment's rules (gold customers). */
  const SEGMENT = {
    match: "all" as const,
    rules: [{ kind: "attribute" as const, property: "tier", op: "eq" as const, value: "gold" }],
  };
  /** Workspace B's things, by the same keys as `ids` (plus versionId, enrolmentId). */
  const idsB: Record<string, string> = {};
  const SECRETS = {
    smtp: "smtp-pass-Zq81xKk3",
    sms: "twilio-auth-token-Qm4V9s",
    push: "push-api-key-P7w2Lk",
    webhook: "whsec-shared-secret-H3j5",
    slack: "https://hooks.example.test/services/T000/B000/slackSECRETtoken9",
  };

  const ctxFor = (user: SessionUser | null): ApiContext => ({
    db,
    engine,
    user,
    keyring,
    session: { token: null, set: () => undefined, clear: () => undefined },
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis("redis://127.0.0.1:6379");
    engine = createEngineContext({
      db,
      connection: redis,
      prefix: `sec${Date.now()}`,
      log: createLogger("silent"),
      providers: staticProviders({}),
      // The test receivers listen on 127.0.0.1, a private address only an allow-list admits.
      outbound: { allowHosts: ["127.0.0.1"] },
    });
    hook = http.createServer((req, res) => {
      req.resume();
      req.on("end", () =>
        res.writeHead(200, { "content-type": "application/json" }).end(`{"ok":true}`),
      );
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

    const passwordHash = await hashPassword("irrelevant-password");
    for (const [key, slug, role] of [
      ["adminA", "sec-a", "ADMIN"],
      ["marketerA", "sec-a", "MARKETER"],
      ["viewerA", "sec-a", "VIEWER"],
      ["otherA", "sec-a", "MARKETER"],
      ["adminB", "sec-b", "ADMIN"],
      ["otherB", "sec-b", "MARKETER"],
    ] as const) {
      const ws = await db.prisma.workspace.upsert({
        where: { slug },
        create: { name: slug, slug },
        update: {},
      });
      const row = await db.prisma.user.create({
        data: {
          workspaceId: ws.id,
          email: `${key.toLowerCase()}@sec.example`,
          name: key,
          role,
          passwordHash,
        },
      });
      u[key] = { id: row.id, email: row.email, name: row.name, role: row.role, workspaceId: ws.id };
    }
    // Workspace A's things, made through the API as A's admin.
    const a = createCaller(ctxFor(u.adminA));
    ids.users = u.otherA.id;
    ids.invites = (await a.invites.create({ email: "new@sec.example", role: "VIEWER" })).invite.id;
    ids.apiKeys = (await a.apiKeys.create({ name: "A key" })).key.id;
    const creds = [
      await a.credentials.create({
        kind: "SMTP",
        label: "Mail",
        config: {
          from: "Shop <shop@sec.example>",
          host: "127.0.0.1",
          port: 1,
          auth: { user: "shop", pass: SECRETS.smtp },
        },
      }),
      await a.credentials.create({
        kind: "SMS",
        label: "SMS",
        config: {
          accountSid: "AC123",
          authToken: SECRETS.sms,
          from: "+15550001111",
          baseUrl: hookUrl,
        },
      }),
      await a.credentials.create({
        kind: "PUSH",
        label: "Push",
        config: { endpoint: hookUrl, apiKey: SECRETS.push },
      }),
      await a.credentials.create({
        kind: "WEBHOOK",
        label: "Hook",
        config: { url: hookUrl, secret: SECRETS.webhook },
      }),
      await a.credentials.create({ kind: "SLACK", label: "Slack", config: { url: SECRETS.slack } }),
    ];
    ids.credentials = creds[2]?.id ?? "";
    ids.journeys = (
      await createCaller(ctxFor(u.marketerA)).journeys.create({
        name: "A journey",
        draft: demoJourneyDraft(1),
      })
    ).id;
    ids.operate = ids.analytics = ids.migration = ids.journeys; // issues 17, 18: by journey
    ids.pages = // issue 14
      (await createCaller(ctxFor(u.marketerA)).pages.create({ name: "A page", slug: "a-page" })).id;
    ids.segments = // issue 16
      (
        await createCaller(ctxFor(u.marketerA)).segments.create({
          name: "A segment",
          definition: SEGMENT,
        })
      ).id;
    ids.coupons = (await createCaller(ctxFor(u.marketerA)).coupons.create({ name: "A pool" })).id; // issue 16
    // A dead message in A, for the admin dead-letter procedures.
    const customer = await db.prisma.customer.create({
      data: { workspaceId: u.adminA.workspaceId, externalId: "cust-a" },
    });
    ids.customers = ids.customerId = customer.id; // issue 16: customers.*, consent.*
    await createCaller(ctxFor(u.marketerA)).journeys.publish({ id: ids.journeys });
    const version = await db.prisma.journeyVersion.findFirstOrThrow({
      where: { journeyId: ids.journeys },
    });
    ids.versionId = version.id;
    ids.enrolmentId = (
      await createCaller(ctxFor(u.marketerA)).operate.enrol({
        journeyId: ids.journeys,
        externalIds: ["cust-a"],
      })
    ).enrolmentId;
    const run = await db.prisma.journeyRun.create({
      data: {
        workspaceId: u.adminA.workspaceId,
        journeyId: ids.journeys,
        versionId: version.id,
        customerId: customer.id,
        entryNumber: 1,
        state: {},
      },
    });
    ids.admin = await deadMessage({
      workspaceId: u.adminA.workspaceId,
      runId: run.id,
      stepId: "email",
      runSeq: 0,
      channel: "email",
      idempotencyKey: "dead-1",
      status: "DEAD",
      error: "gave up",
    });
    Object.assign(idsB, await workspaceThings(u.adminB, u.otherB));
  });

  /** A message stored by hand with its idempotency key (issue 15: MessageKey), as the engine does. */
  async function deadMessage(data: Prisma.MessageUncheckedCreateInput): Promise<string> {
    const m = await db.prisma.message.create({ data });
    await db.prisma.messageKey.create({
      data: { idempotencyKey: m.idempotencyKey, messageId: m.id, createdAt: m.createdAt },
    });
    return m.id;
  }

  /** One of everything in the admin's workspace, made through the API (and the dead message by hand). */
  async function workspaceThings(admin: SessionUser, other: SessionUser) {
    const c = createCaller(ctxFor(admin));
    const out: Record<string, string> = { users: other.id };
    out.invites = (await c.invites.create({ email: "b@sec.example", role: "VIEWER" })).invite.id;
    out.apiKeys = (await c.apiKeys.create({ name: "B key" })).key.id;
    out.credentials = (
      await c.credentials.create({
        kind: "PUSH",
        label: "B push",
        config: { endpoint: hookUrl, apiKey: "b-push-key-0000" },
      })
    ).id;
    out.journeys =
      out.operate =
      out.analytics =
      out.migration =
        (await c.journeys.create({ name: "B journey", draft: demoJourneyDraft(1) })).id;
    await c.journeys.publish({ id: out.journeys });
    out.pages = (await c.pages.create({ name: "B page", slug: "b-page" })).id; // issue 14
    out.segments = (await c.segments.create({ name: "B segment", definition: SEGMENT })).id; // issue 16
    out.coupons = (await c.coupons.create({ name: "B pool" })).id; // issue 16
    const version = await db.prisma.journeyVersion.findFirstOrThrow({
      where: { journeyId: out.journeys },
    });
    out.versionId = version.id;
    const customer = await db.prisma.customer.create({
      data: { workspaceId: admin.workspaceId, externalId: "cust-b" },
    });
    out.customers = out.customerId = customer.id; // issue 16
    out.enrolmentId = (
      await c.operate.enrol({ journeyId: out.journeys, externalIds: ["cust-b"] })
    ).enrolmentId;
    const run = await db.prisma.journeyRun.create({
      data: {
        workspaceId: admin.workspaceId,
        journeyId: out.journeys,
        versionId: version.id,
        customerId: customer.id,
        entryNumber: 1,
        state: {},
      },
    });
    out.admin = await deadMessage({
      workspaceId: admin.workspaceId,
      runId: run.id,
      stepId: "email",
      runSeq: 0,
      channel: "email",
      idempotencyKey: "dead-b",
      status: "DEAD",
      error: "gave up",
    });
    return out;
  }
  afterAll(async () => {
    hook?.close();
    await engine?.queues.close();
    await redis?.quit();
    await db?.drop();
  });

  /** One input that satisfies every procedure's schema well enough (zod strips what a schema does not know). */
  const genericInput = (id: string) => ({
    id,
    journeyId: id,
    customer: "cust-a",
    confirmExternalId: "cust-a", // customers.erase: typed to confirm
    from: "2026-01-01", // analytics.daily
    to: "2026-01-31",
    choices: { mode: "keep" }, // migration.preview
    definition: SEGMENT, // segments.preview, segments.update
    page: "a-page", // segments.mintPurls
    text: "CODE-1", // coupons.addCodes
    externalIds: ["cust-a"],
    role: "VIEWER",
    label: "renamed",
    name: "renamed",
    rateLimitPerMinute: 5,
    config: { endpoint: hookUrl, apiKey: "replacement-key-0000" },
    draft: demoJourneyDraft(2),
    revision: 0,
  });

  it("every procedure declares a role: anonymous callers get UNAUTHORIZED except the sign-in ones", async () => {
    expect(procedures.length).toBeGreaterThan(20);
    for (const p of procedures) {
      if (PUBLIC.has(p.path)) continue;
      const res = await call(ctxFor(null), p.path, genericInput("x"));
      expect(res.ok ? "ok" : res.error.code, p.path).toBe("UNAUTHORIZED");
    }
  });

  it("marketers and viewers get FORBIDDEN from every admin procedure (and change nothing)", async () => {
    const admin = procedures.filter((p) => isAdminOnly(p.path));
    expect(admin.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        "users.setRole",
        "credentials.create",
        "apiKeys.create",
        "admin.replay",
        "audit.list",
        "limits.update",
      ]),
    );
    for (const user of [u.marketerA, u.viewerA]) {
      for (const p of admin) {
        const res = await call(
          ctxFor(user),
          p.path,
          genericInput(ids[p.path.split(".")[0] ?? ""] ?? "x"),
        );
        expect(res.ok ? "ok" : res.error.code, `${user.role} ${p.path}`).toBe("FORBIDDEN");
      }
    }
    expect(
      (await db.prisma.apiKey.findUniqueOrThrow({ where: { id: ids.apiKeys ?? "" } })).revokedAt,
    ).toBeNull();
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: u.otherA.id } })).role).toBe(
      "MARKETER",
    );
  });

  it("workspace B's admin reaching A's things by id gets NOT_FOUND from every router, and A's data is untouched", async () => {
    const before = JSON.stringify(await snapshotA());
    const withId = procedures.filter((p) => takesId(p) && !PUBLIC.has(p.path));
    const routers = new Set(withId.map((p) => p.path.split(".")[0]));
    expect([...routers]).toEqual(
      expect.arrayContaining([
        "users",
        "invites",
        "apiKeys",
        "credentials",
        "admin",
        "journeys",
        "operate",
      ]),
    );
    for (const p of withId) {
      const router = p.path.split(".")[0] ?? "";
      const id = ids[router];
      expect(id, `a workspace-A id for router ${router}`).toBeTruthy();
      const res = await call(ctxFor(u.adminB), p.path, genericInput(id ?? ""));
      expect(res.ok ? "ok" : res.error.code, p.path).toBe("NOT_FOUND");
    }
    // Lists as B never show A's rows.
    for (const p of procedures.filter(
      (x) => x.type === "query" && !takesId(x) && !PUBLIC.has(x.path),
    )) {
      const res = await call(ctxFor(u.adminB), p.path, undefined);
      if (res.ok)
        for (const id of Object.values(ids))
          expect(JSON.stringify(res.value), p.path).not.toContain(id);
    }
    expect(JSON.stringify(await snapshotA())).toBe(before);
  });

  /** Input keys that name one stored thing of a workspace (`templateId` names a gallery entry;
   * `externalId` is the workspace's own name for a customer, meaningful only inside it). */
  const idKeys = (p: Proc): string[] => [
    ...new Set(
      p.inputs.flatMap((s) =>
        s instanceof z.ZodObject
          ? Object.keys(s.shape).filter(
              (k) =>
                (k === "id" || k.endsWith("Id")) && k !== "templateId" && !/externalId$/i.test(k),
            )
          : [],
      ),
    ),
  ];
  /** The value of one id parameter from a workspace's things (`id` means the router's own kind). */
  const idFor = (things: Record<string, string>, p: Proc, key: string): string | undefined =>
    key === "id"
      ? things[p.path.split(".")[0] ?? ""]
      : key === "journeyId"
        ? things.journeys
        : things[key];

  it("issue-012-cross-workspace-ids: every procedure taking ids refuses one from another workspace mixed with the caller's own (NOT_FOUND), and changes nothing", async () => {
    const before = JSON.stringify([await snapshotA(), await snapshotA(u.adminB.workspaceId)]);
    const withIds = procedures.filter((p) => idKeys(p).length > 0 && !PUBLIC.has(p.path));
    expect(withIds.map((p) => p.path)).toEqual(
      expect.arrayContaining(["operate.nodeCounts", "operate.enrolment", "journeys.version"]),
    );
    expect(idKeys(withIds.find((p) => p.path === "operate.nodeCounts")!).sort()).toEqual([
      "journeyId",
      "versionId",
    ]);
    let calls = 0;
    for (const p of withIds) {
      for (const [caller, home, foreign] of [
        [u.adminA, ids, idsB],
        [u.adminB, idsB, ids],
      ] as const) {
        for (const mixed of idKeys(p)) {
          const input: Record<string, unknown> = genericInput(idFor(home, p, "id") ?? "x");
          for (const key of idKeys(p)) {
            const value = idFor(key === mixed ? foreign : home, p, key);
            expect(value, `${p.path} ${key}`).toBeTruthy();
            input[key] = value;
          }
          const res = await call(ctxFor(caller), p.path, input);
          expect(res.ok ? "ok" : res.error.code, `${caller.name} ${p.path} foreign ${mixed}`).toBe(
            "NOT_FOUND",
          );
          calls++;
        }
      }
    }
    expect(calls).toBeGreaterThan(withIds.length * 2);
    expect(JSON.stringify([await snapshotA(), await snapshotA(u.adminB.workspaceId)])).toBe(before);
  });

  async function snapshotA(ws = u.adminA.workspaceId) {
    return {
      users: await db.prisma.user.findMany({
        where: { workspaceId: ws },
        select: { id: true, role: true, name: true },
        orderBy: { id: "asc" },
      }),
      keys: await db.prisma.apiKey.findMany({
        where: { workspaceId: ws },
        select: { id: true, revokedAt: true, rateLimitPerMinute: true },
      }),
      invites: await db.prisma.invite.findMany({
        where: { workspaceId: ws },
        select: { id: true, revokedAt: true },
      }),
      creds: await db.prisma.channelCredential.findMany({
        where: { workspaceId: ws },
        select: { id: true, label: true, updatedAt: true },
      }),
      journeys: await db.prisma.journey.findMany({
        where: { workspaceId: ws },
        select: { id: true, name: true, status: true, draftRevision: true },
      }),
      couponPools: await db.prisma.couponPool.findMany({
        where: { workspaceId: ws },
        select: { id: true, name: true, _count: { select: { codes: true } } },
      }),
      messages: await db.prisma.message.findMany({
        where: { workspaceId: ws },
        select: { id: true, status: true },
      }),
      enrolments: await db.prisma.enrolment.findMany({
        where: { workspaceId: ws },
        select: { id: true },
        orderBy: { id: "asc" },
      }),
    };
  }

  it("no procedure's output ever contains a credential secret (all queries, and every credential mutation incl. test sends)", async () => {
    const outputs: unknown[] = [];
    for (const user of [u.adminA, u.marketerA]) {
      for (const p of procedures.filter((x) => x.type === "query")) {
        const res = await call(
          ctxFor(user),
          p.path,
          takesId(p) ? genericInput(ids[p.path.split(".")[0] ?? ""] ?? "x") : undefined,
        );
        if (res.ok) outputs.push(res.value);
      }
    }
    const a = createCaller(ctxFor(u.adminA));
    const creds = await a.credentials.list();
    expect(creds).toHaveLength(5);
    for (const c of creds) {
      expect(Object.keys(c).sort()).toEqual([
        "createdAt",
        "id",
        "kind",
        "label",
        "last4",
        "lastTestDetail",
        "lastTestOk",
        "lastTestedAt",
        "lastUsedAt",
        "updatedAt",
      ]);
      outputs.push(
        await a.credentials.test({
          id: c.id,
          ...(c.kind === "SMS" || c.kind === "PUSH" ? { to: "+15550002222" } : {}),
        }),
      );
    }
    outputs.push(await a.credentials.list(), await a.audit.list());
    const after = await a.credentials.list();
    outputs.push(
      await a.credentials.rotate({
        id: ids.credentials ?? "",
        config: { endpoint: hookUrl, apiKey: SECRETS.push },
      }),
    );
    const text = JSON.stringify(outputs);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    // The last 4 are the only part shown.
    expect(creds.find((c) => c.kind === "PUSH")?.last4).toBe(SECRETS.push.slice(-4));
    // Test sends report the provider's answer; the SMTP one to a closed port fails with a reason.
    const smtp = creds.find((c) => c.kind === "SMTP");
    expect(after.find((c) => c.id === smtp?.id)?.lastTestOk).toBe(false);
    expect(after.find((c) => c.kind === "WEBHOOK")?.lastTestOk).toBe(true);
    expect(after.find((c) => c.kind === "PUSH")?.lastTestOk).toBe(true);
  });
});
