import { describe, expect, it } from "vitest";
import { actions, around, customer, enter, feed } from "./testing.ts";

// T0 is Monday 2025-01-06 12:00 UTC.
describe("wait.timeOfDay", () => {
  it("waits for the next 09:00 in the customer's zone", () => {
    const plan = around({ id: "s", type: "wait.timeOfDay", data: { time: "09:00" } });
    // 12:00 UTC = 13:00 in Berlin: tomorrow 09:00 Berlin = 08:00 UTC.
    expect(
      actions(enter(plan, { customer: customer({ timezone: "Europe/Berlin" }) }).effects),
    ).toEqual([{ kind: "schedule", stepId: "s", at: Date.UTC(2025, 0, 7, 8, 0) }]);
    // 12:00 UTC = 04:00 in Los Angeles: today 09:00 = 17:00 UTC.
    expect(
      actions(enter(plan, { customer: customer({ timezone: "America/Los_Angeles" }) }).effects),
    ).toEqual([{ kind: "schedule", stepId: "s", at: Date.UTC(2025, 0, 6, 17, 0) }]);
  });

  it("only on allowed weekdays", () => {
    const plan = around({
      id: "s",
      type: "wait.timeOfDay",
      data: { time: "10:00", days: ["sat", "sun"] },
    });
    const r = enter(plan);
    expect(actions(r.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: Date.UTC(2025, 0, 11, 10, 0) },
    ]);
    expect(
      feed(plan, r, { kind: "timer", stepId: "s" }, Date.UTC(2025, 0, 11, 10, 0)).state.status,
    ).toBe("completed");
  });

  it("keeps local time across a DST change", () => {
    const plan = around({ id: "s", type: "wait.timeOfDay", data: { time: "09:00" } });
    // Saturday 29 March 2025 12:00 UTC; Berlin switches to summer time on Sunday 30 March.
    const sat = Date.UTC(2025, 2, 29, 12, 0);
    const r = enter(plan, { customer: customer({ timezone: "Europe/Berlin" }), now: sat });
    expect(actions(r.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: Date.UTC(2025, 2, 30, 7, 0) },
    ]);
  });
});
