// Split: yes/no on conditions over the customer's attributes, the trigger event (`event.total`)
// or earlier steps' outputs — the same names templates use; and (issue 16) the saved segments the
// customer is in and their lifecycle stage (membership.ts).
import { z } from "zod";
import { Condition, MatchMode, describeCondition, evaluateCondition } from "../conditions.ts";
import { membershipIssues } from "../membership.ts";
import { templateContext } from "../templating.ts";
import { defineStep } from "./module.ts";

export const SplitConditionConfig = z.object({
  conditions: z.array(Condition).min(1, { error: "Add at least one condition." }),
  match: MatchMode.default("all"),
});
export type SplitConditionConfig = z.infer<typeof SplitConditionConfig>;

export default defineStep<SplitConditionConfig>({
  type: "split.condition",
  family: "split",
  label: "Condition split",
  schema: SplitConditionConfig,
  defaults: { conditions: [], match: "all" },
  branches: () => ({ required: ["yes", "no"] }),
  references: (c) =>
    c.conditions.map((cond, i) => ({ field: `conditions.${i}.property`, path: cond.property })),
  check: (c, ctx) => membershipIssues(c.conditions, (i) => `conditions.${i}`, ctx.catalog),
  enter: (env) => {
    const scope = templateContext(env.state);
    const results = env.config.conditions.map((c) => ({
      condition: describeCondition(c),
      holds: evaluateCondition(c, scope),
    }));
    const yes =
      env.config.match === "all" ? results.every((r) => r.holds) : results.some((r) => r.holds);
    return {
      kind: "go",
      branch: yes ? "yes" : "no",
      decision: "split.branch",
      detail: { match: env.config.match, results },
    };
  },
});
