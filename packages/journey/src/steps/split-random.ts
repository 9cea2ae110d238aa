// Split: random percentages for A/B tests, with an optional holdout. The bucket is a pure hash of
// (run, step), so a retry or a replay always takes the same branch.
import { z } from "zod";
import { unitInterval } from "../hash.ts";
import { type CheckIssue, defineStep } from "./module.ts";

const Percent = z
  .number()
  .finite()
  .min(0, { error: "Use 0–100." })
  .max(100, { error: "Use 0–100." });

export const SplitRandomConfig = z.object({
  variants: z
    .array(
      z.object({
        id: z.string().regex(/^[A-Za-z0-9_-]+$/, { error: "Use letters, digits, - and _ only." }),
        label: z.string().optional(),
        percent: Percent,
      }),
    )
    .min(1, { error: "Add at least one variant." }),
  /** Percentage that gets no treatment (the "holdout" branch). */
  holdout: Percent.default(0),
});
export type SplitRandomConfig = z.infer<typeof SplitRandomConfig>;

const EPSILON = 1e-9;

/** The branch for a bucket in [0, 100). */
export function pickVariant(c: SplitRandomConfig, bucket: number): string {
  let edge = 0;
  for (const v of c.variants) {
    edge += v.percent;
    if (bucket < edge - EPSILON) return v.id;
  }
  if (c.holdout > 0) return "holdout";
  // Rounding at the top edge: the last variant with a share.
  return (
    [...c.variants].reverse().find((v) => v.percent > 0)?.id ??
    c.variants[c.variants.length - 1]?.id ??
    "holdout"
  );
}

export function randomBucket(runId: string, stepId: string): number {
  return unitInterval(`${runId}:${stepId}`) * 100;
}

export default defineStep<SplitRandomConfig>({
  type: "split.random",
  family: "split",
  label: "Random split (A/B)",
  schema: SplitRandomConfig,
  defaults: {
    variants: [
      { id: "a", percent: 50 },
      { id: "b", percent: 50 },
    ],
    holdout: 0,
  },
  branches: (c) => ({
    required: [...c.variants.map((v) => v.id), ...(c.holdout > 0 ? ["holdout"] : [])],
  }),
  check: (c) => {
    const issues: CheckIssue[] = [];
    const total = c.variants.reduce((sum, v) => sum + v.percent, 0) + c.holdout;
    if (Math.abs(total - 100) > 1e-6) {
      issues.push({
        code: "split.percent_sum",
        field: "variants",
        message: `The percentages add up to ${Math.round(total * 100) / 100}% — they must add up to 100%.`,
      });
    }
    const seen = new Set<string>();
    c.variants.forEach((v, i) => {
      if (v.id === "holdout" || seen.has(v.id)) {
        issues.push({
          code: "split.duplicate_branch",
          field: `variants.${i}.id`,
          message:
            v.id === "holdout"
              ? `"holdout" is reserved for the holdout group.`
              : `Two variants are called "${v.id}".`,
        });
      }
      seen.add(v.id);
    });
    return issues;
  },
  enter: (env) => {
    const bucket = randomBucket(env.state.runId, env.step.id);
    const branch = pickVariant(env.config, bucket);
    return {
      kind: "go",
      branch,
      decision: "split.branch",
      detail: { bucket: Math.round(bucket * 100) / 100 },
    };
  },
});
