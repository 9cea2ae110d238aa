// Action: send an SMS (Liquid body, rendered by the engine at send time).
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

export const ActionSmsConfig = z.object({
  body: z.string().trim().min(1, { error: "Write the text message." }),
  respectQuietHours: z.boolean().default(true),
  ...actionFields,
  ...deliveryField,
  ...purposeField,
});
export type ActionSmsConfig = z.infer<typeof ActionSmsConfig>;

function send(env: StepEnv<ActionSmsConfig>): Outcome {
  return sendOrHold(env, "sms", { body: env.config.body });
}

export default defineStep<ActionSmsConfig>({
  type: "action.sms",
  family: "action",
  label: "Send SMS",
  schema: ActionSmsConfig,
  defaults: { body: "" },
  branches: actionBranches,
  templates: (c) => [{ field: "body", template: c.body }],
  enter: send,
  timer: send,
  result: (env, result) => handleResult(env, result, "send"),
});
