// Issue 16: the editor's test run (the simulator) takes the customer's saved segments and
// lifecycle stage into account as the engine does: a saved-segment trigger starts the run only
// for a customer who entered (or left) it, splits and coupon rules on `customer.segments` /
// `customer.lifecycle_stage` follow the memberships given; coupon rules on memberships are checked
// like a split's.
import { describe, expect, it } from "vitest";
import { draftFromSteps, type StepSpec } from "./builder.ts";
import { compile } from "./compile.ts";
import { simulate } from "./simulate.ts";
import { customer } from "./steps/testing.ts";
import { validate } from "./validate.ts";

const T0 = Date.UTC(2026, 0, 15, 9, 0);

function planOf(steps: StepSpec[]) {
  const r = compile(draftFromSteps(steps));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

const journey = (trigger: Record<string, unknown>): StepSpec[] => [
  { id: "t", type: "trigger.segment", data: trigger, next: "s" },
  {
    id: "s",
    type: "split.condition",
    data: {
      conditions: [{ property: "customer.lifecycle_stage", op: "eq", value: "at_risk" }],
    },
    next: { yes: "c", no: "x" },
  },
  {
    id: "c",
    type: "action.coupon",
    data: {
      source: { kind: "pattern", pattern: "BACK-####" },
      value: { kind: "percent", amount: 10 },
      rules: [
        {
          when: [{ property: "customer.segments", op: "contains", value: "vip" }],
          value: { kind: "percent", amount: 25 },
        },
      ],
    },
    next: "x",
  },
  { id: "x", type: "flow.exit" },
];

const run = (trigger: Record<string, unknown>, segments: string[], stage: string | null) =>
  simulate(planOf(journey(trigger)), customer({ segments, lifecycleStage: stage }), [], {
    start: T0,
    until: T0 + 86_400_000,
  });

describe("issue 16: a test run with the customer's memberships", () => {
  it("a saved segment's entry starts the run only for a member, and the path follows the stage and segments", () => {
    const out = run({ segmentId: "risk", on: "enter" }, ["risk", "vip"], "at_risk");
    expect(out.entered).toBe(true);
    expect(out.path).toEqual(["t", "s", "c", "x"]);
    const coupon = out.effects.find((e) => e.effect.kind === "issueCoupon")?.effect;
    expect(coupon).toMatchObject({ value: { kind: "percent", amount: 25 } });

    // In the segment but not a VIP: the default value.
    const plain = run({ segmentId: "risk", on: "enter" }, ["risk"], "at_risk");
    expect(plain.effects.find((e) => e.effect.kind === "issueCoupon")?.effect).toMatchObject({
      value: { kind: "percent", amount: 10 },
    });

    // Another stage: the split's "no" path.
    expect(run({ segmentId: "risk", on: "enter" }, ["risk"], "active").path).toEqual([
      "t",
      "s",
      "x",
    ]);

    // Not in the segment: no run, and the reason says so.
    const out2 = run({ segmentId: "risk", on: "enter" }, ["vip"], "at_risk");
    expect(out2.entered).toBe(false);
    expect(out2.notEntered).toBe("the customer is not in the segment");
  });

  it("a segment's exit starts the run for a customer no longer in it", () => {
    expect(run({ segmentId: "risk", on: "leave" }, [], "lapsed").entered).toBe(true);
    const still = run({ segmentId: "risk", on: "leave" }, ["risk"], "at_risk");
    expect(still.entered).toBe(false);
    expect(still.notEntered).toMatch(/still in the segment/);
  });

  it("conditions on the customer still decide entry by their attributes", () => {
    const trigger = { conditions: [{ property: "tier", op: "eq", value: "gold" }] };
    const plan = planOf(journey(trigger));
    const opts = { start: T0, until: T0 + 1000 };
    expect(simulate(plan, customer({ attributes: { tier: "gold" } }), [], opts).entered).toBe(true);
    expect(simulate(plan, customer({ attributes: { tier: "tin" } }), [], opts).entered).toBe(false);
  });

  it("a coupon rule on memberships is checked like a split's condition", () => {
    const steps = journey({ segmentId: "risk" });
    const coupon = steps[2]!;
    const rules = [
      {
        when: [
          { property: "customer.segments", op: "eq", value: "vip" },
          { property: "customer.lifecycle_stage", op: "eq", value: "sleepy" },
          { property: "customer.segments", op: "contains", value: "gone" },
        ],
        value: { kind: "percent", amount: 25 },
      },
    ];
    const issues = validate(
      draftFromSteps([
        steps[0]!,
        steps[1]!,
        { ...coupon, data: { ...coupon.data, rules } },
        steps[3]!,
      ]),
      { segments: ["risk", "vip"] },
    ).filter((i) => i.nodeId === "c");
    expect(issues.map((i) => [i.code, i.field, i.severity ?? "error"])).toEqual([
      ["condition.segment_op", "rules.0.when.0.op", "error"],
      ["condition.stage_value", "rules.0.when.1.value", "error"],
      ["condition.unknown_segment", "rules.0.when.2.value", "warning"],
    ]);
  });
});
