// Action: call a webhook. URL, header values and body are Liquid templates rendered by the engine.
// The response (as the engine reports it in the result output) is available under `as`.
import { z } from "zod";
import { actionBranches, actionFields, deliveryField, handleResult } from "./action-common.ts";
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
  ...deliveryField,
});
export type ActionWebhookConfig = z.infer<typeof ActionWebhookConfig>;

/**
 * The origin (scheme://host[:port]) a URL template always has, or null when it does not parse or
 * a variable could change it: the host must be complete, ended by / ? # or a backslash (where a URL's
 * authority ends), before the first {{ or {%. A variable in the path cannot move the host.
 */
export function fixedOrigin(template: string): string | null {
  const cut = template.search(/\{\{|\{%/);
  // The URL parser drops tabs and line breaks anywhere, so they cannot end the host.
  const fixed = (cut === -1 ? template : template.slice(0, cut)).replace(/[\t\n\r]/g, "");
  let head = fixed;
  if (cut !== -1) {
    const authority = /^https?:\/\/[^/?#\\]*[/?#\\]/i.exec(fixed);
    if (!authority) return null;
    head = authority[0];
  }
  try {
    const origin = new URL(head).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}

export default defineStep<ActionWebhookConfig>({
  type: "action.webhook",
  family: "action",
  label: "Call webhook",
  schema: ActionWebhookConfig,
  defaults: { url: "", method: "POST", headers: {} },
  branches: actionBranches,
  check: (c, ctx) => {
    const issues: CheckIssue[] = [];
    if (!/^https?:\/\//i.test(c.url)) {
      issues.push({
        code: "webhook.url",
        field: "url",
        message: "The URL must start with https:// or http://.",
      });
    } else if (ctx.catalog.webhookOrigin !== undefined) {
      const bound = ctx.catalog.webhookOrigin;
      if (fixedOrigin(c.url) !== bound) {
        issues.push({
          code: "webhook.origin",
          field: "url",
          message: `The webhook connection only calls ${bound}: start the URL with ${bound}/ and choose the path after it.`,
        });
      }
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
    const { onError: _e, retries: _r, as: _as, delivery: _d, ...message } = env.config;
    return {
      kind: "await",
      effect: { kind: "send", stepId: env.step.id, channel: "webhook", message },
      decision: "send.requested",
      detail: { channel: "webhook", method: message.method },
    };
  },
  result: (env, result) => handleResult(env, result, "send", env.config.as),
});
