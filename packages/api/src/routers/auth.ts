import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import {
  clearSignInFailures,
  createSession,
  deleteSession,
  hashPassword,
  recordSignInFailure,
  sha256Hex,
  throttleKeys,
  throttleWait,
  verifyPassword,
} from "../auth.ts";
import { publicProcedure, router } from "../trpc.ts";

// Verifying against this when the user does not exist keeps wrong-user and wrong-password
// indistinguishable by timing as well as by message.
const dummyHash = hashPassword("postpath-timing-equaliser");

const Email = z.email("Enter a valid email address").transform((e) => e.toLowerCase());
export const NewPassword = z
  .string()
  .min(10, "Use at least 10 characters")
  .max(200, "Use at most 200 characters");

function tooMany(waitMs: number): TRPCError {
  return new TRPCError({
    code: "TOO_MANY_REQUESTS",
    message: `Too many failed sign-ins. Try again in ${Math.ceil(waitMs / 1000)} s.`,
  });
}

export const authRouter = router({
  // Public by nature: it is how a session starts. Throttled per email and per IP.
  signIn: publicProcedure
    .input(z.object({ email: Email, password: z.string().min(1, "Enter your password").max(200) }))
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
    const ws = await ctx.db.prisma.workspace.findUniqueOrThrow({
      where: { id: ctx.user.workspaceId },
      select: { id: true, name: true },
    });
    return {
      id: ctx.user.id,
      email: ctx.user.email,
      name: ctx.user.name,
      role: ctx.user.role,
      workspace: ws,
    };
  }),

  /** What an invite link is for (public: the invitee has no session yet). */
  invite: publicProcedure
    .input(z.object({ token: z.string().min(10).max(200) }))
    .query(async ({ ctx, input }) => {
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
      if (!inv || inv.acceptedAt || inv.revokedAt || inv.expiresAt.getTime() <= Date.now()) {
        throw new TRPCError({
          code: "NOT_FOUND",
          message: "This invite link is invalid, used or expired. Ask an admin for a new one.",
        });
      }
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
        token: z.string().min(10).max(200),
        name: z.string().trim().min(1, "Enter your name").max(100),
        password: NewPassword,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const passwordHash = await hashPassword(input.password);
      const now = new Date();
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
        if (!inv)
          throw new TRPCError({
            code: "NOT_FOUND",
            message: "This invite link is invalid, used or expired. Ask an admin for a new one.",
          });
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
});
