// What starts a run, for the engine's matching: the trigger's type and event, whether an event
// (or a customer) matches it, when a date trigger is due, and which events a running journey
// listens to.
import type { Plan } from "./plan.ts";
import { registry } from "./registry.ts";
import type { StepType } from "./schema.ts";
import type { CustomerSnapshot } from "./state.ts";
import { type FlowGoalConfig } from "./steps/flow-goal.ts";
import { type TriggerDateConfig, nextDateTriggerAt } from "./steps/trigger-date.ts";
import type { WaitEventConfig } from "./steps/wait-event.ts";
import { resolveTimeZone } from "./time.ts";

export function triggerOf(plan: Plan): { type: StepType; event?: string; config: unknown } {
  const step = plan.steps[plan.triggerStepId];
  if (!step) throw new Error(`The plan has no trigger step "${plan.triggerStepId}".`);
  const info = registry[step.type].triggerInfo?.(step.config, {});
  return info?.event
    ? { type: step.type, event: info.event, config: step.config }
    : { type: step.type, config: step.config };
}

/**
 * Whether an incoming event starts a run of this journey for `customer`: event triggers match name
 * and filters, form triggers the form id, segment triggers the customer's attributes (the engine
 * calls it when attributes change). Date and manual triggers never match events.
 */
export function matchesTrigger(
  plan: Plan,
  event: { name: string; properties: Record<string, unknown> },
  customer: CustomerSnapshot,
): boolean {
  const step = plan.steps[plan.triggerStepId];
  if (!step) return false;
  return registry[step.type].matches?.(step.config, event, customer) ?? false;
}

/** For a date trigger: the next instant at or after `after` when `customer` should enter, else null. */
export function dateTriggerDueAt(
  plan: Plan,
  customer: CustomerSnapshot,
  after: number,
): number | null {
  const step = plan.steps[plan.triggerStepId];
  if (step?.type !== "trigger.date") return null;
  const timeZone = resolveTimeZone(customer.timezone, plan.settings.timezone);
  return nextDateTriggerAt(step.config as TriggerDateConfig, customer, timeZone, after);
}

/** Event names that can act on an active run (goal, exit criteria, waits for events). */
export function listenedEvents(plan: Plan): string[] {
  const names = new Set<string>();
  for (const c of plan.settings.exitCriteria) names.add(c.event);
  if (plan.settings.goal) names.add(plan.settings.goal.event);
  for (const s of Object.values(plan.steps)) {
    if (s.type === "flow.goal") names.add((s.config as FlowGoalConfig).event);
    if (s.type === "wait.event") names.add((s.config as WaitEventConfig).event);
  }
  return [...names].sort();
}
