// Trigger: an event, optionally filtered by its properties (`purchase` where product.tier = premium).
import { z } from "zod";
import { Condition, evaluateConditions } from "../conditions.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const TriggerEventConfig = z.object({
  event: z.string().trim().min(1, { error: "Choose the event that starts this journey." }),
  /** Conditions on the event's properties; all must hold. */
  filters: z.array(Condition).default([]),
});
export type TriggerEventConfig = z.infer<typeof TriggerEventConfig>;

export default defineStep<TriggerEventConfig>({
  type: "trigger.event",
  family: "trigger",
  label: "Event trigger",
  schema: TriggerEventConfig,
  defaults: { event: "", filters: [] },
  branches: () => NEXT_ONLY,
  triggerInfo: (c, catalog) => {
    const known = catalog.eventProperties?.[c.event];
    return {
      type: "trigger.event",
      event: c.event,
      properties: known ? [...known, ...c.filters.map((f) => f.property)] : null,
      observed: known !== undefined,
    };
  },
  matches: (c, event) =>
    event.name === c.event && evaluateConditions(c.filters, "all", event.properties),
  enter: (env) => ({
    kind: "go",
    branch: "next",
    decision: "entered",
    detail: { trigger: env.config.event, event: env.state.trigger?.properties ?? null },
  }),
});
