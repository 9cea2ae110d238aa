// The registry of step views: one entry per step type, gathered from one module per family.
import type { StepType } from "../draft.ts";
import { asConfig } from "../config.ts";
import { actionViews } from "./action.ts";
import { flowViews } from "./flow.ts";
import { splitViews } from "./split.ts";
import { triggerViews } from "./trigger.ts";
import type { Branch, StepView } from "./view.ts";
import { waitViews } from "./wait.ts";

export type { Branch, StepView } from "./view.ts";
export { DEFAULT_BRANCH, NOT_CONFIGURED, formatDuration } from "./view.ts";

export const stepViews: Record<StepType, StepView> = {
  ...triggerViews,
  ...waitViews,
  ...splitViews,
  ...actionViews,
  ...flowViews,
};

export function stepLabel(type: StepType): string {
  return stepViews[type].label;
}

/** One line describing a step's config, e.g. "Event: purchase", "Wait 30 seconds". */
export function summarizeStep(type: StepType, data: unknown): string {
  return stepViews[type].summary(asConfig(data));
}

/** The step's outgoing branches, in the order their handles are drawn. */
export function branchesOf(type: StepType, data: unknown): Branch[] {
  return stepViews[type].branches(asConfig(data));
}
