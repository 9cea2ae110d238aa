// Trigger: the customer enters a segment (their attributes meet the conditions). The engine checks
// it when a customer's attributes change; entry rules decide whether they may enter again.
import { z } from "zod";
import { Condition, MatchMode } from "../conditions.ts";
import { matchesCustomer } from "../templating.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const TriggerSegmentConfig = z.object({
  /** Conditions on the customer: attribute names (`total_spent`) or `customer.tags`, `customer.email`. */
  conditions: z
    .array(Condition)
    .min(1, { error: "Add at least one condition that defines the segment." }),
  match: MatchMode.default("all"),
});
export type TriggerSegmentConfig = z.infer<typeof TriggerSegmentConfig>;

export default defineStep<TriggerSegmentConfig>({
  type: "trigger.segment",
  family: "trigger",
  label: "Segment entry",
  schema: TriggerSegmentConfig,
  defaults: { conditions: [], match: "all" },
  branches: () => NEXT_ONLY,
  triggerInfo: () => ({ type: "trigger.segment", event: null, properties: [] }),
  matches: (c, _event, customer) => matchesCustomer(c.conditions, c.match, customer),
  enter: () => ({
    kind: "go",
    branch: "next",
    decision: "entered",
    detail: { trigger: "segment" },
  }),
});
