import { describe, expect, it } from "vitest";
import { T0, around, branchTaken, customer, enter } from "./testing.ts";

describe("split.condition", () => {
  const plan = around(
    {
      id: "s",
      type: "split.condition",
      data: {
        conditions: [
          { property: "event.total", op: "gte", value: 500 },
          { property: "customer.tags", op: "contains", value: "vip" },
        ],
        match: "any",
      },
    },
    ["yes", "no"],
  );
  const order = (total: number) => ({ name: "purchase", properties: { total }, timestamp: T0 });

  it("takes yes when the conditions hold, with the reason in the trace", () => {
    const r = enter(plan, { trigger: order(800) });
    expect(branchTaken(r.effects)).toBe("yes");
    const trace = r.effects.find((e) => e.kind === "trace" && e.stepId === "s");
    expect(trace?.kind === "trace" && trace.detail["results"]).toEqual([
      { condition: "event.total is at least 500", holds: true },
      { condition: 'customer.tags contains "vip"', holds: false },
    ]);
  });

  it("takes no otherwise; attributes count too", () => {
    expect(branchTaken(enter(plan, { trigger: order(20) }).effects)).toBe("no");
    expect(
      branchTaken(
        enter(plan, { trigger: order(20), customer: customer({ tags: ["vip"] }) }).effects,
      ),
    ).toBe("yes");
  });
});
