import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { apiKeyRevoked, newToken } from "../auth.ts";
import { adminProcedure, router } from "../trpc.ts";
import { IdText, Text } from "../zod.ts";

const keySelect = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
  rateLimitPerMinute: true,
} as const;

export const apiKeysRouter = router({
  list: adminProcedure.query(({ ctx }) =>
    ctx.db.prisma.apiKey.findMany({
      where: { workspaceId: ctx.user.workspaceId },
      select: keySelect,
      orderBy: { createdAt: "desc" },
    }),
  ),

  /** The full key is returned here once; only its sha256 and first characters are stored. */
  create: adminProcedure
    .input(
      z.object({
        name: Text.trim().min(1, "Name the key (e.g. the system that uses it)").max(100),
        rateLimitPerMinute: z.number().int().min(1).max(1_000_000).default(6000),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { token, hash } = newToken("pp_");
      const key = await ctx.db.prisma.apiKey.create({
        data: {
          workspaceId: ctx.user.workspaceId,
          name: input.name,
          prefix: token.slice(0, 8),
          keyHash: hash,
          rateLimitPerMinute: input.rateLimitPerMinute,
        },
        select: keySelect,
      });
      await recordAudit(
        ctx.db,
        ctx.user,
        "apiKey.create",
        { type: "ApiKey", id: key.id },
        { name: key.name },
      );
      return { key, secret: token };
    }),

  setRateLimit: adminProcedure
    .input(
      z.object({
        id: IdText(),
        rateLimitPerMinute: z.number().int().min(1).max(1_000_000),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const res = await ctx.db.prisma.apiKey.updateMany({
        where: { id: input.id, workspaceId: ctx.user.workspaceId },
        data: { rateLimitPerMinute: input.rateLimitPerMinute },
      });
      if (res.count === 0)
        throw new TRPCError({ code: "NOT_FOUND", message: "No such API key in this workspace." });
      await recordAudit(
        ctx.db,
        ctx.user,
        "apiKey.update",
        { type: "ApiKey", id: input.id },
        { rateLimitPerMinute: input.rateLimitPerMinute },
      );
      return { ok: true };
    }),

  revoke: adminProcedure.input(z.object({ id: IdText() })).mutation(async ({ ctx, input }) => {
    const res = await ctx.db.prisma.apiKey.updateMany({
      where: { id: input.id, workspaceId: ctx.user.workspaceId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (res.count === 0)
      throw new TRPCError({
        code: "NOT_FOUND",
        message: "No active API key with this id in this workspace.",
      });
    apiKeyRevoked(input.id); // issue 15: refused at once here (other processes within a second)
    await recordAudit(ctx.db, ctx.user, "apiKey.revoke", { type: "ApiKey", id: input.id });
    return { ok: true };
  }),
});
