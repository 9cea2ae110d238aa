import { z } from "zod";
import { adminProcedure, router } from "../trpc.ts";
import { IdText } from "../zod.ts";

export const auditRouter = router({
  /** Newest first; `before` is the id of the last entry of the previous page. */
  list: adminProcedure
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(200).default(50),
          before: IdText("before").optional(),
        })
        .default({ limit: 50 }),
    )
    .query(async ({ ctx, input }) => {
      const cursor = input.before
        ? await ctx.db.prisma.auditLog.findFirst({
            where: { id: input.before, workspaceId: ctx.user.workspaceId },
            select: { at: true, id: true },
          })
        : null;
      const rows = await ctx.db.prisma.auditLog.findMany({
        where: {
          workspaceId: ctx.user.workspaceId,
          ...(cursor
            ? { OR: [{ at: { lt: cursor.at } }, { at: cursor.at, id: { lt: cursor.id } }] }
            : {}),
        },
        orderBy: [{ at: "desc" }, { id: "desc" }],
        take: input.limit,
        select: {
          id: true,
          at: true,
          action: true,
          targetType: true,
          targetId: true,
          detail: true,
          actorId: true,
        },
      });
      const actorIds = [...new Set(rows.map((r) => r.actorId).filter((x): x is string => !!x))];
      const actors = await ctx.db.prisma.user.findMany({
        where: { id: { in: actorIds }, workspaceId: ctx.user.workspaceId },
        select: { id: true, email: true, name: true },
      });
      const byId = new Map(actors.map((a) => [a.id, a]));
      return rows.map((r) => ({
        ...r,
        actor: r.actorId
          ? (byId.get(r.actorId) ?? { id: r.actorId, email: "(removed user)", name: "" })
          : null,
      }));
    }),
});
