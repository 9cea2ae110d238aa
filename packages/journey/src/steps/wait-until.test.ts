import { describe, expect, it } from "vitest";
import { HOUR, T0, actions, around, customer, decisions, enter } from "./testing.ts";

describe("wait.until", () => {
  it("waits until a wall-clock date in the customer's time zone", () => {
    const plan = around({ id: "s", type: "wait.until", data: { at: "2025-12-24T09:00" } });
    const r = enter(plan, { customer: customer({ timezone: "Europe/Berlin" }) });
    expect(actions(r.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: Date.UTC(2025, 11, 24, 8, 0) },
    ]);
  });

  it("an instant with an offset is the same for everyone", () => {
    const plan = around({ id: "s", type: "wait.until", data: { at: "2025-12-24T09:00:00Z" } });
    const r = enter(plan, { customer: customer({ timezone: "Asia/Tokyo" }) });
    expect(actions(r.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: Date.UTC(2025, 11, 24, 9, 0) },
    ]);
  });

  it("continues at once when the date has passed", () => {
    const plan = around({
      id: "s",
      type: "wait.until",
      data: { at: new Date(T0 - HOUR).toISOString() },
    });
    expect(decisions(enter(plan).effects)).toEqual([
      "entered",
      "wait.passed",
      "exit.reached",
      "run.completed",
    ]);
  });
});
