import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { newToken } from "../auth.ts";
import { adminProcedure, router } from "../trpc.ts";
import { IdText } from "../zod.ts";

export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

const inviteSelect = {
  id: true,
  email: true,
  role: true,
  createdAt: true,
  expiresAt: true,
  acceptedAt: true,
  revokedAt: true,
} as const;

export const invitesRouter = router({
  list: adminProcedure.query(({ ctx }) =>
    ctx.db.prisma.invite.findMany({
      where: { workspaceId: ctx.user.workspaceId },
      select: inviteSelect,
      orderBy: { createdAt: "desc" },
      take: 200,
    }),
  ),

  /** Returns the invite link's token once (it is stored hashed); the web app shows `#/invite/<token>`. */
  create: adminProcedure
    .input(
      z.object({
        email: z.email("Enter a valid email address").transform((e) => e.toLowerCase()),
        role: z.enum(["ADMIN", "MARKETER", "VIEWER"]).default("MARKETER"),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (
        await ctx.db.prisma.user.findUnique({ where: { email: input.email }, select: { id: true } })
      ) {
        throw new TRPCError({
          code: "CONFLICT",
          message: "Someone already has an account with this email.",
        });
      }
      const { token, hash } = newToken("inv_");
      const invite = await ctx.db.prisma.invite.create({
        data: {
          workspaceId: ctx.user.workspaceId,
          email: input.email,
          role: input.role,
          tokenHash: hash,
          invitedById: ctx.user.id,
          expiresAt: new Date(Date.now() + INVITE_TTL_MS),
        },
        select: inviteSelect,
      });
      await recordAudit(
        ctx.db,
        ctx.user,
        "invite.create",
        { type: "Invite", id: invite.id },
        { email: input.email, role: input.role },
      );
      return { invite, token, path: `/#/invite/${token}` };
    }),

  revoke: adminProcedure.input(z.object({ id: IdText() })).mutation(async ({ ctx, input }) => {
    const res = await ctx.db.prisma.invite.updateMany({
      where: {
        id: input.id,
        workspaceId: ctx.user.workspaceId,
        acceptedAt: null,
        revokedAt: null,
      },
      data: { revokedAt: new Date() },
    });
    if (res.count === 0)
      throw new TRPCError({
        code: "NOT_FOUND",
        message: "No open invite with this id in this workspace.",
      });
    await recordAudit(ctx.db, ctx.user, "invite.revoke", { type: "Invite", id: input.id });
    return { ok: true };
  }),
});
