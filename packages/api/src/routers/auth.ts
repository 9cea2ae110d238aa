import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import {
  clearSignInFailures,
  createSession,
  deleteSession,
  endSessions,
  forgetUserSessions,
  hashPassword,
  recordSignInFailure,
  sha256Hex,
  throttleKeys,
  throttleWait,
  verifyPassword,
} from "../auth.ts";
import { assertStrongPassword, fieldError, NewPassword } from "../password.ts";
import { publicProcedure, router, viewerProcedure, type ApiContext } from "../trpc.ts";
import { Text } from "../zod.ts";
import { createWorkspaceRow, WorkspaceName } from "./workspaces.ts";

// Verifying against this when the user does not exist keeps wrong-user and wrong-password
// indistinguishable by timing as well as by message.
const dummyHash = hashPassword("postpath-timing-equaliser");

const Email = z.email("Enter a valid email address").transform((e) => e.toLowerCase());
// Link tokens travel in the URL fragment (never sent to the server) and reach the API only in
// POST bodies: lookups by token are mutations, so no token is in a request line or a log.
const LinkToken = Text.min(10).max(200);

const invalidInvite = () =>
  new TRPCError({
    code: "NOT_FOUND",
    message: "This invite link is invalid, used or expired. Ask an admin for a new one.",
  });
const invalidReset = () =>
  new TRPCError({
    code: "NOT_FOUND",
    message: "This password reset link is invalid, used or expired. Ask an admin for a new one.",
  });

function tooMany(waitMs: number): TRPCError {
  return new TRPCError({
    code: "TOO_MANY_REQUESTS",
    message: `Too many failed sign-ins. Try again in ${Math.ceil(waitMs / 1000)} s.`,
  });
}

export const authRouter = router({
  // Public by nature: it is how a session starts. Throttled per email and per IP.
  signIn: publicProcedure
    .input(z.object({ email: Email, password: Text.min(1, "Enter your password").max(200) }))
    .mutation(async ({ ctx, input }) => {
      const keys = throttleKeys(input.email, ctx.ip);
      const wait = await throttleWait(ctx.db, keys);
      if (wait > 0) throw tooMany(wait);
      const user = await ctx.db.prisma.user.findUnique({
        where: { email: input.email },
        select: { id: true, email: true, name: true, role: true, passwordHash: true },
      });
      const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), input.password);
      if (!user || !user.passwordHash || !ok) {
        await recordSignInFailure(ctx.db, keys);
        throw new TRPCError({ code: "UNAUTHORIZED", message: "Email or password is incorrect." });
      }
      await clearSignInFailures(ctx.db, input.email);
      const session = await createSession(ctx.db, user.id);
      ctx.session.set(session.token, session.expiresAt);
      return { user: { id: user.id, email: user.email, name: user.name, role: user.role } };
    }),

  signOut: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.session.token) await deleteSession(ctx.db, ctx.session.token);
    ctx.session.clear();
    return { ok: true };
  }),

  me: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.user) return null;
    // issue 15: through the driver, prepared (every editor load asks for it beside the journey).
    const [ws] = await ctx.db.query<{ id: string; name: string }>(
      `SELECT id, name FROM "Workspace" WHERE id = $1`,
      [ctx.user.workspaceId],
      { prepare: "auth.me.workspace" },
    );
    if (!ws) throw new Error("auth.me: the session's workspace is missing");
    return {
      id: ctx.user.id,
      email: ctx.user.email,
      name: ctx.user.name,
      role: ctx.user.role,
      workspace: ws,
    };
  }),

  /** issue 12: what the signed-out pages may offer. */
  settings: publicProcedure.query(({ ctx }) => ({
    signUp: ctx.accounts?.allowSignup ?? false,
  })),

  /**
   * What an invite link is for (public: the invitee has no session yet). A mutation, so the
   * token travels in a POST body, never in a logged URL (issue 12); it changes nothing.
   */
  invite: publicProcedure.input(z.object({ token: LinkToken })).mutation(async ({ ctx, input }) => {
    const inv = await ctx.db.prisma.invite.findUnique({
      where: { tokenHash: sha256Hex(input.token) },
      select: {
        email: true,
        role: true,
        expiresAt: true,
        acceptedAt: true,
        revokedAt: true,
        workspace: { select: { name: true } },
      },
    });
    if (!inv || inv.acceptedAt || inv.revokedAt || inv.expiresAt.getTime() <= Date.now())
      throw invalidInvite();
    return {
      email: inv.email,
      role: inv.role,
      workspace: inv.workspace.name,
      expiresAt: inv.expiresAt,
    };
  }),

  /** Accepts an invite: creates the user with a password and signs them in. Single use. */
  acceptInvite: publicProcedure
    .input(
      z.object({
        token: LinkToken,
        name: Text.trim().min(1, "Enter your name").max(100),
        password: NewPassword,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const now = new Date();
      // Checked before the invite is claimed, so a refused password does not use up the link.
      const open = await ctx.db.prisma.invite.findFirst({
        where: {
          tokenHash: sha256Hex(input.token),
          acceptedAt: null,
          revokedAt: null,
          expiresAt: { gt: now },
        },
        select: { email: true },
      });
      if (!open) throw invalidInvite();
      assertStrongPassword(input.password, { email: open.email, name: input.name });
      const passwordHash = await hashPassword(input.password);
      const user = await ctx.db.prisma.$transaction(async (tx) => {
        // Claim the invite atomically: a second accept (or a race) finds nothing to claim.
        const claimed = await tx.invite.updateManyAndReturn({
          where: {
            tokenHash: sha256Hex(input.token),
            acceptedAt: null,
            revokedAt: null,
            expiresAt: { gt: now },
          },
          data: { acceptedAt: now },
          select: { id: true, workspaceId: true, email: true, role: true, invitedById: true },
        });
        const inv = claimed[0];
        if (!inv) throw invalidInvite();
        if (await tx.user.findUnique({ where: { email: inv.email }, select: { id: true } })) {
          throw new TRPCError({
            code: "CONFLICT",
            message: "An account with this email already exists. Sign in instead.",
          });
        }
        const u = await tx.user.create({
          data: {
            workspaceId: inv.workspaceId,
            email: inv.email,
            name: input.name,
            role: inv.role,
            passwordHash,
          },
          select: { id: true, email: true, name: true, role: true, workspaceId: true },
        });
        await recordAudit(
          { prisma: tx },
          { id: u.id, workspaceId: u.workspaceId },
          "user.join",
          { type: "User", id: u.id },
          { role: u.role, inviteId: inv.id },
        );
        return u;
      });
      const session = await createSession(ctx.db, user.id);
      ctx.session.set(session.token, session.expiresAt);
      return { user: { id: user.id, email: user.email, name: user.name, role: user.role } };
    }),

  // --- issue 12: password change, reset links, sign-up ----------------------------------------

  /** Changes the caller's password: the current one is required, every other session ends. */
  changePassword: viewerProcedure
    .input(
      z.object({
        currentPassword: Text.min(1, "Enter your current password").max(200),
        newPassword: NewPassword,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      // A wrong current password counts like a failed sign-in: a borrowed session cannot guess it.
      const keys = throttleKeys(ctx.user.email, ctx.ip);
      const wait = await throttleWait(ctx.db, keys);
      if (wait > 0) throw tooMany(wait);
      const row = await ctx.db.prisma.user.findUniqueOrThrow({
        where: { id: ctx.user.id },
        select: { passwordHash: true },
      });
      if (!row.passwordHash || !(await verifyPassword(row.passwordHash, input.currentPassword))) {
        await recordSignInFailure(ctx.db, keys);
        throw fieldError("currentPassword", "Your current password is not right.");
      }
      await clearSignInFailures(ctx.db, ctx.user.email);
      assertStrongPassword(
        input.newPassword,
        { email: ctx.user.email, name: ctx.user.name },
        "newPassword",
      );
      const passwordHash = await hashPassword(input.newPassword);
      const ended = await ctx.db.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: ctx.user.id }, data: { passwordHash } });
        const n = await endSessions({ prisma: tx }, ctx.user.id, ctx.session.token);
        await recordAudit(
          { prisma: tx },
          ctx.user,
          "user.password_change",
          { type: "User", id: ctx.user.id },
          { otherSessionsEnded: n },
        );
        return n;
      });
      forgetUserSessions(ctx.user.id); // issue 15: lookups made before the commit are not kept
      return { ok: true, otherSessionsEnded: ended };
    }),

  /** Whose password a reset link sets (a mutation for the same reason as `invite`). */
  resetInfo: publicProcedure
    .input(z.object({ token: LinkToken }))
    .mutation(async ({ ctx, input }) => {
      const reset = await openReset(ctx.db, input.token);
      if (!reset) throw invalidReset();
      return { email: reset.user.email, name: reset.user.name, expiresAt: reset.expiresAt };
    }),

  /** Sets a new password through a reset link (single use): every session of the user ends, then this browser is signed in. */
  resetPassword: publicProcedure
    .input(z.object({ token: LinkToken, password: NewPassword }))
    .mutation(async ({ ctx, input }) => {
      const reset = await openReset(ctx.db, input.token);
      if (!reset) throw invalidReset();
      assertStrongPassword(input.password, reset.user);
      const passwordHash = await hashPassword(input.password);
      const now = new Date();
      const user = await ctx.db.prisma.$transaction(async (tx) => {
        const claimed = await tx.passwordReset.updateMany({
          where: { id: reset.id, usedAt: null, expiresAt: { gt: now } },
          data: { usedAt: now },
        });
        if (claimed.count === 0) throw invalidReset();
        const u = await tx.user.update({
          where: { id: reset.user.id },
          data: { passwordHash },
          select: { id: true, email: true, name: true, role: true, workspaceId: true },
        });
        const ended = await endSessions({ prisma: tx }, u.id);
        await recordAudit(
          { prisma: tx },
          u,
          "user.password_reset",
          { type: "User", id: u.id },
          { resetId: reset.id, sessionsEnded: ended },
        );
        return u;
      });
      forgetUserSessions(user.id); // issue 15: lookups made before the commit are not kept
      await clearSignInFailures(ctx.db, user.email);
      const session = await createSession(ctx.db, user.id);
      ctx.session.set(session.token, session.expiresAt);
      return { user: { id: user.id, email: user.email, name: user.name, role: user.role } };
    }),

  /** With ALLOW_SIGNUP: creates a workspace with the caller as its first admin, and signs them in. */
  signUp: publicProcedure
    .input(
      z.object({
        workspace: WorkspaceName,
        name: Text.trim().min(1, "Enter your name").max(100),
        email: Email,
        password: NewPassword,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (!ctx.accounts?.allowSignup)
        throw new TRPCError({
          code: "FORBIDDEN",
          message: "Sign-up is turned off here. Ask an admin of your workspace for an invite.",
        });
      // Workspaces made from one address count like failed sign-ins: from the 5th within an
      // hour, that address waits (1 s, doubling, up to 15 min) before it may make another.
      const keys = ctx.ip ? [`signup:${ctx.ip}`] : [];
      const wait = await throttleWait(ctx.db, keys);
      if (wait > 0)
        throw new TRPCError({
          code: "TOO_MANY_REQUESTS",
          message: `Many workspaces were just created from your network. Try again in ${Math.ceil(wait / 1000)} s.`,
        });
      assertStrongPassword(input.password, { email: input.email, name: input.name });
      const passwordHash = await hashPassword(input.password);
      const taken = () =>
        new TRPCError({
          code: "CONFLICT",
          message: "An account with this email already exists. Sign in instead.",
        });
      const user = await ctx.db.prisma
        .$transaction(async (tx) => {
          if (await tx.user.findUnique({ where: { email: input.email }, select: { id: true } }))
            throw taken();
          const ws = await createWorkspaceRow(tx, input.workspace);
          const u = await tx.user.create({
            data: {
              workspaceId: ws.id,
              email: input.email,
              name: input.name,
              role: "ADMIN",
              passwordHash,
            },
            select: { id: true, email: true, name: true, role: true, workspaceId: true },
          });
          await recordAudit({ prisma: tx }, u, "workspace.signup", {
            type: "Workspace",
            id: ws.id,
          });
          return u;
        })
        .catch((err: unknown) => {
          // Two sign-ups with one email at once: the unique index decides, the loser hears why.
          if ((err as { code?: unknown }).code === "P2002") throw taken();
          throw err;
        });
      await recordSignInFailure(ctx.db, keys);
      const session = await createSession(ctx.db, user.id);
      ctx.session.set(session.token, session.expiresAt);
      return { user: { id: user.id, email: user.email, name: user.name, role: user.role } };
    }),
});

/** An unused, unexpired reset link and its user. */
function openReset(db: ApiContext["db"], token: string) {
  return db.prisma.passwordReset.findFirst({
    where: { tokenHash: sha256Hex(token), usedAt: null, expiresAt: { gt: new Date() } },
    select: { id: true, expiresAt: true, user: { select: { id: true, email: true, name: true } } },
  });
}
