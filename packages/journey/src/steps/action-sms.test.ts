import { describe, expect, it } from "vitest";
import { T0, actions, around, customer, enter, feed } from "./testing.ts";

describe("action.sms", () => {
  const plan = around(
    { id: "s", type: "action.sms", data: { body: "Hi {{ first_name }}, sale today!" } },
    ["next"],
    {
      quietHours: { start: "20:00", end: "09:00", mode: "hold", channels: ["sms"] },
    },
  );

  it("sends the body and completes on success", () => {
    const r = enter(plan);
    expect(actions(r.effects)).toEqual([
      {
        kind: "send",
        stepId: "s",
        channel: "sms",
        message: { body: "Hi {{ first_name }}, sale today!" },
      },
    ]);
    const done = feed(
      plan,
      r,
      { kind: "result", stepId: "s", ok: true, output: { providerId: "p1" } },
      T0,
    );
    expect(done.state.status).toBe("completed");
  });

  it("respects quiet hours for SMS", () => {
    // 12:00 UTC = 21:00 in Tokyo → held until 09:00 Tokyo = 00:00 UTC next day.
    const r = enter(plan, { customer: customer({ timezone: "Asia/Tokyo" }) });
    expect(actions(r.effects)).toEqual([
      { kind: "schedule", stepId: "s", at: Date.UTC(2025, 0, 7, 0, 0) },
    ]);
  });
});
