// Editing a live journey (issue 18): `preview` shows, before publishing the saved draft, where the
// customers already inside would go — per step of the live versions, counted now.
import { labelsOf, migrationPreview } from "@postpath/engine";
import { compile } from "@postpath/journey";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { router, viewerProcedure } from "../trpc.ts";
import { IdText } from "../zod.ts";

const Choices = z.object({
  mode: z.enum(["keep", "move"], {
    error: "Choose whether customers stay on their version or move.",
  }),
  /** Per deleted step: a step id of the new version, or null to let its customers leave. */
  deletedSteps: z.record(IdText("deletedSteps"), IdText("deletedSteps").nullable()).default({}),
  changedWaits: z.enum(["keepDueTime", "fromStart"]).default("keepDueTime"),
});

export const migrationRouter = router({
  preview: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId"), choices: Choices }))
    .query(async ({ ctx, input }) => {
      const j = await ctx.db.prisma.journey.findFirst({
        where: { id: input.journeyId, workspaceId: ctx.user.workspaceId },
        select: { id: true, draft: true },
      });
      if (!j) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
      const compiled = compile(j.draft);
      if (!compiled.ok)
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: "The draft has errors to fix before it can be published.",
        });
      return migrationPreview(
        ctx.db,
        j.id,
        { plan: compiled.plan, labels: labelsOf(j.draft) },
        input.choices,
      );
    }),
});
