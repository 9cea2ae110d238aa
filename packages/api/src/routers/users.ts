import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { forgetUserSessions, newToken } from "../auth.ts";
import { adminProcedure, router } from "../trpc.ts";
import { IdText } from "../zod.ts";

/** issue 12: how long an admin-made password reset link works. */
export const RESET_TTL_MS = 24 * 3600 * 1000;

const RoleInput = z.enum(["ADMIN", "MARKETER", "VIEWER"]);
const notFound = () =>
  new TRPCError({ code: "NOT_FOUND", message: "No such user in this workspace." });

export const usersRouter = router({
  list: adminProcedure.query(({ ctx }) =>
    ctx.db.prisma.user.findMany({
      where: { workspaceId: ctx.user.workspaceId },
      select: { id: true, email: true, name: true, role: true, createdAt: true },
      orderBy: { createdAt: "asc" },
    }),
  ),

  setRole: adminProcedure
    .input(z.object({ id: IdText(), role: RoleInput }))
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.db.prisma.user.findFirst({
        where: { id: input.id, workspaceId: ctx.user.workspaceId },
        select: { id: true, role: true },
      });
      if (!user) throw notFound();
      if (user.role === "ADMIN" && input.role !== "ADMIN") {
        const admins = await ctx.db.prisma.user.count({
          where: { workspaceId: ctx.user.workspaceId, role: "ADMIN" },
        });
        if (admins <= 1)
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: "A workspace needs at least one admin: make someone else admin first.",
          });
      }
      const updated = await ctx.db.prisma.user.update({
        where: { id: user.id },
        data: { role: input.role },
        select: { id: true, email: true, name: true, role: true, createdAt: true },
      });
      forgetUserSessions(user.id); // issue 15: the new role holds from their next request
      await recordAudit(
        ctx.db,
        ctx.user,
        "user.role",
        { type: "User", id: user.id },
        { from: user.role, to: input.role },
      );
      return updated;
    }),

  remove: adminProcedure.input(z.object({ id: IdText() })).mutation(async ({ ctx, input }) => {
    if (input.id === ctx.user.id)
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: "You cannot remove yourself; ask another admin.",
      });
    const user = await ctx.db.prisma.user.findFirst({
      where: { id: input.id, workspaceId: ctx.user.workspaceId },
      select: { id: true, email: true },
    });
    if (!user) throw notFound();
    await ctx.db.prisma.user.delete({ where: { id: user.id } }); // sessions cascade: signed out everywhere
    forgetUserSessions(user.id); // issue 15: and this process forgets its cached lookups
    await recordAudit(
      ctx.db,
      ctx.user,
      "user.remove",
      { type: "User", id: user.id },
      { email: user.email },
    );
    return { ok: true };
  }),

  /**
   * issue 12: a one-time link (shown once, valid 24 h) with which the user sets a new password;
   * using it ends all their sessions. A newer link replaces any unused older one.
   */
  resetLink: adminProcedure.input(z.object({ id: IdText() })).mutation(async ({ ctx, input }) => {
    const user = await ctx.db.prisma.user.findFirst({
      where: { id: input.id, workspaceId: ctx.user.workspaceId },
      select: { id: true, email: true },
    });
    if (!user) throw notFound();
    const { token, hash } = newToken("rst_");
    const expiresAt = new Date(Date.now() + RESET_TTL_MS);
    await ctx.db.prisma.$transaction(async (tx) => {
      await tx.passwordReset.deleteMany({ where: { userId: user.id, usedAt: null } });
      const reset = await tx.passwordReset.create({
        data: { userId: user.id, tokenHash: hash, createdById: ctx.user.id, expiresAt },
        select: { id: true },
      });
      await recordAudit(
        { prisma: tx },
        ctx.user,
        "user.reset_link",
        { type: "User", id: user.id },
        { email: user.email, resetId: reset.id },
      );
    });
    return { email: user.email, expiresAt, token, path: `/#/reset/${token}` };
  }),
});
