import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { DAY, HOUR, T0, actions, around, decisions, enter, feed } from "./testing.ts";

describe("wait.duration", () => {
  it("schedules a timer and continues when it fires", () => {
    const plan = around({ id: "s", type: "wait.duration", data: { amount: 36, unit: "hours" } });
    const waiting = enter(plan);
    expect(actions(waiting.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: T0 + 36 * HOUR },
    ]);
    expect(waiting.state).toMatchObject({
      status: "waiting",
      stepId: "s",
      waitUntil: T0 + 36 * HOUR,
    });
    const done = feed(plan, waiting, { kind: "timer", stepId: "s" }, T0 + 36 * HOUR);
    expect(decisions(done.effects)).toEqual(["wait.elapsed", "exit.reached", "run.completed"]);
  });

  it("rejects a negative amount, on the field", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        { id: "s", type: "wait.duration", data: { amount: -1, unit: "days" }, next: "x" },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({ code: "config.invalid", nodeId: "s", field: "amount" }),
    ]);
  });

  it("a timer that fires late still continues (at the late time)", () => {
    const plan = around({ id: "s", type: "wait.duration", data: { amount: 1, unit: "days" } });
    const done = feed(plan, enter(plan), { kind: "timer", stepId: "s" }, T0 + 3 * DAY);
    expect(done.state).toMatchObject({ status: "completed", endedAt: T0 + 3 * DAY });
  });
});
