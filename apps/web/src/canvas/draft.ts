// The journey document as the canvas reads it. Types and the step catalogue come from
// @postpath/journey (the pure domain package); only canvas-specific helpers live here.
import type { StepFamily, StepType } from "@postpath/journey";

export { STEP_TYPES, isStepType, stepFamily } from "@postpath/journey";
export type { DraftEdge, DraftNode, JourneyDraft, StepFamily, StepType } from "@postpath/journey";

/** The step types of one family: `StepTypeOf<"wait">` is "wait.duration" | "wait.until" | … */
export type StepTypeOf<F extends StepFamily> = Extract<StepType, `${F}.${string}`>;
