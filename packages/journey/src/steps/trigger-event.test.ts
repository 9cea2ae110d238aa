import { describe, expect, it } from "vitest";
import { matchesTrigger, triggerOf, validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { T0, customer, decisions, enter, planOf } from "./testing.ts";

const plan = planOf([
  {
    id: "t",
    type: "trigger.event",
    data: {
      event: "purchase",
      filters: [{ property: "product.tier", op: "eq", value: "premium" }],
    },
    next: "x",
  },
  { id: "x", type: "flow.exit" },
]);

describe("trigger.event", () => {
  it("matches the event name and every filter on its properties", () => {
    const c = customer();
    expect(
      matchesTrigger(plan, { name: "purchase", properties: { product: { tier: "premium" } } }, c),
    ).toBe(true);
    expect(
      matchesTrigger(plan, { name: "purchase", properties: { product: { tier: "basic" } } }, c),
    ).toBe(false);
    expect(matchesTrigger(plan, { name: "purchase", properties: {} }, c)).toBe(false);
    expect(
      matchesTrigger(plan, { name: "refund", properties: { product: { tier: "premium" } } }, c),
    ).toBe(false);
  });

  it("tells the engine which event it listens to", () => {
    expect(triggerOf(plan)).toMatchObject({ type: "trigger.event", event: "purchase" });
  });

  it("traces the entry with the trigger event and moves on", () => {
    const r = enter(plan, {
      trigger: { name: "purchase", properties: { product: { tier: "premium" } }, timestamp: T0 },
    });
    expect(decisions(r.effects)).toEqual(["entered", "exit.reached", "run.completed"]);
    expect(r.state.status).toBe("completed");
  });

  it("needs an event name, reported on the field", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.event", data: { event: "" }, next: "x" },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        code: "config.invalid",
        nodeId: "t",
        field: "event",
        message: "Choose the event that starts this journey.",
      }),
    ]);
  });
});
