// Run state, interpreter inputs and effects: plain JSON-serialisable data.
import { z } from "zod";
import type { CouponSource, CouponValue } from "./steps/action-coupon.ts";

export const CustomerSnapshot = z.object({
  id: z.string(),
  externalId: z.string(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  timezone: z.string().nullish(),
  attributes: z.record(z.string(), z.unknown()).default({}),
  tags: z.array(z.string()).default([]),
  /** issue 16: the saved segments the customer is in (ids) and their lifecycle stage, filled in by
   * the engine for plans that read them (`customer.segments`, `customer.lifecycle_stage`). */
  segments: z.array(z.string()).optional(),
  lifecycleStage: z.string().nullish(),
});
export type CustomerSnapshot = z.infer<typeof CustomerSnapshot>;

export const JourneyEvent = z.object({
  name: z.string(),
  properties: z.record(z.string(), z.unknown()).default({}),
  timestamp: z.number(),
});
export type JourneyEvent = z.infer<typeof JourneyEvent>;

export const RUN_STATUSES = [
  "active",
  "awaiting",
  "waiting",
  "parked",
  "completed",
  "exited",
] as const;
export const RunStatus = z.enum(RUN_STATUSES);
/** active: entered or about to run steps; awaiting: an effect's result (send, coupon, PURL);
 * waiting: a timer; parked: an event (with a timeout timer); completed / exited: finished. */
export type RunStatus = z.infer<typeof RunStatus>;

export const Correlation = z.object({ property: z.string(), value: z.unknown() });
export type Correlation = z.infer<typeof Correlation>;

export const RunState = z.object({
  runId: z.string(),
  status: RunStatus,
  /** The step the run is on (the trigger before entry, the last step once finished). */
  stepId: z.string(),
  /** Whether the "entered" input has been processed. */
  entered: z.boolean(),
  enteredAt: z.number().nullable(),
  /** When the current wait/park times out (waiting/parked), else null. */
  waitUntil: z.number().nullable(),
  /** What a parked run waits for. */
  parkedFor: z.object({ event: z.string(), correlation: Correlation.nullable() }).nullable(),
  /** A send held back by quiet hours (waiting on an action step). */
  held: z.boolean(),
  trigger: JourneyEvent.nullable(),
  customer: CustomerSnapshot,
  /** Result output of each step that produced one, by step id. */
  outputs: z.record(z.string(), z.record(z.string(), z.unknown())),
  /** Named values templates can use: `coupon`, `purl`, events a wait received... */
  vars: z.record(z.string(), z.unknown()),
  converted: z.boolean(),
  conversion: z
    .object({ goal: z.string(), stepId: z.string().nullable(), at: z.number() })
    .nullable(),
  endedAt: z.number().nullable(),
  exitReason: z.string().nullable(),
  /** Steps executed so far (a guard against runaway loops). */
  stepsRun: z.number().int(),
  /**
   * Ids of the events this run has acted on (a goal, an exit, a wait), oldest first, at most
   * CONSUMED_EVENTS_KEPT: an event is never taken twice — not by a second wait-for-event, not when
   * it is delivered again (a replay, a retried event job, a look-back at a park). Absent in states
   * stored before it existed.
   */
  consumed: z.array(z.string()).optional(),
});
export type RunState = z.infer<typeof RunState>;

/** How many consumed event ids a run remembers (the newest). */
export const CONSUMED_EVENTS_KEPT = 100;

/** Reads a stored run state (validates its shape). */
export function parseRunState(stored: unknown): RunState {
  return RunState.parse(stored);
}

export function isFinished(state: RunState): boolean {
  return state.status === "completed" || state.status === "exited";
}

export type TriggerEventInput = {
  /** The stored event's id: once a run acts on it, the same id never acts on that run again. */
  id?: string;
  name: string;
  properties: Record<string, unknown>;
  timestamp: number;
};

export type RunInput =
  | { kind: "entered" }
  | { kind: "timer"; stepId: string }
  | { kind: "event"; event: TriggerEventInput }
  | { kind: "result"; stepId: string; ok: true; output?: Record<string, unknown> }
  | { kind: "result"; stepId: string; ok: false; error: string };

export type SendChannel = "email" | "sms" | "push" | "webhook" | "notify";

export type Effect =
  /** Send a message; `message` is the step's configuration with templates UNRENDERED. */
  | { kind: "send"; stepId: string; channel: SendChannel; message: Record<string, unknown> }
  /** Fire a `timer` input for `stepId` at `at`. */
  | { kind: "schedule"; stepId: string; at: number }
  /** Deliver `event` (matching the correlation) as an `event` input until `until`; a `schedule`
   * effect for the same deadline comes with it. */
  | { kind: "park"; stepId: string; event: string; correlation: Correlation | null; until: number }
  | { kind: "updateAttributes"; stepId: string; set: Record<string, unknown>; unset: string[] }
  | { kind: "updateTags"; stepId: string; add: string[]; remove: string[] }
  /** Issue a coupon; answer with a `result` whose output carries at least `code`. `seed` is stable
   * per (run, step) for pattern codes that must survive a retry. */
  | {
      kind: "issueCoupon";
      stepId: string;
      source: CouponSource;
      value: CouponValue;
      expiresAt: number | null;
      seed: string;
    }
  /** Create a personalised URL; answer with a `result` whose output carries at least `url`
   * (and `qrUrl` when `qr`). `params` are rendered. */
  | {
      kind: "createPurl";
      stepId: string;
      page: string;
      params: Record<string, string>;
      qr: boolean;
      expiresAt: number | null;
    }
  | { kind: "convert"; stepId: string | null; goal: string }
  | { kind: "trace"; stepId: string | null; decision: string; detail: Record<string, unknown> }
  | { kind: "exit"; reason: string }
  | { kind: "complete" };

export type EffectKind = Effect["kind"];
