// Action: an internal notification — an email to a colleague (a store clerk) or a message to a
// Slack-compatible incoming webhook. Not subject to quiet hours: it goes to staff, not customers.
import { z } from "zod";
import { actionBranches, actionFields, deliveryField, handleResult } from "./action-common.ts";
import { type CheckIssue, defineStep } from "./module.ts";

export const ActionNotifyConfig = z.object({
  via: z.enum(["email", "slack"]).default("email"),
  /** Email address (may be a template such as {{ event.clerk_email }}) when via = email. */
  to: z.string().optional(),
  /** Incoming-webhook URL when via = slack. */
  webhookUrl: z.string().optional(),
  subject: z.string().optional(),
  message: z.string().trim().min(1, { error: "Write the notification." }),
  ...actionFields,
  ...deliveryField,
});
export type ActionNotifyConfig = z.infer<typeof ActionNotifyConfig>;

export default defineStep<ActionNotifyConfig>({
  type: "action.notify",
  family: "action",
  label: "Notify team",
  schema: ActionNotifyConfig,
  defaults: { via: "email", to: "", message: "" },
  branches: actionBranches,
  check: (c) => {
    const issues: CheckIssue[] = [];
    if (c.via === "email" && !c.to?.trim()) {
      issues.push({
        code: "notify.recipient",
        field: "to",
        message: "Enter who gets this notification.",
      });
    }
    if (c.via === "slack" && !/^https?:\/\//i.test(c.webhookUrl ?? "")) {
      issues.push({
        code: "notify.webhook",
        field: "webhookUrl",
        message: "Enter the Slack webhook URL (https://…).",
      });
    }
    return issues;
  },
  templates: (c) => [
    { field: "message", template: c.message },
    ...(c.to ? [{ field: "to", template: c.to }] : []),
    ...(c.subject ? [{ field: "subject", template: c.subject }] : []),
  ],
  enter: (env) => {
    const { onError: _e, retries: _r, delivery: _d, ...message } = env.config;
    return {
      kind: "await",
      effect: { kind: "send", stepId: env.step.id, channel: "notify", message },
      decision: "send.requested",
      detail: { channel: "notify", via: message.via },
    };
  },
  result: (env, result) => handleResult(env, result, "send"),
});
