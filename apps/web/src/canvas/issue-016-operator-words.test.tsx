// Issue 16: comparisons read as words everywhere a marketer meets them — the step forms' select,
// the one-line summary on the node, and the split's decision in a trace — never `eq`, `gte`, `≥`.
import { ConditionOp, describeCondition } from "@postpath/journey";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SchemaForm } from "./SchemaForm.tsx";
import { stepJsonSchema } from "./panels/StepPanel.tsx";
import { summarizeStep } from "./steps/index.ts";

const WORDS: Record<ConditionOp, string> = {
  eq: "equals",
  neq: "does not equal",
  gt: "is greater than",
  gte: "is at least",
  lt: "is less than",
  lte: "is at most",
  contains: "contains",
  notContains: "does not contain",
  startsWith: "starts with",
  endsWith: "ends with",
  in: "is one of",
  notIn: "is not one of",
  exists: "is set",
  notExists: "is not set",
};

const SYMBOLS = /[=<>≥≤≠]|\b(eq|neq|gte?|lte?|notContains|notIn|notExists)\b/;

describe("issue 16: operators in words", () => {
  it("every comparison has words, the same in the form, on the node and in the trace", () => {
    for (const op of ConditionOp.options) {
      const condition = { property: "total", op, value: op === "in" || op === "notIn" ? [1] : 100 };
      const words = WORDS[op];

      const { unmount } = render(
        <SchemaForm
          schema={stepJsonSchema("split.condition")}
          value={{ conditions: [condition], match: "all" }}
          errors={{}}
          onChange={() => {}}
        />,
      );
      const select = screen.getByRole("combobox", { name: "Comparison" });
      const chosen = within(select)
        .getAllByRole<HTMLOptionElement>("option")
        .find((o) => o.selected);
      expect(chosen?.textContent, op).toBe(words);
      unmount();

      const summary = summarizeStep("split.condition", { conditions: [condition], match: "all" });
      expect(summary, op).toContain(`total ${words}`);
      expect(summary.replace("If ", ""), op).not.toMatch(SYMBOLS);

      const traced = describeCondition(condition);
      expect(traced, op).toContain(`total ${words}`);
      expect(traced, op).not.toMatch(SYMBOLS);
    }
  });
});
