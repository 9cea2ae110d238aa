import { FrequencyCap, QuietHours } from "@postpath/journey";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { adminProcedure, router, viewerProcedure } from "../trpc.ts";

/** Workspace-wide sending limits, stored in Workspace.settings.limits. */
export const SendingLimits = z.object({
  quietHours: QuietHours.nullable().default(null),
  frequencyCap: FrequencyCap.nullable().default(null),
  /** Messages per minute across the whole workspace, all provider channels together (null:
   * unlimited). Enforced at send time by the engine; messages over it wait for the next minute. */
  maxPerMinute: z.number().int().positive().max(1_000_000).nullable().default(null),
});
export type SendingLimits = z.infer<typeof SendingLimits>;

function limitsOf(settings: unknown): SendingLimits {
  const raw =
    settings && typeof settings === "object"
      ? (settings as { limits?: unknown }).limits
      : undefined;
  const parsed = SendingLimits.safeParse(raw ?? {});
  return parsed.success ? parsed.data : SendingLimits.parse({});
}

export const limitsRouter = router({
  get: viewerProcedure.query(async ({ ctx }) => {
    const ws = await ctx.db.prisma.workspace.findUniqueOrThrow({
      where: { id: ctx.user.workspaceId },
      select: { settings: true },
    });
    return limitsOf(ws.settings);
  }),

  update: adminProcedure.input(SendingLimits).mutation(async ({ ctx, input }) => {
    await ctx.db.prisma.$transaction(async (tx) => {
      const ws = await tx.workspace.findUniqueOrThrow({
        where: { id: ctx.user.workspaceId },
        select: { settings: true },
      });
      const settings = {
        ...(ws.settings && typeof ws.settings === "object"
          ? (ws.settings as Record<string, unknown>)
          : {}),
        limits: input,
      };
      await tx.workspace.update({ where: { id: ctx.user.workspaceId }, data: { settings } });
    });
    await recordAudit(
      ctx.db,
      ctx.user,
      "limits.update",
      { type: "Workspace", id: ctx.user.workspaceId },
      {
        quietHours: input.quietHours ? `${input.quietHours.start}-${input.quietHours.end}` : null,
        frequencyCap: input.frequencyCap ? input.frequencyCap.max : null,
        maxPerMinute: input.maxPerMinute,
      },
    );
    return input;
  }),
});
