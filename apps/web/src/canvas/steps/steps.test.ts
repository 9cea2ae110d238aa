import { describe, expect, it } from "vitest";
import { STEP_TYPES } from "../draft.ts";
import { NOT_CONFIGURED, branchesOf, formatDuration, stepLabel, summarizeStep } from "./index.ts";

describe("summarizeStep", () => {
  it("describes the configs the demo journey uses", () => {
    expect(summarizeStep("trigger.event", { event: "purchase", filters: [] })).toBe(
      "Event: purchase",
    );
    expect(summarizeStep("wait.duration", { amount: 30, unit: "seconds" })).toBe("Wait 30 seconds");
    expect(summarizeStep("action.email", { subject: "Thanks {{ first_name }}", body: "…" })).toBe(
      "Email: Thanks {{ first_name }}",
    );
  });

  it("counts event filters and names the wait-for-event timeout", () => {
    const filter = { property: "total", op: "gt", value: 10 };
    expect(summarizeStep("trigger.event", { event: "purchase", filters: [filter, filter] })).toBe(
      "Event: purchase (2 filters)",
    );
    expect(
      summarizeStep("wait.event", { event: "review_left", timeout: { amount: 7, unit: "days" } }),
    ).toBe("Event: review_left, up to 7 days");
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

  it("describes conditions, random splits, attribute updates, dates and coupons", () => {
    expect(
      summarizeStep("split.condition", {
        conditions: [
          { property: "total", op: "gt", value: 100 },
          { property: "country", op: "eq", value: "DE" },
        ],
        match: "any",
      }),
    ).toBe("If total is greater than 100 or 1 more");
    expect(
      summarizeStep("split.random", {
        variants: [
          { id: "a", percent: 45 },
          { id: "b", percent: 45 },
        ],
        holdout: 10,
      }),
    ).toBe("Random: 45% / 45% / holdout 10%");
    expect(summarizeStep("action.attribute", { set: { vip: true, tier: "gold" } })).toBe(
      "Set vip = true, tier = gold",
    );
    expect(
      summarizeStep("trigger.date", {
        attribute: "registered_at",
        offset: { amount: 1, unit: "years" },
        at: "09:00",
        recurrence: "yearly",
      }),
    ).toBe("Date: registered_at + 1 year at 09:00, every year");
    expect(
      summarizeStep("wait.dateProperty", {
        property: "delivery_date",
        offset: { amount: -3, unit: "days" },
      }),
    ).toBe("Until delivery_date − 3 days");
    expect(
      summarizeStep("action.coupon", {
        source: { kind: "pattern", pattern: "SAVE-######" },
        value: { kind: "percent", amount: 10 },
      }),
    ).toBe("Coupon: 10% off (SAVE-######)");
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
  it("gives most steps one unlabelled 'next' output and exits none", () => {
    expect(branchesOf("action.email", {})).toEqual([{ id: "next", label: "", optional: false }]);
    expect(branchesOf("flow.exit", {})).toEqual([]);
  });

  it("labels the branches of splits, waits for events and failing actions", () => {
    const labels = (type: Parameters<typeof branchesOf>[0], data: unknown) =>
      branchesOf(type, data).map((b) => [b.id, b.label]);
    expect(labels("split.condition", {})).toEqual([
      ["yes", "Yes"],
      ["no", "No"],
    ]);
    expect(labels("wait.event", {})).toEqual([
      ["arrived", "Arrived"],
      ["timedOut", "Timed out"],
    ]);
    expect(labels("action.email", { subject: "Hi", body: "…", onError: "errorBranch" })).toEqual([
      ["next", ""],
      ["error", "Failed"],
    ]);
    expect(
      labels("split.multi", {
        branches: [
          { id: "vip", label: "VIP", conditions: [{ property: "vip", op: "eq", value: true }] },
          { id: "rest", conditions: [{ property: "vip", op: "eq", value: false }] },
        ],
      }),
    ).toEqual([
      ["vip", "VIP"],
      ["rest", "rest"],
      ["else", "Else"],
    ]);
    expect(labels("split.channel", { channels: ["sms", "email"] })).toEqual([
      ["sms", "SMS"],
      ["email", "Email"],
      ["none", "None"],
    ]);
  });

  it("marks a goal's 'next' as optional", () => {
    expect(branchesOf("flow.goal", { event: "review_left" })).toEqual([
      { id: "next", label: "", optional: true },
    ]);
  });
});
