// Action: send a push notification.
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

export const ActionPushConfig = z.object({
  title: z.string().trim().min(1, { error: "Write the notification's title." }),
  body: z.string().trim().min(1, { error: "Write the notification's text." }),
  /** Where tapping the notification leads (may use templates, e.g. {{ purl.url }}). */
  url: z.string().optional(),
  image: z.string().optional(),
  respectQuietHours: z.boolean().default(true),
  ...actionFields,
  ...deliveryField,
  ...purposeField,
});
export type ActionPushConfig = z.infer<typeof ActionPushConfig>;

function send(env: StepEnv<ActionPushConfig>): Outcome {
  const {
    onError: _e,
    retries: _r,
    respectQuietHours: _q,
    delivery: _d,
    purpose: _p,
    ...message
  } = env.config;
  return sendOrHold(env, "push", message);
}

export default defineStep<ActionPushConfig>({
  type: "action.push",
  family: "action",
  label: "Send push",
  schema: ActionPushConfig,
  defaults: { title: "", body: "" },
  branches: actionBranches,
  templates: (c) => [
    { field: "title", template: c.title },
    { field: "body", template: c.body },
    ...(c.url ? [{ field: "url", template: c.url }] : []),
  ],
  enter: send,
  timer: send,
  result: (env, result) => handleResult(env, result, "send"),
});
