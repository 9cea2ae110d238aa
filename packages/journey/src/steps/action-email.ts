// Action: send an email. Subject and body are Liquid templates, rendered by the engine at send time.
import { z } from "zod";
import {
  actionBranches,
  actionFields,
  deliveryField,
  handleResult,
  purposeField,
  sendOrHold,
} from "./action-common.ts";
import { type Outcome, type StepEnv, defineStep } from "./module.ts";

export const ActionEmailConfig = z.object({
  subject: z.string().trim().min(1, { error: "Write a subject line." }),
  body: z.string().trim().min(1, { error: "Write the email's content." }),
  format: z.enum(["text", "html", "mjml"]).default("html"),
  preheader: z.string().optional(),
  fromName: z.string().optional(),
  replyTo: z.string().optional(),
  respectQuietHours: z.boolean().default(true),
  ...actionFields,
  ...deliveryField,
  ...purposeField,
});
export type ActionEmailConfig = z.infer<typeof ActionEmailConfig>;

function send(env: StepEnv<ActionEmailConfig>): Outcome {
  const {
    onError: _e,
    retries: _r,
    respectQuietHours: _q,
    delivery: _d,
    purpose: _p,
    ...message
  } = env.config;
  return sendOrHold(env, "email", message);
}

export default defineStep<ActionEmailConfig>({
  type: "action.email",
  family: "action",
  label: "Send email",
  schema: ActionEmailConfig,
  defaults: { subject: "", body: "", format: "html" },
  branches: actionBranches,
  templates: (c) => [
    { field: "subject", template: c.subject },
    { field: "body", template: c.body },
    ...(c.preheader ? [{ field: "preheader", template: c.preheader }] : []),
  ],
  enter: send,
  // A send held back by quiet hours.
  timer: send,
  result: (env, result) => handleResult(env, result, "send"),
});
