// Journey analytics (issue 17). `experiments`: every random split of the journey's published
// versions — recipients, conversions, revenue per recipient per variant and the statistical
// verdict (fixed horizon; see @postpath/journey's experiments.ts for the rule the UI states).
import {
  ATTRIBUTION_RULE,
  AnalyticsSettings,
  forgetWorkspaceAnalytics,
  daysInRange,
  journeyDailyFigures,
  journeyExperiments,
  journeyStepFigures,
} from "@postpath/engine";
import type { Database } from "@postpath/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { adminProcedure, readerOf, router, viewerProcedure } from "../trpc.ts";
import { IdText, IsoDay } from "../zod.ts";

/** The longest range the per-day chart covers (a year, leap or not). */
export const MAX_RANGE_DAYS = 366;

const DailyInput = z
  .object({ journeyId: IdText("journeyId"), from: IsoDay("from"), to: IsoDay("to") })
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

/** issue 17, item 2: the purchase event and its properties; opens on or off. */
const Property = (what: string) =>
  z
    .string({ error: `${what}: type a name.` })
    .trim()
    .min(1, { error: `${what}: type a name.` })
    .max(200, { error: `${what}: keep it under 200 characters.` });
const SettingsInput = z.object({
  purchaseEvent: Property("Purchase event"),
  revenueProperty: Property("Revenue property"),
  orderIdProperty: Property("Order id property"),
  trackOpens: z.boolean({ error: "Track opens: choose on or off." }),
  /** Left out: the currency stays as it was (callers from before currencies keep working). */
  currency: z
    .string({ error: "Currency: choose one, such as EUR or USD." })
    .trim()
    .toUpperCase()
    .refine((c) => CURRENCIES.has(c), {
      error: (i) => `Currency: “${String(i.input)}” is not a currency code such as EUR or USD.`,
    })
    .optional(),
});
/** ISO 4217 codes this runtime can format (Node's ICU list). */
const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

/** The workspace's analytics settings (defaults where unset). */
export async function analyticsSettingsOf(ctx: { db: Database }, workspaceId: string) {
  const ws = await ctx.db.prisma.workspace.findUniqueOrThrow({
    where: { id: workspaceId },
    select: { settings: true },
  });
  const raw = (ws.settings as { analytics?: unknown } | null)?.analytics;
  const parsed = AnalyticsSettings.safeParse(raw ?? {});
  return parsed.success ? parsed.data : AnalyticsSettings.parse({});
}

export const analyticsRouter = router({
  /**
   * issue 17: the workspace's purchase event (and Segment's "Order Completed"), its revenue and
   * order-id properties, whether emails carry the open pixel, and the attribution rule in words.
   */
  settings: viewerProcedure.query(async ({ ctx }) => ({
    ...(await analyticsSettingsOf(ctx, ctx.user.workspaceId)),
    rule: ATTRIBUTION_RULE,
  })),
  updateSettings: adminProcedure.input(SettingsInput).mutation(async ({ ctx, input: given }) => {
    const input = {
      ...given,
      currency: given.currency ?? (await analyticsSettingsOf(ctx, ctx.user.workspaceId)).currency,
    };
    // One statement: other settings (limits, ...) written meanwhile are kept.
    await ctx.db.query(
      `UPDATE "Workspace" SET settings = jsonb_set(COALESCE(settings, '{}'::jsonb), '{analytics}', $2::jsonb)
       WHERE id = $1`,
      [ctx.user.workspaceId, JSON.stringify(input)],
    );
    forgetWorkspaceAnalytics(ctx.user.workspaceId);
    await recordAudit(
      ctx.db,
      ctx.user,
      "analytics.settings",
      { type: "Workspace", id: ctx.user.workspaceId },
      { ...input },
    );
    return { ...input, rule: ATTRIBUTION_RULE };
  }),

  /**
   * Per version and step: entered, waiting now, sent, failed, converted (the StepCounter rollups)
   * with the step's name as drawn; `all` adds every version up per step.
   */
  steps: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId"), versionId: IdText("versionId").optional() }))
    .query(async ({ ctx, input }) => {
      const found = await journeyStepFigures(
        readerOf(ctx), // issue 15: the replica when there is one
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
        /** issue 17: the attribution rule, for the page to show beside the figures. */
        rule: found.rule,
        /** The workspace's currency, for the revenue figures. */
        currency: (await analyticsSettingsOf(ctx, ctx.user.workspaceId)).currency,
      };
    }),
  /**
   * Per UTC day of [from, to], from the rollups: entries, sends, attributed conversions and their
   * revenue (ATTRIBUTION_RULE; each order id once).
   */
  daily: viewerProcedure.input(DailyInput).query(async ({ ctx, input }) => {
    const days = await journeyDailyFigures(readerOf(ctx), ctx.user.workspaceId, input.journeyId, {
      from: input.from,
      to: input.to,
    });
    if (!days) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
    return days;
  }),

  experiments: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId") }))
    .query(async ({ ctx, input }) => {
      // issue 17: the workspace's purchase event and properties (analytics.settings).
      const rule = await analyticsSettingsOf(ctx, ctx.user.workspaceId);
      const found = await journeyExperiments(readerOf(ctx), ctx.user.workspaceId, input.journeyId, {
        revenue: {
          event: rule.purchaseEvent,
          revenueProperty: rule.revenueProperty,
          orderIdProperty: rule.orderIdProperty,
        },
      });
      if (!found) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
      return found;
    }),
});
