// Workspace KPIs (issue 17, item 6): the dashboard's figures over a range of days, read from the
// replica when there is one (read-only figures). The rules behind each figure are answered with
// them, so the page states them where the figures are shown.
import { daysInRange, workspaceKpis } from "@postpath/engine";
import { z } from "zod";
import { readerOf, router, viewerProcedure } from "../trpc.ts";
import { IsoDay } from "../zod.ts";
import { analyticsSettingsOf } from "./analytics.ts";

/** The longest range the dashboard covers: two years. */
export const MAX_KPI_DAYS = 731;

export const KPI_DEFINITIONS = {
  orders:
    "Orders placed in the range, each order id counted once (the purchase event and its revenue and order id properties are set in the workspace's settings).",
  averageOrderValue: "Revenue of the range's orders divided by their number.",
  repeatPurchaseRate:
    "Of the customers who ordered in the range, the share with two or more orders in all (orders before the range count).",
  secondPurchase:
    "Customers whose second order was placed in the range: days from their first order to the second.",
  influenced:
    "Orders credited to a journey: the order that converted a journey run within its attribution window (5 days after a message unless the journey says otherwise). Every other order is not influenced.",
} as const;

const Range = z.object({ from: IsoDay("from"), to: IsoDay("to") }).superRefine((v, ctx) => {
  const days = daysInRange(v.from, v.to);
  if (days < 1)
    ctx.addIssue({ code: "custom", path: ["to"], message: "to must be on or after from" });
  else if (days > MAX_KPI_DAYS)
    ctx.addIssue({
      code: "custom",
      path: ["to"],
      message: `Choose at most ${MAX_KPI_DAYS} days: to is ${days - 1} days after from`,
    });
});

export const kpisRouter = router({
  workspace: viewerProcedure.input(Range).query(async ({ ctx, input }) => ({
    ...(await workspaceKpis(readerOf(ctx), ctx.user.workspaceId, input)),
    definitions: KPI_DEFINITIONS,
    /** The workspace's currency, for the revenue figures. */
    currency: (await analyticsSettingsOf(ctx, ctx.user.workspaceId)).currency,
  })),
});
