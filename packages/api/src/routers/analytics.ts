// Journey analytics (issue 17). `experiments`: every random split of the journey's published
// versions — recipients, conversions, revenue per recipient per variant and the statistical
// verdict (fixed horizon; see @postpath/journey's experiments.ts for the rule the UI states).
import {
  daysInRange,
  journeyDailyFigures,
  journeyExperiments,
  journeyStepFigures,
} from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { router, viewerProcedure } from "../trpc.ts";
import { IdText } from "../zod.ts";

/** The longest range the per-day chart covers (a year, leap or not). */
export const MAX_RANGE_DAYS = 366;

const Day = (field: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${field} must be a date written as YYYY-MM-DD`)
    .refine(
      (s) =>
        Number(s.slice(0, 4)) >= 1900 &&
        !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) &&
        new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
      {
        message: `${field} is not a date in the calendar`,
      },
    );

const DailyInput = z
  .object({ journeyId: IdText("journeyId"), from: Day("from"), to: Day("to") })
  .superRefine((v, ctx) => {
    const days = daysInRange(v.from, v.to);
    if (days < 1)
      ctx.addIssue({ code: "custom", path: ["to"], message: "to must be on or after from" });
    else if (days > MAX_RANGE_DAYS)
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: `Choose at most ${MAX_RANGE_DAYS} days: to is ${days - 1} days after from`,
      });
  });

export const analyticsRouter = router({
  /**
   * Per version and step: entered, waiting now, sent, failed, converted (the StepCounter rollups)
   * with the step's name as drawn; `all` adds every version up per step.
   */
  steps: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId"), versionId: IdText("versionId").optional() }))
    .query(async ({ ctx, input }) => {
      const found = await journeyStepFigures(
        ctx.db,
        ctx.user.workspaceId,
        input.journeyId,
        input.versionId,
      );
      if (!found)
        throw new TRPCError({
          code: "NOT_FOUND",
          message: input.versionId
            ? "This journey has no version with that id."
            : "No such journey.",
        });
      return {
        versions: found.versions.map((v) => ({ ...v, publishedAt: v.publishedAt.toISOString() })),
        all: found.all,
      };
    }),
  /**
   * Per UTC day of [from, to]: entries, sends, conversions and attributed revenue (orders of
   * converted runs' customers within 5 days after one of the run's messages, each order id once).
   */
  daily: viewerProcedure.input(DailyInput).query(async ({ ctx, input }) => {
    const days = await journeyDailyFigures(ctx.db, ctx.user.workspaceId, input.journeyId, {
      from: input.from,
      to: input.to,
    });
    if (!days) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
    return days;
  }),

  experiments: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId") }))
    .query(async ({ ctx, input }) => {
      const found = await journeyExperiments(ctx.db, ctx.user.workspaceId, input.journeyId);
      if (!found) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
      return found;
    }),
});
