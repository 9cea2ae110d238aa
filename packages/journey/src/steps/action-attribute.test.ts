import { describe, expect, it } from "vitest";
import { T0, actions, around, customer, enter, planOf, branchTaken } from "./testing.ts";

describe("action.attribute", () => {
  it("renders template values, updates the snapshot for later steps and emits the update", () => {
    const plan = planOf([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "s" },
      {
        id: "s",
        type: "action.attribute",
        data: { set: { last_sku: "{{ event.sku }}", vip: true }, unset: ["churn_risk"] },
        next: "split",
      },
      {
        id: "split",
        type: "split.condition",
        data: { conditions: [{ property: "vip", op: "eq", value: true }] },
        next: { yes: "x", no: "x" },
      },
      { id: "x", type: "flow.exit" },
    ]);
    const r = enter(plan, {
      customer: customer({ attributes: { churn_risk: 0.8 } }),
      trigger: { name: "purchase", properties: { sku: "BP-1" }, timestamp: T0 },
    });
    expect(actions(r.effects)[0]).toEqual({
      kind: "updateAttributes",
      stepId: "s",
      set: { last_sku: "BP-1", vip: true },
      unset: ["churn_risk"],
    });
    expect(r.state.customer.attributes).toEqual({ last_sku: "BP-1", vip: true });
    expect(branchTaken(r.effects, "split")).toBe("yes");
  });

  it("runs synchronously: the run goes straight on", () => {
    const plan = around({ id: "s", type: "action.attribute", data: { set: { a: 1 } } });
    expect(enter(plan).state.status).toBe("completed");
  });
});
