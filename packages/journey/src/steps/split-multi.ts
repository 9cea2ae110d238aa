// Split: the first of N condition groups that holds picks the branch (its id); none → "else".
import { z } from "zod";
import { Condition, MatchMode, evaluateConditions } from "../conditions.ts";
import { membershipIssues } from "../membership.ts";
import { templateContext } from "../templating.ts";
import { type CheckIssue, defineStep } from "./module.ts";

const BranchId = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, { error: "Use letters, digits, - and _ only." });

export const SplitMultiConfig = z.object({
  branches: z
    .array(
      z.object({
        id: BranchId,
        label: z.string().optional(),
        conditions: z
          .array(Condition)
          .min(1, { error: "Add at least one condition to this branch." }),
        match: MatchMode.default("all"),
      }),
    )
    .min(1, { error: "Add at least one branch." }),
});
export type SplitMultiConfig = z.infer<typeof SplitMultiConfig>;

export default defineStep<SplitMultiConfig>({
  type: "split.multi",
  family: "split",
  label: "Multi-branch split",
  schema: SplitMultiConfig,
  defaults: { branches: [] },
  branches: (c) => ({ required: [...c.branches.map((b) => b.id), "else"] }),
  references: (c) =>
    c.branches.flatMap((b, i) =>
      b.conditions.map((cond, j) => ({
        field: `branches.${i}.conditions.${j}.property`,
        path: cond.property,
      })),
    ),
  check: (c, ctx) => {
    const issues: CheckIssue[] = [];
    const seen = new Set<string>();
    c.branches.forEach((b, i) => {
      // issue 16: branches by segment or lifecycle stage.
      issues.push(
        ...membershipIssues(b.conditions, (j) => `branches.${i}.conditions.${j}`, ctx.catalog),
      );
      if (b.id === "else" || seen.has(b.id)) {
        issues.push({
          code: "split.duplicate_branch",
          field: `branches.${i}.id`,
          message:
            b.id === "else"
              ? `"else" is reserved for customers who match no branch.`
              : `Two branches are called "${b.id}".`,
        });
      }
      seen.add(b.id);
    });
    return issues;
  },
  enter: (env) => {
    const scope = templateContext(env.state);
    const hit = env.config.branches.find((b) => evaluateConditions(b.conditions, b.match, scope));
    return {
      kind: "go",
      branch: hit ? hit.id : "else",
      decision: "split.branch",
      detail: {
        matched: hit ? (hit.label ?? hit.id) : null,
        checked: env.config.branches.map((b) => b.id),
      },
    };
  },
});
