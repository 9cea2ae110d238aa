// The canvas's view of every step type. Labels and branch ids come from @postpath/journey's step
// registry (one source of truth with validation and the interpreter); the one-line summaries and
// branch labels are presentation, kept here in one module per family.
import { branchesFor, stepModule } from "@postpath/journey";
import type { StepType } from "../draft.ts";
import { asConfig } from "../config.ts";
import { actionViews } from "./action.ts";
import { flowViews } from "./flow.ts";
import { splitViews } from "./split.ts";
import { triggerViews } from "./trigger.ts";
import type { StepView } from "./view.ts";
import { waitViews } from "./wait.ts";

export type { StepView } from "./view.ts";
export { NOT_CONFIGURED, formatDuration } from "./view.ts";

/** The branch an edge without a `sourceHandle` leaves from ("next"; ../branches.ts). */
export { DEFAULT_BRANCH } from "../branches.ts";

export interface Branch {
  /** The edges' `sourceHandle`. */
  id: string;
  /** Shown beside the handle; empty for the single "next" output most steps have. */
  label: string;
  /** A branch that may stay unconnected (a goal's "next"). */
  optional: boolean;
}

export const stepViews: Record<StepType, StepView> = {
  ...triggerViews,
  ...waitViews,
  ...splitViews,
  ...actionViews,
  ...flowViews,
};

const BRANCH_LABELS: Readonly<Record<string, string>> = {
  next: "",
  yes: "Yes",
  no: "No",
  else: "Else",
  arrived: "Arrived",
  timedOut: "Timed out",
  error: "Failed",
  none: "None",
  holdout: "Holdout",
};

/** A short name a marketer recognises ("Send email"), from the step registry. */
export function stepLabel(type: StepType): string {
  return stepModule(type).label;
}

/** One line describing a step's config, e.g. "Event: purchase", "Wait 30 seconds". */
export function summarizeStep(type: StepType, data: unknown): string {
  return stepViews[type].summary(asConfig(data));
}

/**
 * Branches already worked out, per config object and step type. A config is never changed in
 * place (the editor store replaces it), and working the branches out parses the config with its
 * schema: without this, loading or editing a 1,000-step journey parsed every step again.
 */
const branchCache = new WeakMap<object, Map<StepType, Branch[]>>();

/** The step's outgoing branches, in the order their handles are drawn. */
export function branchesOf(type: StepType, data: unknown): Branch[] {
  if (typeof data !== "object" || data === null) return computeBranches(type, data);
  let byType = branchCache.get(data);
  if (!byType) branchCache.set(data, (byType = new Map<StepType, Branch[]>()));
  let branches = byType.get(type);
  if (!branches) byType.set(type, (branches = computeBranches(type, data)));
  return [...branches];
}

function computeBranches(type: StepType, data: unknown): Branch[] {
  const config = asConfig(data);
  const { required, optional } = branchesFor(type, data);
  const label = (id: string) =>
    stepViews[type].branchLabel?.(id, config) ?? BRANCH_LABELS[id] ?? id;
  return [
    ...required.map((id) => ({ id, label: label(id), optional: false })),
    ...optional.map((id) => ({ id, label: label(id), optional: true })),
  ];
}
