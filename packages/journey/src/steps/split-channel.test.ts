import { describe, expect, it } from "vitest";
import { around, branchTaken, customer, enter } from "./testing.ts";

describe("split.channel", () => {
  const plan = around(
    { id: "s", type: "split.channel", data: { channels: ["email", "sms", "push"] } },
    ["email", "sms", "push", "none"],
  );
  const route = (over: Parameters<typeof customer>[0]) =>
    branchTaken(enter(plan, { customer: customer(over) }).effects);

  it("follows the stated preference when the customer is reachable there", () => {
    expect(route({ attributes: { preferred_channel: "sms" } })).toBe("sms");
    expect(route({ attributes: { preferred_channel: "push", push_token: "tok" } })).toBe("push");
  });

  it("falls back to the first reachable channel", () => {
    expect(route({ attributes: { preferred_channel: "push" } })).toBe("email");
    expect(route({ email: null, attributes: { preferred_channel: "email" } })).toBe("sms");
    expect(route({ attributes: { preferred_channel: "sms", sms_opt_out: true } })).toBe("email");
  });

  it("takes 'none' when no channel reaches the customer", () => {
    expect(route({ email: null, phone: null, attributes: {} })).toBe("none");
  });
});
