// The interpreter: advance(plan, state, input, now) → { effects, nextState }. Pure and
// deterministic: the same arguments always give the same answer. Synchronous steps run in one
// call until a step needs the outside world (a timer, an event, an effect's result) or the run ends.
import { evaluateConditions } from "./conditions.ts";
import type { Plan, PlanStep } from "./plan.ts";
import { registry } from "./registry.ts";
import { type EventCriterion } from "./settings.ts";
import { type FlowGoalConfig, goalName } from "./steps/flow-goal.ts";
import type { Outcome, StepEnv } from "./steps/module.ts";
import {
  type CustomerSnapshot,
  type Effect,
  type JourneyEvent,
  type RunInput,
  type RunState,
  CONSUMED_EVENTS_KEPT,
  isFinished,
} from "./state.ts";
import { resolveTimeZone } from "./time.ts";

/** Steps one advance() may run before it stops a run that loops without waiting. */
export const MAX_STEPS_PER_ADVANCE = 1000;

export function initialState(
  plan: Plan,
  args: {
    runId: string;
    customer: CustomerSnapshot;
    trigger?: { name: string; properties: Record<string, unknown>; timestamp: number } | null;
  },
): RunState {
  return {
    runId: args.runId,
    status: "active",
    stepId: plan.triggerStepId,
    entered: false,
    enteredAt: null,
    waitUntil: null,
    parkedFor: null,
    held: false,
    trigger: args.trigger
      ? {
          name: args.trigger.name,
          properties: { ...args.trigger.properties },
          timestamp: args.trigger.timestamp,
        }
      : null,
    customer: structuredClone(args.customer),
    outputs: {},
    vars: {},
    converted: false,
    conversion: null,
    endedAt: null,
    exitReason: null,
    stepsRun: 0,
  };
}

type Goal = { id: string; config: FlowGoalConfig };
const goalIndex = new WeakMap<Plan, Goal[]>();
function goalsOf(plan: Plan): Goal[] {
  let goals = goalIndex.get(plan);
  if (!goals) {
    goals = Object.values(plan.steps)
      .filter((s) => s.type === "flow.goal")
      .map((s) => ({ id: s.id, config: s.config as FlowGoalConfig }));
    goalIndex.set(plan, goals);
  }
  return goals;
}

function criterionMatches(c: EventCriterion | FlowGoalConfig, event: JourneyEvent): boolean {
  return event.name === c.event && evaluateConditions(c.filters, "all", event.properties);
}

class Run {
  readonly effects: Effect[] = [];
  constructor(
    readonly plan: Plan,
    readonly state: RunState,
    readonly now: number,
  ) {}

  step(id: string): PlanStep {
    const step = this.plan.steps[id];
    if (!step) throw new Error(`The plan has no step "${id}".`);
    return step;
  }

  env(step: PlanStep): StepEnv<unknown> {
    return {
      plan: this.plan,
      step,
      config: step.config,
      state: this.state,
      now: this.now,
      timeZone: resolveTimeZone(this.state.customer.timezone, this.plan.settings.timezone),
      settings: this.plan.settings,
    };
  }

  trace(stepId: string | null, decision: string, detail: Record<string, unknown> = {}): void {
    this.effects.push({ kind: "trace", stepId, decision, detail });
  }

  /** Moves the run onto `stepId` and runs it. */
  enter(stepId: string): void {
    const step = this.step(stepId);
    this.state.stepId = stepId;
    this.state.status = "active";
    this.state.waitUntil = null;
    this.state.parkedFor = null;
    this.state.held = false;
    this.state.stepsRun++;
    this.apply(step, registry[step.type].enter(this.env(step)));
  }

  /** Turns a step's outcome into effects and state, following "go" synchronously. */
  apply(first: PlanStep, firstOutcome: Outcome): void {
    let step = first;
    let outcome = firstOutcome;
    for (let guard = 0; ; guard++) {
      const s = this.state;
      switch (outcome.kind) {
        case "go": {
          const target = step.next[outcome.branch];
          this.trace(step.id, outcome.decision, {
            ...outcome.detail,
            branch: outcome.branch,
            next: target ?? null,
          });
          this.effects.push(...(outcome.effects ?? []));
          if (target === undefined || target === null) {
            this.finish("complete", `the "${outcome.branch}" path of ${step.id} ends here`);
            return;
          }
          if (guard >= MAX_STEPS_PER_ADVANCE) {
            this.finish("exit", "stopped: the run kept moving without waiting (loop)");
            return;
          }
          step = this.step(target);
          s.stepId = step.id;
          s.status = "active";
          s.waitUntil = null;
          s.parkedFor = null;
          s.held = false;
          s.stepsRun++;
          outcome = registry[step.type].enter(this.env(step));
          continue;
        }
        case "wait":
          this.trace(step.id, outcome.decision, outcome.detail);
          s.status = "waiting";
          s.waitUntil = outcome.until;
          s.held = outcome.held ?? false;
          this.effects.push({ kind: "schedule", stepId: step.id, at: outcome.until });
          return;
        case "park":
          this.trace(step.id, outcome.decision, outcome.detail);
          s.status = "parked";
          s.waitUntil = outcome.until;
          s.parkedFor = { event: outcome.event, correlation: outcome.correlation };
          this.effects.push(
            {
              kind: "park",
              stepId: step.id,
              event: outcome.event,
              correlation: outcome.correlation,
              until: outcome.until,
            },
            { kind: "schedule", stepId: step.id, at: outcome.until },
          );
          return;
        case "await":
          this.trace(step.id, outcome.decision, outcome.detail);
          s.status = "awaiting";
          this.effects.push(outcome.effect);
          return;
        case "end":
          this.trace(step.id, outcome.decision, outcome.detail);
          this.effects.push(...(outcome.effects ?? []));
          this.finish(outcome.how, outcome.reason);
          return;
        default: {
          const never: never = outcome;
          return never;
        }
      }
    }
  }

  finish(how: "complete" | "exit", reason: string): void {
    const s = this.state;
    s.status = how === "complete" ? "completed" : "exited";
    s.endedAt = this.now;
    s.waitUntil = null;
    s.parkedFor = null;
    s.held = false;
    if (how === "exit") {
      s.exitReason = reason;
      this.trace(s.stepId, "run.exited", { reason });
      this.effects.push({ kind: "exit", reason });
    } else {
      this.trace(s.stepId, "run.completed", { reason });
      this.effects.push({ kind: "complete" });
    }
  }

  convert(stepId: string | null, goal: string, event: JourneyEvent): void {
    this.state.converted = true;
    this.state.conversion = { goal, stepId, at: this.now };
    this.trace(stepId, "goal.converted", { goal, event: event.name });
    this.effects.push({ kind: "convert", stepId, goal });
  }

  onEvent(event: JourneyEvent): boolean {
    const s = this.state;
    // The goal a run jumps to (a flow.goal step), once per goal.
    const goal = goalsOf(this.plan).find(
      (g) => s.conversion?.stepId !== g.id && criterionMatches(g.config, event),
    );
    if (goal) {
      this.convert(goal.id, goalName(goal.config), event);
      this.enter(goal.id);
      return true;
    }
    let changed = false;
    const settingsGoal = this.plan.settings.goal;
    if (settingsGoal && !s.converted && criterionMatches(settingsGoal, event)) {
      this.convert(null, settingsGoal.name, event);
      changed = true;
      if (settingsGoal.exitOnConversion) {
        this.finish("exit", `converted (${settingsGoal.name})`);
        return true;
      }
    }
    const exit = this.plan.settings.exitCriteria.find((c) => criterionMatches(c, event));
    if (exit) {
      this.finish("exit", `exit event: ${exit.event}`);
      return true;
    }
    if (s.status === "parked") {
      const step = this.step(s.stepId);
      const outcome = registry[step.type].event?.(this.env(step), event) ?? null;
      if (outcome) {
        s.waitUntil = null;
        s.parkedFor = null;
        this.apply(step, outcome);
        return true;
      }
    }
    return changed;
  }
}

function sameEvent(a: JourneyEvent | null, b: JourneyEvent): boolean {
  return (
    a !== null &&
    a.name === b.name &&
    a.timestamp === b.timestamp &&
    JSON.stringify(a.properties) === JSON.stringify(b.properties)
  );
}

/**
 * Advances a run by one input. Inputs that don't apply (a timer for another step, a result for a
 * step the run isn't on, anything after the run finished) return no effects and the same state.
 */
export function advance(
  plan: Plan,
  state: RunState,
  input: RunInput,
  now: number,
): { effects: Effect[]; nextState: RunState } {
  const unchanged = { effects: [], nextState: state };
  if (isFinished(state)) return unchanged;
  const run = new Run(plan, structuredClone(state), now);
  const s = run.state;
  switch (input.kind) {
    case "entered": {
      if (state.entered) return unchanged;
      s.entered = true;
      s.enteredAt = now;
      run.enter(plan.triggerStepId);
      break;
    }
    case "timer": {
      if (
        (state.status !== "waiting" && state.status !== "parked") ||
        state.stepId !== input.stepId
      )
        return unchanged;
      // An earlier timer of a previous visit to this step (or a clock running early): the right one is scheduled.
      if (state.waitUntil !== null && now < state.waitUntil) return unchanged;
      const step = run.step(state.stepId);
      const module = registry[step.type];
      if (!module.timer) return unchanged;
      s.waitUntil = null;
      s.parkedFor = null;
      s.held = false;
      run.apply(step, module.timer(run.env(step)));
      break;
    }
    case "event": {
      if (!state.entered) return unchanged;
      const event: JourneyEvent = {
        name: input.event.name,
        properties: input.event.properties,
        timestamp: input.event.timestamp,
      };
      // Events from before the run, and the trigger event itself, don't act on it; nor does an
      // event it has already acted on (delivered again: a replay, a retry, a look-back).
      const runStart = state.trigger?.timestamp ?? state.enteredAt ?? -Infinity;
      const id = input.event.id;
      if (
        event.timestamp < runStart ||
        sameEvent(state.trigger, event) ||
        (id !== undefined && state.consumed?.includes(id))
      ) {
        return unchanged;
      }
      if (!run.onEvent(structuredClone(event))) return unchanged;
      if (id !== undefined) s.consumed = [...(s.consumed ?? []), id].slice(-CONSUMED_EVENTS_KEPT);
      break;
    }
    case "result": {
      if (state.status !== "awaiting" || state.stepId !== input.stepId) return unchanged;
      const step = run.step(state.stepId);
      const module = registry[step.type];
      if (!module.result) return unchanged;
      run.apply(
        step,
        module.result(
          run.env(step),
          input.ok ? { ok: true, output: input.output ?? {} } : { ok: false, error: input.error },
        ),
      );
      break;
    }
    default: {
      const never: never = input;
      return never;
    }
  }
  return { effects: run.effects, nextState: s };
}

/**
 * issue 18: a run moved to another version's step starts it there — the step runs as on arrival
 * (a send is sent, a wait starts, a split decides), following on as `advance` would.
 */
export function enterStep(
  plan: Plan,
  state: RunState,
  stepId: string,
  now: number,
): { effects: Effect[]; nextState: RunState } {
  const run = new Run(plan, structuredClone(state), now);
  run.enter(stepId);
  return { effects: run.effects, nextState: run.state };
}
