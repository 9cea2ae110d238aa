// issue 15 (API reads): the HTTP server's per-request session lookup is cached in-process for
// SESSION_CACHE_MS. What must not lag: signing out, a role change, removing a user, a password
// change (other sessions end), and a session's own expiry.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cachedUserForSession,
  createSession,
  hashPassword,
  SESSION_CACHE_MS,
  SESSION_TTL_MS,
} from "../auth.ts";
import { createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";
import type { ApiContext, SessionUser } from "../trpc.ts";

describe("issue 15: cached session lookups", () => {
  let env: ApiTestEnv<"admin" | "other" | "gone">;
  beforeAll(async () => {
    env = await openApiTestEnv([
      ["admin", "ws-cache", "ADMIN"],
      ["other", "ws-cache", "MARKETER"],
      ["gone", "ws-cache", "VIEWER"],
    ]);
  });
  afterAll(() => env.close());

  const ctxWith = (user: SessionUser, token: string | null): ApiContext => ({
    ...env.ctxFor(user),
    session: { token, set: () => undefined, clear: () => undefined },
  });

  it("answers from the cache: a session deleted behind its back still works until it expires", async () => {
    const s = await createSession(env.db, env.users.other.id);
    expect(await cachedUserForSession(env.db, s.token)).toMatchObject({ role: "MARKETER" });
    // Deleted directly in the database (as another server process would): this process keeps the
    // lookup for at most SESSION_CACHE_MS.
    await env.db.prisma.session.deleteMany({ where: { userId: env.users.other.id } });
    const now = Date.now();
    expect(await cachedUserForSession(env.db, s.token, now)).not.toBeNull();
    expect(await cachedUserForSession(env.db, s.token, now + SESSION_CACHE_MS + 1)).toBeNull();
  });

  it("a role change holds from the next request", async () => {
    const s = await createSession(env.db, env.users.other.id);
    expect(await cachedUserForSession(env.db, s.token)).toMatchObject({ role: "MARKETER" });
    const admin = createCaller(ctxWith(env.users.admin, null));
    await admin.users.setRole({ id: env.users.other.id, role: "VIEWER" });
    expect(await cachedUserForSession(env.db, s.token)).toMatchObject({ role: "VIEWER" });
  });

  it("signing out, a password change and removing a user end cached sessions at once", async () => {
    const mine = await createSession(env.db, env.users.admin.id);
    const elsewhere = await createSession(env.db, env.users.admin.id);
    const goner = await createSession(env.db, env.users.gone.id);
    for (const s of [mine, elsewhere, goner])
      expect(await cachedUserForSession(env.db, s.token)).not.toBeNull();

    await createCaller(ctxWith(env.users.admin, elsewhere.token)).auth.signOut();
    expect(await cachedUserForSession(env.db, elsewhere.token)).toBeNull();
    expect(await cachedUserForSession(env.db, mine.token)).not.toBeNull();

    await createCaller(ctxWith(env.users.admin, mine.token)).users.remove({
      id: env.users.gone.id,
    });
    expect(await cachedUserForSession(env.db, goner.token)).toBeNull();

    const third = await createSession(env.db, env.users.admin.id);
    expect(await cachedUserForSession(env.db, third.token)).not.toBeNull();
    await env.db.prisma.user.update({
      where: { id: env.users.admin.id },
      data: { passwordHash: await hashPassword("old pass 1") },
    });
    await createCaller(ctxWith(env.users.admin, mine.token)).auth.changePassword({
      currentPassword: "old pass 1",
      newPassword: "velvet harbour compass 42",
    });
    expect(await cachedUserForSession(env.db, third.token)).toBeNull();
    expect(await cachedUserForSession(env.db, mine.token)).toMatchObject({
      id: env.users.admin.id,
    });
  });

  it("a cached session still ends at its own expiry", async () => {
    const t0 = Date.now();
    const s = await createSession(env.db, env.users.admin.id, t0 - SESSION_TTL_MS + 1_000);
    expect(await cachedUserForSession(env.db, s.token, t0)).not.toBeNull();
    expect(await cachedUserForSession(env.db, s.token, t0 + 1_500)).toBeNull();
    expect(await cachedUserForSession(env.db, null)).toBeNull();
  });
});
