// The journey draft as the canvas reads it, and the step catalogue (type, family, label).
// Mirrors the document owned by @postpath/journey (see DESIGN.md "The journey document").

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

export type StepType = (typeof STEP_TYPES)[number];

/** The part before the dot: each family gets its own node component on the canvas. */
export type StepFamily = StepType extends `${infer F}.${string}` ? F : never;
export type StepTypeOf<F extends StepFamily> = Extract<StepType, `${F}.${string}`>;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface DraftNode {
  id: string;
  type: StepType;
  position: { x: number; y: number };
  data: unknown;
}

export interface DraftEdge {
  id: string;
  source: string;
  sourceHandle?: string | null;
  target: string;
}

export interface JourneyDraft {
  schemaVersion: 1;
  settings: unknown;
  nodes: DraftNode[];
  edges: DraftEdge[];
}

export function isStepType(value: string): value is StepType {
  return (STEP_TYPES as readonly string[]).includes(value);
}

export function stepFamily<T extends StepType>(type: T): StepFamily {
  return type.slice(0, type.indexOf(".")) as StepFamily;
}
