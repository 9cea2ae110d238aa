import { describe, expect, it } from "vitest";
import { renderTemplate, templateContext } from "./index.ts";
import { T0, customer, enter, planOf } from "./steps/testing.ts";

describe("templates", () => {
  it("see attributes at the top level, the customer, the trigger event and earlier outputs", () => {
    const plan = planOf([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const state = enter(plan, {
      customer: customer(),
      trigger: {
        name: "purchase",
        properties: { product: { name: "Barista Pro" } },
        timestamp: T0,
      },
    }).state;
    const context = templateContext({ ...state, vars: { coupon: { code: "REG-1", value: 30 } } });
    expect(
      renderTemplate(
        "Hi {{ first_name }} ({{ customer.email }}): {{ coupon.value }}% off your {{ event.product.name }} with {{ coupon.code }}",
        context,
      ),
    ).toBe("Hi Anna (anna@example.com): 30% off your Barista Pro with REG-1");
    expect(renderTemplate("{{ missing.value | default: 'friend' }}", context)).toBe("friend");
  });

  it("renders synchronously and throws on syntax errors", () => {
    expect(renderTemplate("plain text", {})).toBe("plain text");
    expect(() => renderTemplate("{{ oops", {})).toThrow();
  });
});
