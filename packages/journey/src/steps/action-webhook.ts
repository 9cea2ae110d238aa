// Action: call a webhook. URL, header values and body are Liquid templates rendered by the engine.
// The response (as the engine reports it in the result output) is available under `as`.
import { z } from "zod";
import { actionBranches, actionFields, handleResult } from "./action-common.ts";
import { type CheckIssue, defineStep } from "./module.ts";

export const ActionWebhookConfig = z.object({
  url: z.string().trim().min(1, { error: "Enter the URL to call." }),
  method: z.enum(["POST", "PUT", "PATCH", "GET", "DELETE"]).default("POST"),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  /** Name under which later templates see the response output. */
  as: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "Use letters, digits and _ only." })
    .optional(),
  ...actionFields,
});
export type ActionWebhookConfig = z.infer<typeof ActionWebhookConfig>;

export default defineStep<ActionWebhookConfig>({
  type: "action.webhook",
  family: "action",
  label: "Call webhook",
  schema: ActionWebhookConfig,
  defaults: { url: "", method: "POST", headers: {} },
  branches: actionBranches,
  check: (c) => {
    const issues: CheckIssue[] = [];
    if (!/^https?:\/\//i.test(c.url)) {
      issues.push({
        code: "webhook.url",
        field: "url",
        message: "The URL must start with https:// or http://.",
      });
    }
    return issues;
  },
  templates: (c) => [
    { field: "url", template: c.url },
    ...Object.entries(c.headers).map(([k, v]) => ({ field: `headers.${k}`, template: v })),
    ...(c.body ? [{ field: "body", template: c.body }] : []),
  ],
  provides: (c) => (c.as ? [{ name: c.as, on: ["next"] }] : []),
  enter: (env) => {
    const { onError: _e, retries: _r, as: _as, ...message } = env.config;
    return {
      kind: "await",
      effect: { kind: "send", stepId: env.step.id, channel: "webhook", message },
      decision: "send.requested",
      detail: { channel: "webhook", method: message.method },
    };
  },
  result: (env, result) => handleResult(env, result, "send", env.config.as),
});
