// The simulator: runs one customer through a plan on a virtual clock, feeding `advance` the
// entry, the events given, the timers it asked for and made-up results for its effects. The
// timeline of decisions is what journeys-as-code tests assert on (and the canvas "test run" shows).
import { advance, initialState } from "./advance.ts";
import type { Plan } from "./plan.ts";
import type { CustomerSnapshot, Effect, RunInput, RunState, RunStatus } from "./state.ts";
import { fillCouponPattern } from "./steps/action-coupon.ts";
import { renderTemplate, templateContext } from "./templating.ts";
import { dateTriggerDueAt, matchesTrigger, triggerOf } from "./trigger.ts";
import { isFinished } from "./state.ts";

export type SimulationEvent = { at: number; name: string; properties: Record<string, unknown> };

export type SimulateOptions = {
  /** Virtual clock start (epoch ms). */
  start: number;
  /** Nothing after this instant is simulated. */
  until: number;
  runId?: string;
  /** Step ids whose effect fails (after the engine's retries) instead of succeeding. */
  failSteps?: readonly string[];
  /** Base of simulated personalised URLs. */
  baseUrl?: string;
};

export type TimelineEntry = {
  at: number;
  stepId: string | null;
  decision: string;
  detail: Record<string, unknown>;
};

/** A message as the customer would get it (Liquid rendered; MJML/HTML left to the channels). */
export type SimulatedMessage = {
  at: number;
  stepId: string;
  channel: string;
  rendered: Record<string, unknown>;
};

export type SimulationResult = {
  entered: boolean;
  /** Why the customer did not enter, when they didn't. */
  notEntered: string | null;
  enteredAt: number | null;
  status: RunStatus | "notEntered";
  /** Every decision, in order. */
  timeline: TimelineEntry[];
  /** Every effect but traces, with the virtual time it was emitted at. */
  effects: { at: number; effect: Effect }[];
  messages: SimulatedMessage[];
  /** Step ids in the order the run reached them. */
  path: string[];
  finalState: RunState | null;
  /** The virtual time the simulation stopped at. */
  endedAt: number;
};

const MAX_INPUTS = 10_000;

function renderDeep(value: unknown, context: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    try {
      return renderTemplate(value, context);
    } catch (e) {
      return `[template error: ${e instanceof Error ? e.message : String(e)}]`;
    }
  }
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, context));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, context)]));
  }
  return value;
}

/** A segment trigger's saved segment and whether runs start on entry or exit; null: conditions. */
function savedSegmentOf(config: unknown): { segmentId: string; on: "enter" | "leave" } | null {
  const c = (typeof config === "object" && config !== null ? config : {}) as Record<
    string,
    unknown
  >;
  return typeof c.segmentId === "string" && c.segmentId !== ""
    ? { segmentId: c.segmentId, on: c.on === "leave" ? "leave" : "enter" }
    : null;
}

export function simulate(
  plan: Plan,
  customer: CustomerSnapshot,
  events: readonly SimulationEvent[],
  opts: SimulateOptions,
): SimulationResult {
  const sorted = events.map((e, i) => ({ ...e, i })).sort((a, b) => a.at - b.at || a.i - b.i);
  const result: SimulationResult = {
    entered: false,
    notEntered: null,
    enteredAt: null,
    status: "notEntered",
    timeline: [],
    effects: [],
    messages: [],
    path: [],
    finalState: null,
    endedAt: opts.start,
  };

  // Entry
  const trigger = triggerOf(plan);
  let enterAt: number | null = null;
  let triggerEvent: {
    name: string;
    properties: Record<string, unknown>;
    timestamp: number;
  } | null = null;
  let nextEvent = 0;
  if (trigger.type === "trigger.event" || trigger.type === "trigger.form") {
    const index = sorted.findIndex(
      (e) => e.at >= opts.start && e.at <= opts.until && matchesTrigger(plan, e, customer),
    );
    const first = sorted[index];
    if (first) {
      enterAt = first.at;
      triggerEvent = { name: first.name, properties: first.properties, timestamp: first.at };
      nextEvent = index + 1;
    } else {
      result.notEntered = `no ${trigger.event ?? "trigger"} event matched the trigger`;
    }
  } else if (trigger.type === "trigger.segment") {
    // issue 16: a saved segment starts runs as the customer enters (or leaves) it; the test
    // customer's memberships (`customer.segments`, as the engine reads them) say which they did.
    const saved = savedSegmentOf(trigger.config);
    if (saved) {
      const member = (customer.segments ?? []).includes(saved.segmentId);
      if (member === (saved.on === "enter")) enterAt = opts.start;
      else
        result.notEntered =
          saved.on === "enter"
            ? "the customer is not in the segment"
            : "the customer is still in the segment, so they have not left it";
    } else if (matchesTrigger(plan, { name: "", properties: {} }, customer)) enterAt = opts.start;
    else result.notEntered = "the customer is not in the segment";
  } else if (trigger.type === "trigger.date") {
    const due = dateTriggerDueAt(plan, customer, opts.start);
    if (due !== null && due <= opts.until) enterAt = due;
    else
      result.notEntered =
        due === null
          ? "the customer has no usable date"
          : "the date falls after the simulated period";
  } else {
    enterAt = opts.start;
  }
  if (enterAt === null) return result;
  while (nextEvent < sorted.length && (sorted[nextEvent]?.at ?? Infinity) < enterAt) nextEvent++;

  const runId = opts.runId ?? `sim-${customer.id}`;
  const baseUrl = (opts.baseUrl ?? "https://go.postpath.example").replace(/\/$/, "");
  const fail = new Set(opts.failSteps ?? []);
  let state = initialState(plan, { runId, customer, trigger: triggerEvent });
  const timers: { at: number; stepId: string; seq: number }[] = [];
  let seq = 0;
  let clock = enterAt;
  result.entered = true;
  result.enteredAt = enterAt;

  const feed = (input: RunInput, at: number): void => {
    const queue: RunInput[] = [input];
    while (queue.length > 0) {
      const next = queue.shift() as RunInput;
      const { effects, nextState } = advance(plan, state, next, at);
      state = nextState;
      for (const effect of effects) {
        switch (effect.kind) {
          case "trace":
            result.timeline.push({
              at,
              stepId: effect.stepId,
              decision: effect.decision,
              detail: effect.detail,
            });
            if (effect.stepId !== null && result.path[result.path.length - 1] !== effect.stepId)
              result.path.push(effect.stepId);
            continue;
          case "schedule":
            timers.push({ at: effect.at, stepId: effect.stepId, seq: seq++ });
            break;
          case "send":
            result.messages.push({
              at,
              stepId: effect.stepId,
              channel: effect.channel,
              rendered: renderDeep(effect.message, templateContext(state)) as Record<
                string,
                unknown
              >,
            });
            queue.push(simulatedResult(effect.stepId, fail, {}));
            break;
          case "issueCoupon": {
            const code =
              effect.source.kind === "pattern"
                ? fillCouponPattern(effect.source.pattern, effect.seed)
                : `${effect.source.pool.toUpperCase()}-${fillCouponPattern("######", effect.seed)}`;
            queue.push(simulatedResult(effect.stepId, fail, { code }));
            break;
          }
          case "createPurl": {
            const token = fillCouponPattern(
              "##########",
              `${runId}:${effect.stepId}`,
            ).toLowerCase();
            const url = `${baseUrl}/${effect.page}/${token}`;
            queue.push(
              simulatedResult(
                effect.stepId,
                fail,
                effect.qr ? { url, token, qrUrl: `${url}/qr.png` } : { url, token },
              ),
            );
            break;
          }
          case "park":
          case "updateAttributes":
          case "updateTags":
          case "convert":
          case "exit":
          case "complete":
            break;
          default: {
            const never: never = effect;
            return never;
          }
        }
        result.effects.push({ at, effect });
      }
    }
  };

  feed({ kind: "entered" }, clock);
  for (let inputs = 0; !isFinished(state) && inputs < MAX_INPUTS; inputs++) {
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const timer = timers[0];
    const event = sorted[nextEvent];
    const eventFirst = event !== undefined && (timer === undefined || event.at <= timer.at);
    const at = eventFirst ? event.at : timer?.at;
    if (at === undefined || at > opts.until) break;
    clock = Math.max(clock, at);
    if (eventFirst) {
      nextEvent++;
      feed(
        {
          kind: "event",
          event: { name: event.name, properties: event.properties, timestamp: event.at },
        },
        clock,
      );
    } else if (timer) {
      timers.shift();
      feed({ kind: "timer", stepId: timer.stepId }, clock);
    }
  }
  result.status = state.status;
  result.finalState = state;
  result.endedAt = isFinished(state) ? (state.endedAt ?? clock) : clock;
  return result;
}

function simulatedResult(
  stepId: string,
  fail: Set<string>,
  output: Record<string, unknown>,
): RunInput {
  return fail.has(stepId)
    ? { kind: "result", stepId, ok: false, error: "simulated failure" }
    : { kind: "result", stepId, ok: true, output: { simulated: true, ...output } };
}
