import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { T0, around, branchTaken, enter } from "./testing.ts";

const data = {
  branches: [
    { id: "vip", conditions: [{ property: "event.total", op: "gte", value: 1000 }] },
    { id: "clearance", conditions: [{ property: "event.clearance", op: "eq", value: true }] },
  ],
};

describe("split.multi", () => {
  const plan = around({ id: "s", type: "split.multi", data }, ["vip", "clearance", "else"]);
  const order = (properties: Record<string, unknown>) => ({
    name: "purchase",
    properties,
    timestamp: T0,
  });

  it("takes the first branch that matches, else 'else'", () => {
    expect(
      branchTaken(enter(plan, { trigger: order({ total: 1500, clearance: true }) }).effects),
    ).toBe("vip");
    expect(
      branchTaken(enter(plan, { trigger: order({ total: 50, clearance: true }) }).effects),
    ).toBe("clearance");
    expect(branchTaken(enter(plan, { trigger: order({ total: 50 }) }).effects)).toBe("else");
  });

  it("requires every branch and 'else' to be connected, and unique branch ids", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "s" },
        {
          id: "s",
          type: "split.multi",
          data: {
            branches: [
              ...data.branches,
              { id: "vip", conditions: [{ property: "x", op: "exists" }] },
            ],
          },
          next: { vip: "x", else: "x" },
        },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        code: "split.duplicate_branch",
        nodeId: "s",
        field: "branches.2.id",
      }),
      expect.objectContaining({ code: "branch.unconnected", nodeId: "s", branch: "clearance" }),
    ]);
  });
});
