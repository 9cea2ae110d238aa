import { describe, expect, it } from "vitest";
import { actions, around, customer, enter } from "./testing.ts";

describe("action.push", () => {
  it("sends title, body and url; quiet hours only apply to the listed channels", () => {
    const plan = around(
      {
        id: "s",
        type: "action.push",
        data: { title: "Your coupon", body: "{{ coupon.code }}", url: "https://shop.example/c" },
      },
      ["next"],
      { quietHours: { start: "21:00", end: "08:00", channels: ["sms"] } },
    );
    expect(
      actions(enter(plan, { customer: customer({ timezone: "Australia/Sydney" }) }).effects),
    ).toEqual([
      {
        kind: "send",
        stepId: "s",
        channel: "push",
        message: { title: "Your coupon", body: "{{ coupon.code }}", url: "https://shop.example/c" },
      },
    ]);
  });
});
