import { describe, expect, it } from "vitest";
import { STEP_TYPES } from "../draft.ts";
import { NOT_CONFIGURED, branchesOf, formatDuration, stepLabel, summarizeStep } from "./index.ts";

describe("summarizeStep", () => {
  it("describes the configs the demo journey uses", () => {
    expect(summarizeStep("trigger.event", { event: "purchase", filters: [] })).toBe("Event: purchase");
    expect(summarizeStep("wait.duration", { amount: 30, unit: "seconds" })).toBe("Wait 30 seconds");
    expect(summarizeStep("action.email", { subject: "Thanks {{ first_name }}", body: "…" })).toBe(
      "Email: Thanks {{ first_name }}",
    );
  });

  it("counts event filters and names the wait-for-event timeout", () => {
    expect(summarizeStep("trigger.event", { event: "purchase", filters: [{}, {}] })).toBe("Event: purchase (2 filters)");
    expect(summarizeStep("wait.event", { event: "review_left", timeout: { amount: 7, unit: "days" } })).toBe(
      "Event: review_left, up to 7 days",
    );
  });

  it("says when a step is not configured yet instead of failing on an incomplete draft", () => {
    for (const data of [{}, null, "nonsense", { event: "  " }, { amount: "soon", unit: 3 }]) {
      expect(summarizeStep("trigger.event", data)).toBe(NOT_CONFIGURED);
      expect(summarizeStep("wait.duration", data)).toBe(NOT_CONFIGURED);
      expect(summarizeStep("action.email", data)).toBe(NOT_CONFIGURED);
    }
  });

  it("has a label and a one-line summary for every step type", () => {
    for (const type of STEP_TYPES) {
      expect(stepLabel(type)).not.toBe("");
      const summary = summarizeStep(type, {});
      expect(summary).not.toBe("");
      expect(summary).not.toContain("\n");
    }
  });

  it("describes conditions, random splits and attribute updates", () => {
    expect(summarizeStep("split.condition", { condition: { property: "total", operator: ">", value: 100 } })).toBe(
      "If total > 100",
    );
    expect(
      summarizeStep("split.random", {
        variants: [
          { id: "a", percent: 50 },
          { id: "b", percent: 50 },
        ],
      }),
    ).toBe("Random: 50% / 50%");
    expect(summarizeStep("action.attribute", { attribute: "vip", value: true })).toBe("Set vip = true");
  });
});

describe("formatDuration", () => {
  it("uses the singular for one and accepts singular or plural units", () => {
    expect(formatDuration(1, "days")).toBe("1 day");
    expect(formatDuration(1, "day")).toBe("1 day");
    expect(formatDuration(2, "hour")).toBe("2 hours");
  });
});

describe("branchesOf", () => {
  it("gives most steps one unnamed output, exits none, and splits one per branch", () => {
    expect(branchesOf("action.email", {})).toEqual([{ id: "next", label: "" }]);
    expect(branchesOf("flow.exit", {})).toEqual([]);
    expect(branchesOf("split.condition", {}).map((b) => b.label)).toEqual(["Yes", "No"]);
    expect(branchesOf("wait.event", {}).map((b) => b.id)).toEqual(["event", "timeout"]);
    expect(
      branchesOf("split.multi", { branches: [{ id: "vip", name: "VIP" }, { id: "rest" }] }).map((b) => [b.id, b.label]),
    ).toEqual([
      ["vip", "VIP"],
      ["rest", "Branch 2"],
      ["else", "Else"],
    ]);
  });
});
