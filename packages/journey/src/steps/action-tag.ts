// Action: add and/or remove customer tags. Later steps see the new tags.
import { z } from "zod";
import { type CheckIssue, NEXT_ONLY, defineStep } from "./module.ts";

const Tag = z.string().trim().min(1, { error: "A tag can't be empty." });

export const ActionTagConfig = z.object({
  add: z.array(Tag).default([]),
  remove: z.array(Tag).default([]),
});
export type ActionTagConfig = z.infer<typeof ActionTagConfig>;

export default defineStep<ActionTagConfig>({
  type: "action.tag",
  family: "action",
  label: "Add / remove tag",
  schema: ActionTagConfig,
  defaults: { add: [], remove: [] },
  branches: () => NEXT_ONLY,
  check: (c) => {
    const issues: CheckIssue[] = [];
    if (c.add.length === 0 && c.remove.length === 0) {
      issues.push({
        code: "tag.empty",
        field: "add",
        message: "Choose at least one tag to add or remove.",
      });
    }
    const both = c.add.filter((t) => c.remove.includes(t));
    if (both.length > 0) {
      issues.push({
        code: "tag.conflict",
        field: "remove",
        message: `"${both[0]}" is both added and removed.`,
      });
    }
    return issues;
  },
  enter: (env) => {
    const { add, remove } = env.config;
    const tags = env.state.customer.tags.filter((t) => !remove.includes(t));
    for (const t of add) if (!tags.includes(t)) tags.push(t);
    env.state.customer.tags = tags;
    return {
      kind: "go",
      branch: "next",
      decision: "tags.updated",
      detail: { add, remove },
      effects: [{ kind: "updateTags", stepId: env.step.id, add: [...add], remove: [...remove] }],
    };
  },
});
