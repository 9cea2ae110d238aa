import { describe, expect, it } from "vitest";
import { matchesTrigger, triggerOf, validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { customer, decisions, enter, planOf } from "./testing.ts";

describe("trigger.manual", () => {
  const plan = planOf([
    { id: "t", type: "trigger.manual", data: { properties: ["reason"] }, next: "e" },
    {
      id: "e",
      type: "action.email",
      data: { subject: "Because {{ event.reason }}", body: "Hi" },
      next: "x",
    },
    { id: "x", type: "flow.exit" },
  ]);

  it("enters with the properties the API passed, visible to templates", () => {
    const r = enter(plan, {
      trigger: { name: "manual", properties: { reason: "goodwill" }, timestamp: 0 },
    });
    expect(decisions(r.effects)).toEqual(["entered", "send.requested"]);
    expect(r.state.trigger?.properties).toEqual({ reason: "goodwill" });
  });

  it("matches no event", () => {
    expect(triggerOf(plan).event).toBeUndefined();
    expect(matchesTrigger(plan, { name: "manual", properties: {} }, customer())).toBe(false);
  });

  it("flags template variables the declared properties don't include", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", data: { properties: ["reason"] }, next: "e" },
        {
          id: "e",
          type: "action.email",
          data: { subject: "{{ event.order_id }}", body: "Hi" },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({ code: "template.unknown_variable", nodeId: "e", field: "subject" }),
    ]);
  });
});
