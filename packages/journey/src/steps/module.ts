// What every step module provides. Each step type lives in its own file (schema + validation +
// behaviour) and is gathered in `registry.ts`.
import type { z } from "zod";
import type { Plan, PlanStep } from "../plan.ts";
import type { StepFamily, StepType } from "../schema.ts";
import type { JourneySettings } from "../settings.ts";
import type { Correlation, CustomerSnapshot, Effect, JourneyEvent, RunState } from "../state.ts";
import type { ValidationIssue } from "../issues.ts";

/** Branches a step leaves by. `required` must each be connected exactly once; `optional` at most once. */
export type Branches = { required: readonly string[]; optional?: readonly string[] };

/**
 * What validation knows beyond the draft: optional catalogue from the workspace — what it has
 * observed so far (customers' attributes, recent events' properties). Observations can be
 * incomplete (an attribute may arrive after publishing), so what is checked against them is
 * reported as a warning, never an error. `webhookOrigin` is configuration, not an observation:
 * what breaks it is an error.
 */
export type Catalog = {
  /** Known customer attribute names; when given, template variables are checked against them. */
  attributes?: readonly string[];
  /** Known properties per event name; when given, correlation keys and `event.*` are checked. */
  eventProperties?: Readonly<Record<string, readonly string[]>>;
  /** The origin (scheme://host[:port]) the workspace's webhook connection is bound to: webhook
   * steps may only choose a path on it (its secret headers go nowhere else). */
  webhookOrigin?: string;
  /** issue 16: the ids of the workspace's saved segments (lifecycle stages included); when given,
   * a trigger or a split naming another id is a warning (a deleted segment). */
  segments?: readonly string[];
  /** issue 16: the workspace's landing pages by address (slug), with their names and whether
   * one is published; when given, a PURL step naming another address, or a page not published,
   * is a warning (its links would open "This link has expired"). */
  pages?: Readonly<Record<string, { name: string; published: boolean }>>;
  /** issue 16: the workspace's coupon pools, by name and by id; when given, a coupon step
   * drawing from another pool is a warning (the step would fail). */
  couponPools?: readonly string[];
};

export type TriggerInfo = {
  type: StepType;
  /** Name of the event that starts a run, if the trigger is event-based. */
  event: string | null;
  /** Properties the trigger event is known to carry (null: unknown, any may be present). */
  properties: readonly string[] | null;
  /** `properties` were observed (the catalogue), not declared by the trigger: a property missing
   * from them may still arrive, so reading one is a warning rather than an error. */
  observed?: boolean;
};

export type CheckContext = {
  nodeId: string;
  trigger: TriggerInfo | null;
  catalog: Catalog;
};

export type CheckIssue = Omit<ValidationIssue, "nodeId">;

export type StepEnv<C> = {
  plan: Plan;
  step: PlanStep;
  config: C;
  /** A working copy: modules may update `customer`, `vars` and `outputs`. */
  state: RunState;
  now: number;
  /** The customer's time zone (or the journey default). */
  timeZone: string;
  settings: JourneySettings;
};

type Traced = { decision: string; detail?: Record<string, unknown> };

/** What a step decides when it runs or resumes. The interpreter turns it into effects and state. */
export type Outcome =
  | (Traced & { kind: "go"; branch: string; effects?: Effect[] })
  | (Traced & { kind: "wait"; until: number; held?: boolean })
  | (Traced & { kind: "park"; event: string; correlation: Correlation | null; until: number })
  | (Traced & { kind: "await"; effect: Effect })
  | (Traced & { kind: "end"; how: "complete" | "exit"; reason: string; effects?: Effect[] });

export type ResultInput =
  { ok: true; output?: Record<string, unknown> } | { ok: false; error: string };

/** A name a step adds to the template context on some of its branches. `attribute`: it is a
 * customer attribute (so it may exist before the step too). `fields`: what later templates read
 * under it (`{{ purl.url }}`), as the engine's output has them; absent: not known in advance
 * (a webhook's response), so any field is accepted. `observed`: the fields are what the
 * workspace has seen so far (an awaited event's properties), so another may still arrive. */
export type Provided = {
  name: string;
  on: readonly string[];
  attribute?: boolean;
  fields?: readonly string[];
  observed?: boolean;
};

export interface StepModule<C> {
  type: StepType;
  family: StepFamily;
  /** A short name a marketer recognises ("Send email"). */
  label: string;
  /** Parses the node's `data` into the step's config. */
  schema: z.ZodType<C>;
  /** Data a new node starts with on the canvas (may be incomplete). */
  defaults: Record<string, unknown>;
  branches: (config: C) => Branches;
  /** Checks beyond the schema (field-level). */
  check?: (config: C, ctx: CheckContext) => CheckIssue[];
  /** Liquid templates in the config, with the field they come from. */
  templates?: (config: C) => { field: string; template: string }[];
  /** Context paths the step reads outside templates (split conditions, date properties). */
  references?: (config: C) => { field: string; path: string }[];
  /** Names this step adds to the template context of the steps after it, and on which branches. */
  /** `catalog`: what the workspace has observed, for outputs whose fields are observed ones
   * (an awaited event's properties). */
  provides?: (config: C, catalog?: Catalog) => Provided[];
  /** For triggers: what the run starts from. */
  triggerInfo?: (config: C, catalog: Catalog) => TriggerInfo;
  /** For triggers: whether an incoming event (or the customer, for segments) starts a run. */
  matches?: (
    config: C,
    event: { name: string; properties: Record<string, unknown> },
    customer: CustomerSnapshot,
  ) => boolean;
  /** Runs when the run arrives at the step. */
  enter: (env: StepEnv<C>) => Outcome;
  /** A timer this step scheduled fired. */
  timer?: (env: StepEnv<C>) => Outcome;
  /** An event arrived while the run is parked here; null when it is not the awaited one. */
  event?: (env: StepEnv<C>, event: JourneyEvent) => Outcome | null;
  /** The result of the effect this step awaits. */
  result?: (env: StepEnv<C>, result: ResultInput) => Outcome;
}

/** A registry entry with its config type erased (the schema guarantees it at runtime). */
export type AnyStepModule = StepModule<unknown>;

export function defineStep<C>(module: StepModule<C>): AnyStepModule {
  return module as unknown as AnyStepModule;
}

export const NEXT_ONLY: Branches = { required: ["next"] };
