// issue 12, finding 5: no token in a logged URL, and none stored in the clear. Lookups by a link
// token are mutations (POST bodies, never query strings); session, invite and reset-link tokens
// are stored as their SHA-256 only. (apps/server's issue-012-token-logs test reads the log.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { hashPassword, sha256Hex } from "../auth.ts";
import { appRouter, createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";
import type { ApiContext, SessionUser } from "../trpc.ts";

type Def = { _def: { type: string; inputs: unknown[] } };
const procedures = Object.entries(
  (appRouter as unknown as { _def: { procedures: Record<string, Def> } })._def.procedures,
);

describe("issue 12: tokens never travel in a URL and are stored hashed", () => {
  let env: ApiTestEnv<"admin">;
  let admin: SessionUser;

  beforeAll(async () => {
    env = await openApiTestEnv([["admin", "tok-a", "ADMIN"]] as const);
    admin = env.users.admin;
    await env.db.prisma.user.update({
      where: { id: admin.id },
      data: { passwordHash: await hashPassword("tangerine quiver orbit 81") },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("every procedure that takes a token is a mutation (GET queries put their input in the URL)", () => {
    const withToken = procedures.filter(([, p]) =>
      p._def.inputs.some((s) => s instanceof z.ZodObject && "token" in s.shape),
    );
    expect(withToken.map(([path]) => path).sort()).toEqual(
      expect.arrayContaining(["auth.acceptInvite", "auth.invite", "auth.resetInfo"]),
    );
    for (const [path, p] of withToken) expect(p._def.type, path).toBe("mutation");
  });

  it("session, invite and reset-link rows hold only the SHA-256 of their token", async () => {
    const jar: { token: string | null } = { token: null };
    const ctx = (user: SessionUser | null): ApiContext => ({
      ...env.ctxFor(user),
      session: {
        get token() {
          return jar.token;
        },
        set: (t) => void (jar.token = t),
        clear: () => void (jar.token = null),
      },
    });
    await createCaller(ctx(null)).auth.signIn({
      email: admin.email,
      password: "tangerine quiver orbit 81",
    });
    const sessionToken = jar.token ?? "";
    expect(sessionToken.length).toBeGreaterThan(30);
    const a = createCaller(ctx(admin));
    const invite = await a.invites.create({ email: "someone@tok.example", role: "ADMIN" });
    const reset = await a.users.resetLink({ id: admin.id });

    const rows = {
      sessions: await env.db.prisma.session.findMany(),
      invites: await env.db.prisma.invite.findMany(),
      resets: await env.db.prisma.passwordReset.findMany(),
    };
    const stored = JSON.stringify(rows);
    for (const token of [sessionToken, invite.token, reset.token]) {
      expect(stored).not.toContain(token);
      expect(stored).toContain(sha256Hex(token));
    }
    expect(rows.sessions.map((s) => s.tokenHash)).toContain(sha256Hex(sessionToken));
    expect(rows.invites[0]?.tokenHash).toBe(sha256Hex(invite.token));
    expect(rows.resets[0]?.tokenHash).toBe(sha256Hex(reset.token));
    // Nor does the audit log.
    const audit = JSON.stringify(await env.db.prisma.auditLog.findMany());
    for (const token of [sessionToken, invite.token, reset.token])
      expect(audit).not.toContain(token);
  });
});
