import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { T0, actions, enter, planOf } from "./testing.ts";

describe("flow.exit", () => {
  it("completes the run", () => {
    const plan = planOf([
      { id: "t", type: "trigger.manual", next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const r = enter(plan);
    expect(actions(r.effects)).toEqual([{ kind: "complete" }]);
    expect(r.state).toMatchObject({ status: "completed", stepId: "x", endedAt: T0 });
  });

  it("nothing can follow an exit", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "x" },
        { id: "x", type: "flow.exit", next: "y" },
        { id: "y", type: "flow.exit" },
      ]),
    );
    expect(issues.map((i) => [i.code, i.nodeId])).toEqual([
      ["edge.unknown_branch", "x"],
      ["node.unreachable", "y"],
    ]);
  });
});
