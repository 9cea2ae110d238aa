// Journey analytics (issue 17). `experiments`: every random split of the journey's published
// versions — recipients, conversions, revenue per recipient per variant and the statistical
// verdict (fixed horizon; see @postpath/journey's experiments.ts for the rule the UI states).
import { journeyExperiments } from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { router, viewerProcedure } from "../trpc.ts";
import { IdText } from "../zod.ts";

export const analyticsRouter = router({
  experiments: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId") }))
    .query(async ({ ctx, input }) => {
      const found = await journeyExperiments(ctx.db, ctx.user.workspaceId, input.journeyId);
      if (!found) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
      return found;
    }),
});
