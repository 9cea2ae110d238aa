import { describe, expect, it } from "vitest";
import { fillCouponPattern, validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { DAY, T0, actions, around, enter, feed } from "./testing.ts";

const coupon = {
  id: "s",
  type: "action.coupon" as const,
  data: {
    source: { kind: "pattern", pattern: "REG-########" },
    value: { kind: "percent", amount: 25 },
    rules: [
      {
        when: [{ property: "event.tier", op: "eq", value: "premium" }],
        value: { kind: "percent", amount: 30 },
      },
    ],
    expiresIn: { amount: 30, unit: "days" },
  },
};

describe("action.coupon", () => {
  const plan = around(coupon);
  const purchase = (tier: string) => ({ name: "purchase", properties: { tier }, timestamp: T0 });

  it("resolves the value from data: the first matching rule, else the default", () => {
    const premium = actions(enter(plan, { trigger: purchase("premium") }).effects)[0];
    expect(premium).toEqual({
      kind: "issueCoupon",
      stepId: "s",
      source: { kind: "pattern", pattern: "REG-########" },
      value: { kind: "percent", amount: 30 },
      expiresAt: T0 + 30 * DAY,
      seed: "run-1:s",
    });
    const basic = actions(enter(plan, { trigger: purchase("basic") }).effects)[0];
    expect(basic?.kind === "issueCoupon" && basic.value).toEqual({ kind: "percent", amount: 25 });
  });

  it("exposes the issued code and value as `coupon` to later steps", () => {
    const r = feed(
      plan,
      enter(plan, { trigger: purchase("premium") }),
      { kind: "result", stepId: "s", ok: true, output: { code: "REG-ABCD1234" } },
      T0,
    );
    expect(r.state.vars["coupon"]).toEqual({
      code: "REG-ABCD1234",
      value: 30,
      valueKind: "percent",
    });
  });

  it("generates pattern codes deterministically from the seed", () => {
    const a = fillCouponPattern("REG-########", "run-1:s");
    expect(a).toMatch(/^REG-[A-Z2-9]{8}$/);
    expect(fillCouponPattern("REG-########", "run-1:s")).toBe(a);
    expect(fillCouponPattern("REG-########", "run-2:s")).not.toBe(a);
  });

  it("rejects a percentage over 100 and a pattern without #", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        {
          id: "s",
          type: "action.coupon",
          data: {
            source: { kind: "pattern", pattern: "FIXED" },
            value: { kind: "percent", amount: 130 },
          },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues.map((i) => [i.code, i.field])).toEqual([["config.invalid", "source.pattern"]]);
    const value = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        {
          id: "s",
          type: "action.coupon",
          data: {
            source: { kind: "pool", pool: "spring" },
            value: { kind: "percent", amount: 130 },
          },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(value.map((i) => [i.code, i.field])).toEqual([["coupon.value", "value.amount"]]);
  });

  it("issue 16: a pool the workspace lacks (by name or id) is a warning on the step", () => {
    const draft = (pool: string) =>
      draftFromSteps([
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "c" },
        {
          id: "c",
          type: "action.coupon",
          data: { source: { kind: "pool", pool }, value: { kind: "percent", amount: 10 } },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ]);
    const couponPools = ["Spring codes", "pool-1"];
    expect(validate(draft("Spring codes"), { couponPools })).toEqual([]);
    expect(validate(draft("pool-1"), { couponPools })).toEqual([]);
    expect(validate(draft("Summer"), { couponPools })).toEqual([
      expect.objectContaining({
        code: "coupon.unknown_pool",
        severity: "warning",
        nodeId: "c",
        field: "source.pool",
      }),
    ]);
    expect(validate(draft("Summer"), {})).toEqual([]);
  });
});
