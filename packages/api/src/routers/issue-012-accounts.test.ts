// issue 12, finding 9: passwords are checked for strength in one place (invite acceptance,
// sign-up, password change, reset link); users change their password (other sessions end);
// admins make one-time reset links for users of their own workspace; instance owners create
// workspaces; sign-up is off unless ALLOW_SIGNUP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSession, hashPassword, sha256Hex, userForSession } from "../auth.ts";
import { checkPassword } from "../password.ts";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";
import type { AccountSettings, ApiContext, SessionUser } from "../trpc.ts";

const STRONG = "tangerine quiver orbit 81";
const WEAK = ["password12", "aaaaaaaaaa"];

type Key = "adminA" | "marketerA" | "adminB";

describe("issue 12: accounts (real Postgres)", () => {
  let env: ApiTestEnv<Key>;
  let u: Record<Key, SessionUser>;

  /** A context with a cookie jar: `jar.token` is what the browser would send next. */
  function ctxFor(
    user: SessionUser | null,
    jar: { token: string | null } = { token: null },
    accounts?: AccountSettings,
  ): ApiContext {
    return {
      ...env.ctxFor(user),
      ip: "10.9.0.1",
      ...(accounts ? { accounts } : {}),
      session: {
        get token() {
          return jar.token;
        },
        set: (t) => void (jar.token = t),
        clear: () => void (jar.token = null),
      },
    };
  }

  async function setPassword(user: SessionUser, password: string) {
    await env.db.prisma.user.update({
      where: { id: user.id },
      data: { passwordHash: await hashPassword(password) },
    });
  }

  /** Whether email + password signs in (a throwaway context). */
  async function canSignIn(email: string, password: string): Promise<boolean> {
    await env.db.prisma.loginThrottle.deleteMany(); // the checks' own failures must not lock anyone
    try {
      await createCaller(ctxFor(null)).auth.signIn({ email, password });
      return true;
    } catch {
      return false;
    }
  }

  beforeAll(async () => {
    env = await openApiTestEnv<Key>([
      ["adminA", "acc-a", "ADMIN"],
      ["marketerA", "acc-a", "MARKETER"],
      ["adminB", "acc-b", "ADMIN"],
    ]);
    u = env.users;
    for (const user of Object.values(u)) {
      // Sign-in lower-cases the email it is given; the test users' addresses are mixed-case.
      user.email = user.email.toLowerCase();
      await env.db.prisma.user.update({ where: { id: user.id }, data: { email: user.email } });
      await setPassword(user, STRONG);
    }
  });
  afterAll(async () => {
    await env?.close();
  });

  it("the strength check refuses the email itself, common and repeated passwords, and says why", () => {
    const about = { email: "ada.lovelace@example.com", name: "Ada Lovelace" };
    for (const weak of [about.email, "adalovelace1", "P@$$w0rd12", "p4ssw0rd!!", ...WEAK]) {
      const verdict = checkPassword(weak, about);
      expect(verdict.ok, weak).toBe(false);
      if (!verdict.ok) expect(verdict.message).toMatch(/^This password is too easy to guess\. /);
    }
    const common = checkPassword("password12", about);
    expect(!common.ok && common.message).toMatch(/commonly used password/);
    const mine = checkPassword(about.email, about);
    expect(!mine.ok && mine.message).toMatch(/personal/);
    expect(checkPassword(STRONG, about)).toMatchObject({ ok: true });
    expect(checkPassword("x".repeat(201), about)).toMatchObject({ ok: false });
    // Slow inputs for the estimator (l33t runs, digit runs) are scored on their first 64 characters.
    expect(checkPassword("4@8({[<3&6#!1|7+0%$5z2".repeat(10).slice(0, 200), about).ok).toBe(true);
    expect(checkPassword("1234567890".repeat(20), about).ok).toBe(false);
    expect(checkPassword(`${"a".repeat(64)}${STRONG}`, about).ok).toBe(false);
  });

  it("invite acceptance refuses weak passwords (field error on `password`, link still usable) and accepts a strong one", async () => {
    const a = createCaller(ctxFor(u.adminA));
    const { token } = await a.invites.create({ email: "joiner@acc.example", role: "VIEWER" });
    const jar = { token: null as string | null };
    const anon = createCaller(ctxFor(null, jar));
    for (const password of ["joiner@acc.example", ...WEAK]) {
      const err = await rejects(anon.auth.acceptInvite({ token, name: "Jo Iner", password }));
      expect(err.code, password).toBe("BAD_REQUEST");
      expect(err.message).toMatch(/too easy to guess/);
      expect(err.cause).toBeInstanceOf(z.ZodError);
      expect((err.cause as z.ZodError).issues[0]?.path).toEqual(["password"]);
    }
    expect(await env.db.prisma.user.count({ where: { email: "joiner@acc.example" } })).toBe(0);
    const joined = await anon.auth.acceptInvite({ token, name: "Jo Iner", password: STRONG });
    expect(joined.user.role).toBe("VIEWER");
    expect(jar.token).toBeTruthy();
  });

  it("password change: needs the current password, checks the new one, ends every other session and keeps this one", async () => {
    const user = u.marketerA;
    const here = await createSession(env.db, user.id);
    const other1 = await createSession(env.db, user.id);
    const other2 = await createSession(env.db, user.id);
    const jar = { token: here.token as string | null };
    const me = createCaller(ctxFor(user, jar));

    const wrong = await rejects(
      me.auth.changePassword({ currentPassword: "not-my-password", newPassword: "x" + STRONG }),
    );
    expect(wrong.code).toBe("BAD_REQUEST");
    expect((wrong.cause as z.ZodError).issues[0]?.path).toEqual(["currentPassword"]);
    for (const weak of [user.email, ...WEAK]) {
      const err = await rejects(
        me.auth.changePassword({ currentPassword: STRONG, newPassword: weak }),
      );
      expect(err.code, weak).toBe("BAD_REQUEST");
      expect((err.cause as z.ZodError).issues[0]?.path).toEqual(["newPassword"]);
    }
    // Nothing changed so far: every session still works, the old password still signs in.
    expect(await userForSession(env.db, other1.token)).not.toBeNull();

    const NEW = "velvet harbour compass 42";
    expect(await me.auth.changePassword({ currentPassword: STRONG, newPassword: NEW })).toEqual({
      ok: true,
      otherSessionsEnded: 2,
    });
    expect(await userForSession(env.db, here.token)).toMatchObject({ id: user.id });
    expect(await userForSession(env.db, other1.token)).toBeNull();
    expect(await userForSession(env.db, other2.token)).toBeNull();
    expect(await canSignIn(user.email, STRONG)).toBe(false);
    expect(await canSignIn(user.email, NEW)).toBe(true);
    expect(
      await env.db.prisma.auditLog.count({
        where: { action: "user.password_change", targetId: user.id },
      }),
    ).toBe(1);
    // Anonymous callers cannot reach it.
    expect(
      (
        await rejects(
          createCaller(ctxFor(null)).auth.changePassword({
            currentPassword: NEW,
            newPassword: STRONG,
          }),
        )
      ).code,
    ).toBe("UNAUTHORIZED");
    await setPassword(user, STRONG);
  });

  it("admin reset link: stored hashed, one use, weak passwords refused without using it up, every session ends", async () => {
    const user = u.marketerA;
    const s1 = await createSession(env.db, user.id);
    const s2 = await createSession(env.db, user.id);
    const admin = createCaller(ctxFor(u.adminA));
    const link = await admin.users.resetLink({ id: user.id });
    expect(link.path).toBe(`/#/reset/${link.token}`);
    expect(link.email).toBe(user.email);
    const row = await env.db.prisma.passwordReset.findUniqueOrThrow({
      where: { tokenHash: sha256Hex(link.token) },
    });
    expect(JSON.stringify(row)).not.toContain(link.token);
    const hoursLeft = (row.expiresAt.getTime() - Date.now()) / 3600_000;
    expect(hoursLeft).toBeGreaterThan(23.9);
    expect(hoursLeft).toBeLessThanOrEqual(24);

    const jar = { token: null as string | null };
    const anon = createCaller(ctxFor(null, jar));
    expect(await anon.auth.resetInfo({ token: link.token })).toMatchObject({ email: user.email });
    for (const weak of [user.email, ...WEAK]) {
      const err = await rejects(anon.auth.resetPassword({ token: link.token, password: weak }));
      expect(err.code, weak).toBe("BAD_REQUEST");
    }
    expect(await userForSession(env.db, s1.token)).not.toBeNull();

    const NEW = "granite lantern meadow 9";
    const done = await anon.auth.resetPassword({ token: link.token, password: NEW });
    expect(done.user.id).toBe(user.id);
    expect(await userForSession(env.db, s1.token)).toBeNull();
    expect(await userForSession(env.db, s2.token)).toBeNull();
    // This browser is signed in with a fresh session.
    expect(await userForSession(env.db, jar.token)).toMatchObject({ id: user.id });
    expect(await canSignIn(user.email, NEW)).toBe(true);
    expect(await canSignIn(user.email, STRONG)).toBe(false);

    // Single use.
    expect((await rejects(anon.auth.resetInfo({ token: link.token }))).code).toBe("NOT_FOUND");
    expect(
      (await rejects(anon.auth.resetPassword({ token: link.token, password: STRONG }))).code,
    ).toBe("NOT_FOUND");
    expect(await canSignIn(user.email, NEW)).toBe(true);

    const actions = (
      await env.db.prisma.auditLog.findMany({
        where: { targetId: user.id, action: { in: ["user.reset_link", "user.password_reset"] } },
        select: { action: true, actorId: true, workspaceId: true },
        orderBy: { at: "asc" },
      })
    ).map((a) => [a.action, a.actorId, a.workspaceId]);
    expect(actions).toEqual([
      ["user.reset_link", u.adminA.id, u.adminA.workspaceId],
      ["user.password_reset", user.id, u.adminA.workspaceId],
    ]);
    await setPassword(user, STRONG);
  });

  it("reset links: scoped to the admin's workspace, admin-only, expire, and a newer link replaces an older one", async () => {
    const target = u.marketerA;
    const b = createCaller(ctxFor(u.adminB));
    expect((await rejects(b.users.resetLink({ id: target.id }))).code).toBe("NOT_FOUND");
    const marketer = createCaller(ctxFor(u.marketerA));
    expect((await rejects(marketer.users.resetLink({ id: u.adminA.id }))).code).toBe("FORBIDDEN");
    expect(await env.db.prisma.passwordReset.count({ where: { usedAt: null } })).toBe(0);

    const a = createCaller(ctxFor(u.adminA));
    const anon = createCaller(ctxFor(null));
    const older = await a.users.resetLink({ id: target.id });
    const newer = await a.users.resetLink({ id: target.id });
    expect((await rejects(anon.auth.resetInfo({ token: older.token }))).code).toBe("NOT_FOUND");
    expect(await anon.auth.resetInfo({ token: newer.token })).toMatchObject({
      email: target.email,
    });
    await env.db.prisma.passwordReset.updateMany({
      where: { tokenHash: sha256Hex(newer.token) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(
      (await rejects(anon.auth.resetPassword({ token: newer.token, password: "x" + STRONG }))).code,
    ).toBe("NOT_FOUND");
    expect(await canSignIn(target.email, STRONG)).toBe(true);
  });

  it("workspace creation: an instance owner (flag or INSTANCE_OWNER_EMAILS) creates one with an admin invite; others are refused", async () => {
    const notOwner = createCaller(ctxFor(u.adminA));
    expect(await notOwner.workspaces.canCreate()).toBe(false);
    expect(
      (await rejects(notOwner.workspaces.create({ name: "Nope", adminEmail: "n@acc.example" })))
        .code,
    ).toBe("FORBIDDEN");
    expect(await env.db.prisma.workspace.count({ where: { name: "Nope" } })).toBe(0);

    await env.db.prisma.user.update({ where: { id: u.adminA.id }, data: { instanceOwner: true } });
    const owner = createCaller(ctxFor(u.adminA));
    expect(await owner.workspaces.canCreate()).toBe(true);
    const made = await owner.workspaces.create({
      name: "Roastery North",
      adminEmail: "Boss@North.example",
    });
    expect(made.workspace).toMatchObject({ name: "Roastery North", slug: "roastery-north" });
    expect(made.path).toBe(`/#/invite/${made.token}`);
    const jar = { token: null as string | null };
    const anon = createCaller(ctxFor(null, jar));
    expect(await anon.auth.invite({ token: made.token })).toMatchObject({
      email: "boss@north.example",
      role: "ADMIN",
      workspace: "Roastery North",
    });
    const joined = await anon.auth.acceptInvite({
      token: made.token,
      name: "North Boss",
      password: STRONG,
    });
    const boss = await userForSession(env.db, jar.token);
    expect(boss).toMatchObject({ role: "ADMIN", workspaceId: made.workspace.id });
    expect(joined.user.role).toBe("ADMIN");
    expect(
      await env.db.prisma.auditLog.count({
        where: { workspaceId: made.workspace.id, action: "workspace.create" },
      }),
    ).toBe(1);
    // The new workspace's admin is not an owner; a second workspace with the same name gets its own slug.
    if (!boss) throw new Error("signed in");
    expect(
      (
        await rejects(
          createCaller(ctxFor(boss)).workspaces.create({ name: "X", adminEmail: "x@acc.example" }),
        )
      ).code,
    ).toBe("FORBIDDEN");
    const again = await owner.workspaces.create({
      name: "Roastery North",
      adminEmail: "other@north.example",
    });
    expect(again.workspace.slug).toMatch(/^roastery-north-[0-9a-f]{6}$/);
    expect(
      (await rejects(owner.workspaces.create({ name: "Dup", adminEmail: "Joiner@ACC.example" })))
        .code,
    ).toBe("CONFLICT");
    await env.db.prisma.user.update({ where: { id: u.adminA.id }, data: { instanceOwner: false } });

    // An owner by the environment.
    const byEnv = createCaller(
      ctxFor(
        u.adminB,
        { token: null },
        { allowSignup: false, instanceOwnerEmails: [u.adminB.email] },
      ),
    );
    expect(await byEnv.workspaces.canCreate()).toBe(true);
    expect(
      (await byEnv.workspaces.create({ name: "By env", adminEmail: "env@acc.example" })).workspace
        .name,
    ).toBe("By env");
  });

  it("sign-up is off by default; with ALLOW_SIGNUP it creates a workspace with its first admin (strong password only)", async () => {
    const input = {
      workspace: "Bean There",
      name: "Sam Signup",
      email: "sam@beanthere.example",
      password: STRONG,
    };
    const off = createCaller(ctxFor(null));
    expect(await off.auth.settings()).toEqual({ signUp: false });
    expect((await rejects(off.auth.signUp(input))).code).toBe("FORBIDDEN");
    expect(await env.db.prisma.user.count({ where: { email: input.email } })).toBe(0);

    const accounts = { allowSignup: true, instanceOwnerEmails: [] };
    const jar = { token: null as string | null };
    const on = createCaller(ctxFor(null, jar, accounts));
    expect(await on.auth.settings()).toEqual({ signUp: true });
    for (const password of [input.email, ...WEAK])
      expect((await rejects(on.auth.signUp({ ...input, password }))).code, password).toBe(
        "BAD_REQUEST",
      );
    const res = await on.auth.signUp(input);
    expect(res.user).toMatchObject({ email: input.email, role: "ADMIN" });
    const me = await userForSession(env.db, jar.token);
    const ws = await env.db.prisma.workspace.findUniqueOrThrow({
      where: { id: me?.workspaceId ?? "" },
    });
    expect(ws.name).toBe("Bean There");
    expect(ws.id).not.toBe(u.adminA.workspaceId);
    expect(
      (await rejects(on.auth.signUp({ ...input, email: "JOINER@acc.example", workspace: "Other" })))
        .code,
    ).toBe("CONFLICT");

    // One address cannot create workspaces without end: the 6th in a row waits.
    for (let i = 2; i <= 5; i++)
      await on.auth.signUp({ ...input, email: `sam${i}@beanthere.example` });
    const row = await env.db.prisma.loginThrottle.findUniqueOrThrow({
      where: { key: "signup:10.9.0.1" },
    });
    expect(row.failures).toBe(5);
    expect(row.lockedUntil).not.toBeNull();
    // (The first lock is 1 s; made longer here so the next call meets it however slow the machine.)
    await env.db.prisma.loginThrottle.update({
      where: { key: row.key },
      data: { lockedUntil: new Date(Date.now() + 3600_000) },
    });
    const throttled = await rejects(on.auth.signUp({ ...input, email: "sam6@beanthere.example" }));
    expect(throttled.code).toBe("TOO_MANY_REQUESTS");
    expect(await env.db.prisma.user.count({ where: { email: "sam6@beanthere.example" } })).toBe(0);
    await env.db.prisma.loginThrottle.deleteMany();
  });
});
