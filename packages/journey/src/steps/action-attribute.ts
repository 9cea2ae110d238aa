// Action: update customer attributes. String values may be Liquid templates ("{{ event.sku }}"),
// rendered here so the effect carries final values. Later steps see the new values.
import { z } from "zod";
import { TemplateError, stepTemplateRenderer, templateContext } from "../templating.ts";
import { type CheckIssue, NEXT_ONLY, defineStep } from "./module.ts";

export const ActionAttributeConfig = z.object({
  set: z.record(z.string().trim().min(1), z.unknown()).default({}),
  unset: z.array(z.string().trim().min(1)).default([]),
});
export type ActionAttributeConfig = z.infer<typeof ActionAttributeConfig>;

export default defineStep<ActionAttributeConfig>({
  type: "action.attribute",
  family: "action",
  label: "Update attribute",
  schema: ActionAttributeConfig,
  defaults: { set: {}, unset: [] },
  branches: () => NEXT_ONLY,
  check: (c) => {
    const issues: CheckIssue[] = [];
    if (Object.keys(c.set).length === 0 && c.unset.length === 0) {
      issues.push({
        code: "attribute.empty",
        field: "set",
        message: "Choose at least one attribute to set or clear.",
      });
    }
    return issues;
  },
  templates: (c) =>
    Object.entries(c.set).flatMap(([k, v]) =>
      typeof v === "string" ? [{ field: `set.${k}`, template: v }] : [],
    ),
  provides: (c) => Object.keys(c.set).map((name) => ({ name, on: ["next"], attribute: true })),
  enter: (env) => {
    // The template context only when some value is a template (it copies the profile).
    let context: Record<string, unknown> | undefined;
    const render = stepTemplateRenderer();
    let set: Record<string, unknown>;
    try {
      set = Object.fromEntries(
        Object.entries(env.config.set).map(([k, v]) => [
          k,
          typeof v === "string" && v.includes("{")
            ? render(v, (context ??= templateContext(env.state)), `set.${k}`)
            : v,
        ]),
      );
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      // Nothing is changed; the run goes on, as other actions do by default when they fail.
      return {
        kind: "go",
        branch: "next",
        decision: "attributes.failed",
        detail: {
          error: `The value of ${err.field} ${err.detail}.`,
          field: err.field,
          limit: err.limit,
        },
      };
    }
    const unset = [...env.config.unset];
    const attributes = { ...env.state.customer.attributes, ...set };
    for (const k of unset) delete attributes[k];
    env.state.customer.attributes = attributes;
    return {
      kind: "go",
      branch: "next",
      decision: "attributes.updated",
      detail: { set, unset },
      effects: [{ kind: "updateAttributes", stepId: env.step.id, set, unset }],
    };
  },
});
