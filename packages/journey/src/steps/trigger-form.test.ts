import { describe, expect, it } from "vitest";
import { FORM_SUBMITTED_EVENT, matchesTrigger, triggerOf } from "../index.ts";
import { customer, planOf } from "./testing.ts";

describe("trigger.form", () => {
  const plan = planOf([
    {
      id: "t",
      type: "trigger.form",
      data: { form: "warranty-signup", fields: ["serial"] },
      next: "x",
    },
    { id: "x", type: "flow.exit" },
  ]);

  it("matches submissions of its form only", () => {
    expect(triggerOf(plan)).toMatchObject({ type: "trigger.form", event: FORM_SUBMITTED_EVENT });
    expect(
      matchesTrigger(
        plan,
        { name: FORM_SUBMITTED_EVENT, properties: { form: "warranty-signup", serial: "X1" } },
        customer(),
      ),
    ).toBe(true);
    expect(
      matchesTrigger(
        plan,
        { name: FORM_SUBMITTED_EVENT, properties: { form: "newsletter" } },
        customer(),
      ),
    ).toBe(false);
    expect(
      matchesTrigger(
        plan,
        { name: "purchase", properties: { form: "warranty-signup" } },
        customer(),
      ),
    ).toBe(false);
  });
});
