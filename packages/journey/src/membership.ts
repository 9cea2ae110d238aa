// issue 16: splits by saved segment and by lifecycle stage. They are ordinary conditions on two
// built-in customer fields, so splits, multi-branch splits and coupon rules need no new kind:
//   `customer.segments`        contains / does not contain a saved segment's id ("is in segment");
//   `customer.lifecycle_stage` equals / does not equal / is one of the stages (`at_risk`).
// The engine fills both from the membership table before a run of a plan that reads them
// advances (packages/engine/src/runner.ts); the editor draws them with segment and stage pickers.
import type { Condition } from "./conditions.ts";
import type { Plan } from "./plan.ts";
import { LIFECYCLE_STAGE_NAMES, LIFECYCLE_STAGES } from "./segments.ts";
import type { CheckIssue, Catalog } from "./steps/module.ts";

export const SEGMENTS_PATH = "customer.segments";
export const LIFECYCLE_STAGE_PATH = "customer.lifecycle_stage";

/** Comparisons that make sense on each membership field. */
export const SEGMENT_OPS = ["contains", "notContains"] as const;
export const LIFECYCLE_OPS = ["eq", "neq", "in", "notIn"] as const;

/** Whether a condition reads segment membership or the lifecycle stage. */
export function isMembershipCondition(c: Pick<Condition, "property">): boolean {
  return c.property === SEGMENTS_PATH || c.property === LIFECYCLE_STAGE_PATH;
}

const planReads = new WeakMap<Plan, boolean>();

/**
 * Whether any step of the plan reads `customer.segments` or `customer.lifecycle_stage` (a split,
 * a coupon rule…): only such runs need the customer's memberships. Computed once per plan object.
 */
export function planReadsMemberships(plan: Plan): boolean {
  let yes = planReads.get(plan);
  if (yes === undefined) {
    const text = JSON.stringify(plan.steps);
    yes = text.includes(`"${SEGMENTS_PATH}"`) || text.includes(`"${LIFECYCLE_STAGE_PATH}"`);
    planReads.set(plan, yes);
  }
  return yes;
}

const STAGE_LIST = LIFECYCLE_STAGES.map((s) => LIFECYCLE_STAGE_NAMES[s]).join(", ");

/**
 * Problems with membership conditions at `fieldOf(i)`: a comparison that cannot work on the
 * field, a value that is no segment or stage (errors), a segment the workspace does not have
 * (a warning, when the catalogue lists its segments: it may have been deleted).
 */
export function membershipIssues(
  conditions: readonly Condition[],
  fieldOf: (i: number) => string,
  catalog: Catalog,
): CheckIssue[] {
  const issues: CheckIssue[] = [];
  const known = catalog.segments ? new Set(catalog.segments) : null;
  conditions.forEach((c, i) => {
    const at = fieldOf(i);
    if (c.property === SEGMENTS_PATH) {
      if (!(SEGMENT_OPS as readonly string[]).includes(c.op)) {
        issues.push({
          code: "condition.segment_op",
          field: `${at}.op`,
          message: `Choose "is in segment" or "is not in segment".`,
        });
      } else if (typeof c.value !== "string" || c.value === "") {
        issues.push({
          code: "condition.segment_value",
          field: `${at}.value`,
          message: "Choose a saved segment.",
        });
      } else if (known && !known.has(c.value)) {
        issues.push({
          code: "condition.unknown_segment",
          severity: "warning",
          field: `${at}.value`,
          message:
            "This segment no longer exists in the workspace (deleted?): nobody is in it. Choose another one.",
        });
      }
    } else if (c.property === LIFECYCLE_STAGE_PATH) {
      if (!(LIFECYCLE_OPS as readonly string[]).includes(c.op)) {
        issues.push({
          code: "condition.stage_op",
          field: `${at}.op`,
          message: `Choose "is" or "is not" for the lifecycle stage.`,
        });
        return;
      }
      const values = Array.isArray(c.value) ? (c.value as unknown[]) : [c.value];
      const bad = values.some(
        (v) => typeof v !== "string" || !(LIFECYCLE_STAGES as readonly string[]).includes(v),
      );
      if (bad || values.length === 0)
        issues.push({
          code: "condition.stage_value",
          field: `${at}.value`,
          message: `Choose a lifecycle stage: ${STAGE_LIST}.`,
        });
    }
  });
  return issues;
}

/** A saved segment chosen by id that the workspace does not have (a warning). */
export function unknownSegmentIssue(
  segmentId: string | undefined,
  field: string,
  catalog: Catalog,
): CheckIssue[] {
  if (!segmentId || !catalog.segments || catalog.segments.includes(segmentId)) return [];
  return [
    {
      code: "trigger.unknown_segment",
      severity: "warning",
      field,
      message:
        "This segment no longer exists in the workspace (deleted?): nobody can enter or leave it. Choose another one.",
    },
  ];
}
