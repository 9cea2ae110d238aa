/**
 * Constants of the journey language that the editor's first draw needs (the segment directory,
 * the test run's store), kept here too so that code need not import @postpath/journey, whose
 * values come with zod's schemas of every step type and LiquidJS (language.ts; issue 18 item 5).
 * `issue-018-first-draw.test.ts` checks each equals the journey language's.
 */
import type { LifecycleStage } from "@postpath/journey";

/** The customer field a "is in segment" condition reads (@postpath/journey `SEGMENTS_PATH`). */
export const SEGMENTS_PATH = "customer.segments";
/** The customer field a lifecycle stage condition reads (`LIFECYCLE_STAGE_PATH`). */
export const LIFECYCLE_STAGE_PATH = "customer.lifecycle_stage";
/** Comparisons that make sense on each membership field (`SEGMENT_OPS`, `LIFECYCLE_OPS`). */
export const SEGMENT_OPS = ["contains", "notContains"] as const;
export const LIFECYCLE_OPS = ["eq", "neq", "in", "notIn"] as const;
/** The lifecycle stages and their names (`LIFECYCLE_STAGES`, `LIFECYCLE_STAGE_NAMES`). */
export const LIFECYCLE_STAGES = [
  "new",
  "repeat",
  "active",
  "at_risk",
  "lapsed",
] as const satisfies readonly LifecycleStage[];
export const LIFECYCLE_STAGE_NAMES: Readonly<Record<LifecycleStage, string>> = {
  new: "New",
  repeat: "Repeat",
  active: "Active",
  at_risk: "At risk",
  lapsed: "Lapsed",
};
export type { LifecycleStage };
