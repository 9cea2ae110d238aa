// Trigger: the customer enters a segment. Two forms: inline conditions on the customer's
// attributes (the engine checks them when attributes change), or a saved segment (issue 16) —
// the engine starts a run when a customer enters it, or, with `on: "leave"`, leaves it. Entry
// rules decide whether they may enter again.
import { z } from "zod";
import { Condition, MatchMode } from "../conditions.ts";
import { isMembershipCondition, unknownSegmentIssue } from "../membership.ts";
import { matchesCustomer } from "../templating.ts";
import { type CheckIssue, NEXT_ONLY, defineStep } from "./module.ts";

export const TriggerSegmentConfig = z
  .object({
    /** issue 16: a saved segment's id (its entry or exit starts the run); conditions then unused. */
    segmentId: z.string().trim().max(100).optional(),
    on: z.enum(["enter", "leave"]).default("enter"),
    /** Conditions on the customer: attribute names (`total_spent`) or `customer.tags`, `customer.email`. */
    conditions: z.array(Condition).default([]),
    match: MatchMode.default("all"),
  })
  .superRefine((c, ctx) => {
    if (!c.segmentId && c.conditions.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["conditions"],
        message: "Add at least one condition that defines the segment, or choose a saved segment.",
      });
  });
export type TriggerSegmentConfig = z.infer<typeof TriggerSegmentConfig>;

export default defineStep<TriggerSegmentConfig>({
  type: "trigger.segment",
  family: "trigger",
  label: "Segment entry",
  schema: TriggerSegmentConfig,
  defaults: { conditions: [], match: "all", on: "enter" },
  branches: () => NEXT_ONLY,
  check: (c, ctx) => {
    const issues: CheckIssue[] = unknownSegmentIssue(c.segmentId, "segmentId", ctx.catalog);
    // Conditions are checked when attributes change, without memberships: a saved segment's entry
    // is the way to start from a segment or a lifecycle stage.
    if (!c.segmentId)
      c.conditions.forEach((cond, i) => {
        if (isMembershipCondition(cond))
          issues.push({
            code: "trigger.membership_condition",
            field: `conditions.${i}.property`,
            message:
              'To start when customers enter a segment or a lifecycle stage, choose "Saved segment" instead.',
          });
      });
    return issues;
  },
  triggerInfo: () => ({ type: "trigger.segment", event: null, properties: [] }),
  // A saved segment's entries and exits are the engine's (segments.ts), never an attribute check.
  matches: (c, _event, customer) =>
    !c.segmentId && matchesCustomer(c.conditions, c.match, customer),
  enter: () => ({
    kind: "go",
    branch: "next",
    decision: "entered",
    detail: { trigger: "segment" },
  }),
});
