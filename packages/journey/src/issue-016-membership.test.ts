// Issue 16: splits by saved segment and lifecycle stage are conditions on `customer.segments`
// and `customer.lifecycle_stage`. They read as words, the validator catches comparisons that
// cannot work, values that are no stage, and (a warning) a segment the workspace no longer has;
// a segment trigger's own conditions cannot use them (a saved segment's entry does that).
import { describe, expect, it } from "vitest";
import { describeCondition } from "./conditions.ts";
import { draftFromSteps } from "./builder.ts";
import { compile } from "./compile.ts";
import { planReadsMemberships } from "./membership.ts";
import { validate } from "./validate.ts";
import type { StepSpec } from "./builder.ts";

const split = (conditions: unknown[]): StepSpec[] => [
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "s" },
  { id: "s", type: "split.condition", data: { conditions }, next: { yes: "a", no: "b" } },
  { id: "a", type: "flow.exit" },
  { id: "b", type: "flow.exit" },
];
const issuesOf = (steps: StepSpec[], segments?: string[]) =>
  validate(draftFromSteps(steps), segments ? { segments } : {}).map((i) => ({
    code: i.code,
    field: i.field,
    severity: i.severity ?? "error",
  }));

describe("membership conditions", () => {
  it("read as words", () => {
    expect(describeCondition({ property: "customer.segments", op: "contains", value: "s1" })).toBe(
      'is in segment "s1"',
    );
    expect(
      describeCondition({ property: "customer.segments", op: "notContains", value: "s1" }),
    ).toBe('is not in segment "s1"');
    expect(
      describeCondition({ property: "customer.lifecycle_stage", op: "eq", value: "at_risk" }),
    ).toBe('lifecycle stage equals "at_risk"');
  });

  it("are valid with a known segment and a stage, and the plan says it reads them", () => {
    const steps = split([
      { property: "customer.segments", op: "contains", value: "s1" },
      { property: "customer.lifecycle_stage", op: "in", value: ["at_risk", "lapsed"] },
    ]);
    expect(issuesOf(steps, ["s1"])).toEqual([]);
    const result = compile(draftFromSteps(steps));
    expect(result.ok && planReadsMemberships(result.plan)).toBe(true);
    const plain = compile(draftFromSteps(split([{ property: "tier", op: "eq", value: "gold" }])));
    expect(plain.ok && planReadsMemberships(plain.plan)).toBe(false);
  });

  it("warn on an unknown segment, refuse comparisons and stages that cannot work", () => {
    expect(
      issuesOf(split([{ property: "customer.segments", op: "contains", value: "gone" }]), ["s1"]),
    ).toEqual([
      { code: "condition.unknown_segment", field: "conditions.0.value", severity: "warning" },
    ]);
    // Without the workspace's list nothing is flagged.
    expect(
      issuesOf(split([{ property: "customer.segments", op: "contains", value: "x" }])),
    ).toEqual([]);
    expect(
      issuesOf(
        split([
          { property: "customer.segments", op: "gt", value: "s1" },
          { property: "customer.lifecycle_stage", op: "eq", value: "vip" },
          { property: "customer.lifecycle_stage", op: "contains", value: "new" },
        ]),
        ["s1"],
      ),
    ).toEqual([
      { code: "condition.segment_op", field: "conditions.0.op", severity: "error" },
      { code: "condition.stage_value", field: "conditions.1.value", severity: "error" },
      { code: "condition.stage_op", field: "conditions.2.op", severity: "error" },
    ]);
    expect(
      issuesOf(
        [
          { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "s" },
          {
            id: "s",
            type: "split.multi",
            data: {
              branches: [
                {
                  id: "vip",
                  conditions: [{ property: "customer.segments", op: "contains", value: "gone" }],
                },
              ],
            },
            next: { vip: "a", else: "a" },
          },
          { id: "a", type: "flow.exit" },
        ],
        ["s1"],
      ),
    ).toEqual([
      {
        code: "condition.unknown_segment",
        field: "branches.0.conditions.0.value",
        severity: "warning",
      },
    ]);
  });

  it("a segment trigger warns on a deleted saved segment and refuses membership conditions", () => {
    const trigger = (data: Record<string, unknown>): StepSpec[] => [
      { id: "t", type: "trigger.segment", data, next: "a" },
      { id: "a", type: "flow.exit" },
    ];
    expect(issuesOf(trigger({ segmentId: "s1", on: "leave" }), ["s1"])).toEqual([]);
    expect(issuesOf(trigger({ segmentId: "gone" }), ["s1"])).toEqual([
      { code: "trigger.unknown_segment", field: "segmentId", severity: "warning" },
    ]);
    expect(
      issuesOf(
        trigger({
          conditions: [{ property: "customer.lifecycle_stage", op: "eq", value: "new" }],
        }),
      ),
    ).toEqual([
      { code: "trigger.membership_condition", field: "conditions.0.property", severity: "error" },
    ]);
  });
});
