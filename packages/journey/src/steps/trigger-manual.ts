// Trigger: manual or API enrolment. The caller may pass properties (available as `event.*`).
import { z } from "zod";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const TriggerManualConfig = z.object({
  /** Properties callers pass when enrolling (documentation and validation only). */
  properties: z.array(z.string().trim().min(1)).default([]),
});
export type TriggerManualConfig = z.infer<typeof TriggerManualConfig>;

export default defineStep<TriggerManualConfig>({
  type: "trigger.manual",
  family: "trigger",
  label: "Manual / API enrolment",
  schema: TriggerManualConfig,
  defaults: { properties: [] },
  branches: () => NEXT_ONLY,
  triggerInfo: (c) => ({
    type: "trigger.manual",
    event: null,
    properties: c.properties.length > 0 ? c.properties : null,
  }),
  matches: () => false,
  enter: () => ({ kind: "go", branch: "next", decision: "entered", detail: { trigger: "manual" } }),
});
