import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { T0, actions, around, customer, decisions, enter } from "./testing.ts";

describe("wait.dateProperty", () => {
  it("waits until three days before an attribute's date, at a local time", () => {
    const plan = around({
      id: "s",
      type: "wait.dateProperty",
      data: { property: "renewal_date", offset: { amount: -3, unit: "days" }, at: "10:00" },
    });
    const r = enter(plan, {
      customer: customer({ timezone: "Europe/Berlin", attributes: { renewal_date: "2025-03-01" } }),
    });
    expect(actions(r.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: Date.UTC(2025, 1, 26, 9, 0) },
    ]);
  });

  it("reads a date from the trigger event", () => {
    const plan = around({
      id: "s",
      type: "wait.dateProperty",
      data: { property: "event.delivery_date", offset: { amount: 1, unit: "days" } },
    });
    const r = enter(plan, {
      trigger: {
        name: "order_shipped",
        properties: { delivery_date: "2025-01-10" },
        timestamp: T0,
      },
    });
    expect(actions(r.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: Date.UTC(2025, 0, 11, 0, 0) },
    ]);
  });

  it("continues or exits when the date is missing, as configured", () => {
    const goOn = around({ id: "s", type: "wait.dateProperty", data: { property: "renewal_date" } });
    expect(decisions(enter(goOn).effects)).toEqual([
      "entered",
      "wait.dateMissing",
      "exit.reached",
      "run.completed",
    ]);
    const stop = around({
      id: "s",
      type: "wait.dateProperty",
      data: { property: "renewal_date", ifMissing: "exit" },
    });
    const r = enter(stop);
    expect(r.state).toMatchObject({ status: "exited", exitReason: "renewal_date is not a date" });
  });

  it("continues at once when the date has passed", () => {
    const plan = around({ id: "s", type: "wait.dateProperty", data: { property: "renewal_date" } });
    expect(
      decisions(
        enter(plan, { customer: customer({ attributes: { renewal_date: "2024-01-01" } }) }).effects,
      ),
    ).toContain("wait.passed");
  });

  it("flags an event property when the journey starts from a segment", () => {
    const issues = validate(
      draftFromSteps([
        {
          id: "t",
          type: "trigger.segment",
          data: { conditions: [{ property: "vip", op: "eq", value: true }] },
          next: "s",
        },
        {
          id: "s",
          type: "wait.dateProperty",
          data: { property: "event.delivery_date" },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        code: "template.unknown_variable",
        nodeId: "s",
        field: "property",
      }),
    ]);
  });
});
