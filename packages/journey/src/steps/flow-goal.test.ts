import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { DAY, T0, actions, decisions, enter, feed, planOf } from "./testing.ts";

const purchase = { name: "purchase", properties: { total: 40 }, timestamp: T0 };

describe("flow.goal", () => {
  const plan = planOf([
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
    { id: "w", type: "wait.duration", data: { amount: 7, unit: "days" }, next: "mail" },
    { id: "mail", type: "action.email", data: { subject: "Come back", body: "…" }, next: "x" },
    { id: "x", type: "flow.exit" },
    {
      id: "goal",
      type: "flow.goal",
      data: {
        name: "second purchase",
        event: "purchase",
        filters: [{ property: "total", op: "gt", value: 0 }],
      },
      next: "thanks",
    },
    { id: "thanks", type: "action.tag", data: { add: ["repeat-buyer"] }, next: "x" },
  ]);

  it("moves the run to the goal whenever its event arrives, records the conversion and follows the goal's path", () => {
    const waiting = enter(plan, { trigger: purchase });
    const r = feed(
      plan,
      waiting,
      {
        kind: "event",
        event: { name: "purchase", properties: { total: 99 }, timestamp: T0 + DAY },
      },
      T0 + DAY,
    );
    expect(actions(r.effects)).toEqual([
      { kind: "convert", stepId: "goal", goal: "second purchase" },
      { kind: "updateTags", stepId: "thanks", add: ["repeat-buyer"], remove: [] },
      { kind: "complete" },
    ]);
    expect(r.state).toMatchObject({
      status: "completed",
      converted: true,
      conversion: { goal: "second purchase", stepId: "goal", at: T0 + DAY },
    });
    // The wait's timer is now stale.
    expect(feed(plan, r, { kind: "timer", stepId: "w" }, T0 + 7 * DAY).effects).toEqual([]);
  });

  it("is not fooled by the trigger event itself or events that fail its filters", () => {
    const waiting = enter(plan, { trigger: purchase });
    expect(feed(plan, waiting, { kind: "event", event: purchase }, T0 + 1).effects).toEqual([]);
    expect(
      feed(
        plan,
        waiting,
        { kind: "event", event: { name: "purchase", properties: { total: 0 }, timestamp: T0 + 5 } },
        T0 + 5,
      ).effects,
    ).toEqual([]);
  });

  it("without a next step, reaching the goal completes the run", () => {
    const p = planOf([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 7, unit: "days" }, next: "x" },
      { id: "x", type: "flow.exit" },
      { id: "goal", type: "flow.goal", data: { event: "review_posted" } },
    ]);
    const r = feed(
      p,
      enter(p, { trigger: purchase }),
      { kind: "event", event: { name: "review_posted", properties: {}, timestamp: T0 + 1 } },
      T0 + 1,
    );
    expect(decisions(r.effects)).toEqual(["goal.converted", "goal.reached", "run.completed"]);
  });

  it("can't have incoming connections and needs no path of its own", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "goal" },
        { id: "goal", type: "flow.goal", data: { event: "purchase" } },
      ]),
    );
    expect(issues.map((i) => [i.code, i.nodeId])).toEqual([
      ["goal.incoming_edge", "goal"],
      ["branch.unconnected", "t"],
    ]);
  });
});
