// Trigger: a landing-page form was submitted. Submissions arrive as `form_submitted` events whose
// `form` property is the form's id; the fields are the other properties.
import { z } from "zod";
import { looseEquals } from "../conditions.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const FORM_SUBMITTED_EVENT = "form_submitted";

export const TriggerFormConfig = z.object({
  form: z.string().trim().min(1, { error: "Choose the form." }),
  /** The form's fields (available as `event.<field>`). */
  fields: z.array(z.string().trim().min(1)).default([]),
});
export type TriggerFormConfig = z.infer<typeof TriggerFormConfig>;

export default defineStep<TriggerFormConfig>({
  type: "trigger.form",
  family: "trigger",
  label: "Form submitted",
  schema: TriggerFormConfig,
  defaults: { form: "", fields: [] },
  branches: () => NEXT_ONLY,
  triggerInfo: (c) => ({
    type: "trigger.form",
    event: FORM_SUBMITTED_EVENT,
    properties: c.fields.length > 0 ? ["form", ...c.fields] : null,
  }),
  matches: (c, event) =>
    event.name === FORM_SUBMITTED_EVENT && looseEquals(event.properties["form"], c.form),
  enter: (env) => ({
    kind: "go",
    branch: "next",
    decision: "entered",
    detail: { trigger: "form", form: env.config.form },
  }),
});
