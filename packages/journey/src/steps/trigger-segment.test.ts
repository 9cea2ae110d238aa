import { describe, expect, it } from "vitest";
import { matchesTrigger, triggerOf } from "../index.ts";
import { customer, decisions, enter, planOf } from "./testing.ts";

const plan = planOf([
  {
    id: "t",
    type: "trigger.segment",
    data: {
      conditions: [
        { property: "total_spent", op: "gte", value: 1000 },
        { property: "customer.tags", op: "contains", value: "vip" },
      ],
      match: "all",
    },
    next: "x",
  },
  { id: "x", type: "flow.exit" },
]);

describe("trigger.segment", () => {
  it("matches customers whose attributes and tags meet the conditions", () => {
    const ev = { name: "identify", properties: {} };
    expect(
      matchesTrigger(plan, ev, customer({ attributes: { total_spent: 1500 }, tags: ["vip"] })),
    ).toBe(true);
    expect(
      matchesTrigger(plan, ev, customer({ attributes: { total_spent: "1200" }, tags: ["vip"] })),
    ).toBe(true);
    expect(
      matchesTrigger(plan, ev, customer({ attributes: { total_spent: 900 }, tags: ["vip"] })),
    ).toBe(false);
    expect(
      matchesTrigger(plan, ev, customer({ attributes: { total_spent: 1500 }, tags: [] })),
    ).toBe(false);
  });

  it("has no event of its own", () => {
    expect(triggerOf(plan).event).toBeUndefined();
  });

  it("enters without a trigger event", () => {
    expect(decisions(enter(plan).effects)).toEqual(["entered", "exit.reached", "run.completed"]);
  });
});
