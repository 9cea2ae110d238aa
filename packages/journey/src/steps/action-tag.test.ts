import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { actions, around, customer, enter } from "./testing.ts";

describe("action.tag", () => {
  it("adds and removes tags on the snapshot and emits the update", () => {
    const plan = around({
      id: "s",
      type: "action.tag",
      data: { add: ["registered", "vip"], remove: ["prospect"] },
    });
    const r = enter(plan, { customer: customer({ tags: ["prospect", "vip"] }) });
    expect(actions(r.effects)[0]).toEqual({
      kind: "updateTags",
      stepId: "s",
      add: ["registered", "vip"],
      remove: ["prospect"],
    });
    expect(r.state.customer.tags).toEqual(["vip", "registered"]);
  });

  it("needs at least one tag and no tag both added and removed", () => {
    const draft = (data: Record<string, unknown>) =>
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        { id: "s", type: "action.tag", data, next: "x" },
        { id: "x", type: "flow.exit" },
      ]);
    expect(validate(draft({}))).toEqual([
      expect.objectContaining({ code: "tag.empty", nodeId: "s" }),
    ]);
    expect(validate(draft({ add: ["a"], remove: ["a"] }))).toEqual([
      expect.objectContaining({ code: "tag.conflict", nodeId: "s" }),
    ]);
  });
});
