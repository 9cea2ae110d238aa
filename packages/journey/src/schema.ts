// The journey document: the draft the canvas edits, the step types and the small shared shapes
// (durations, property conditions) that several step modules use.
import { z } from "zod";
import { JourneySettings } from "./settings.ts";

export const SCHEMA_VERSION = 1 as const;

/** Persisted discriminator strings: never rename one, only add. */
export const STEP_TYPES = [
  "trigger.event",
  "trigger.segment",
  "trigger.date",
  "trigger.manual",
  "trigger.form",
  "wait.duration",
  "wait.until",
  "wait.timeOfDay",
  "wait.dateProperty",
  "wait.event",
  "split.condition",
  "split.multi",
  "split.random",
  "split.channel",
  "action.email",
  "action.sms",
  "action.push",
  "action.webhook",
  "action.notify",
  "action.attribute",
  "action.tag",
  "action.coupon",
  "action.purl",
  "flow.goal",
  "flow.exit",
] as const;

export const StepType = z.enum(STEP_TYPES);
export type StepType = z.infer<typeof StepType>;

export type StepFamily = StepType extends `${infer F}.${string}` ? F : never;

export function stepFamily(type: StepType): StepFamily {
  return type.slice(0, type.indexOf(".")) as StepFamily;
}

export function isStepType(value: unknown): value is StepType {
  return typeof value === "string" && (STEP_TYPES as readonly string[]).includes(value);
}

export const DraftNode = z.object({
  id: z.string().min(1),
  type: StepType,
  position: z.object({ x: z.number(), y: z.number() }),
  data: z.record(z.string(), z.unknown()),
});
export type DraftNode = z.infer<typeof DraftNode>;

export const DraftEdge = z.object({
  id: z.string().min(1),
  source: z.string().min(1),
  /** The branch this edge leaves from; null/undefined means "next". */
  sourceHandle: z.string().nullish(),
  target: z.string().min(1),
});
export type DraftEdge = z.infer<typeof DraftEdge>;

export const JourneyDraft = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  settings: JourneySettings,
  nodes: z.array(DraftNode),
  edges: z.array(DraftEdge),
});
/** What `JourneyDraft.parse` accepts (settings may be partial: defaults fill the rest). */
export type JourneyDraftInput = z.input<typeof JourneyDraft>;
export type JourneyDraft = z.infer<typeof JourneyDraft>;

export const DEFAULT_BRANCH = "next";

/** The branch an edge leaves from. */
export function edgeBranch(edge: { sourceHandle?: string | null }): string {
  return edge.sourceHandle ?? DEFAULT_BRANCH;
}
