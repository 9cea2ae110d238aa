import type { StepType } from "./schema.ts";
import type { JourneySettings } from "./settings.ts";

export type PlanStep = {
  id: string;
  type: StepType;
  /** The step's configuration, parsed by its schema (defaults filled in). */
  config: unknown;
  /** Resolved next step per branch; null means the branch ends the run there. */
  next: Record<string, string | null>;
};

/** An immutable, executable journey: what publishing stores as a JourneyVersion. */
export type Plan = {
  schemaVersion: number;
  settings: JourneySettings;
  triggerStepId: string;
  steps: Record<string, PlanStep>;
};
