import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { around, branchTaken, enter } from "./testing.ts";

const data = {
  variants: [
    { id: "a", percent: 45 },
    { id: "b", percent: 45 },
  ],
  holdout: 10,
};

describe("split.random", () => {
  const plan = around({ id: "s", type: "split.random", data }, ["a", "b", "holdout"]);

  it("is deterministic per (run, step): a retry never changes the branch", () => {
    for (const runId of ["r-1", "r-2", "r-3", "r-4"]) {
      const first = branchTaken(enter(plan, { runId }).effects);
      expect(branchTaken(enter(plan, { runId }).effects)).toBe(first);
    }
  });

  it("spreads runs close to the configured shares", () => {
    const counts: Record<string, number> = { a: 0, b: 0, holdout: 0 };
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const b = String(branchTaken(enter(plan, { runId: `run-${i}` }).effects));
      counts[b] = (counts[b] ?? 0) + 1;
    }
    expect(Math.abs((counts["a"] ?? 0) / n - 0.45)).toBeLessThan(0.03);
    expect(Math.abs((counts["b"] ?? 0) / n - 0.45)).toBeLessThan(0.03);
    expect(Math.abs((counts["holdout"] ?? 0) / n - 0.1)).toBeLessThan(0.02);
  });

  it("rejects percentages that don't add up to 100, on the node", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        {
          id: "s",
          type: "split.random",
          data: {
            variants: [
              { id: "a", percent: 50 },
              { id: "b", percent: 45 },
            ],
          },
          next: { a: "x", b: "x" },
        },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        code: "split.percent_sum",
        nodeId: "s",
        field: "variants",
        message: "The percentages add up to 95% — they must add up to 100%.",
      }),
    ]);
  });

  it("requires the holdout branch only when there is a holdout", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        { id: "s", type: "split.random", data, next: { a: "x", b: "x" } },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({ code: "branch.unconnected", nodeId: "s", branch: "holdout" }),
    ]);
  });
});
