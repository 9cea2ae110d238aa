// Wait: for an event, with a timeout, optionally correlated with the trigger event by a key
// (wait up to 7 days for `machine_registered` whose `serial` equals the purchase's `serial`).
// Branches: "arrived" / "timedOut". The received event's properties become available to later
// templates under `as` (default: the event name).
import { z } from "zod";
import { Condition, evaluateConditions, getPath, looseEquals } from "../conditions.ts";
import { boundedDuration, describeDuration, durationMs, formatInstant } from "../time.ts";
import { type CheckIssue, defineStep } from "./module.ts";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const WaitEventConfig = z.object({
  event: z.string().trim().min(1, { error: "Choose the event to wait for." }),
  timeout: boundedDuration("the wait for the event").refine((d) => d.amount > 0, {
    error: "Set how long to wait at most.",
  }),
  filters: z.array(Condition).default([]),
  correlate: z
    .object({
      /** Property on the awaited event… */
      property: z.string().trim().min(1, { error: "Choose the property of the awaited event." }),
      /** …that must equal this property of the event that started the run. */
      triggerProperty: z
        .string()
        .trim()
        .min(1, { error: "Choose the property of the trigger event." }),
    })
    .nullable()
    .default(null),
  as: z.string().regex(IDENTIFIER, { error: "Use letters, digits and _ only." }).optional(),
});
export type WaitEventConfig = z.infer<typeof WaitEventConfig>;

function outputName(c: WaitEventConfig): string | null {
  const name = c.as ?? c.event;
  return IDENTIFIER.test(name) ? name : null;
}

export default defineStep<WaitEventConfig>({
  type: "wait.event",
  family: "wait",
  label: "Wait for event",
  schema: WaitEventConfig,
  defaults: { event: "", timeout: { amount: 7, unit: "days" }, filters: [], correlate: null },
  branches: () => ({ required: ["arrived", "timedOut"] }),
  // The awaited event's properties, as far as the workspace has seen them (else any).
  provides: (c, catalog) => {
    const name = outputName(c);
    const seen = catalog?.eventProperties?.[c.event];
    return name
      ? [{ name, on: ["arrived"], ...(seen ? { fields: seen, observed: true } : {}) }]
      : [];
  },
  check: (c, ctx) => {
    const issues: CheckIssue[] = [];
    if (!c.correlate) return issues;
    const trigger = ctx.trigger;
    if (
      trigger &&
      trigger.event === null &&
      trigger.properties !== null &&
      trigger.properties.length === 0
    ) {
      issues.push({
        code: "correlation.not_in_trigger",
        field: "correlate.triggerProperty",
        message: `This journey doesn't start from an event, so there is no "${c.correlate.triggerProperty}" to match ${c.event} against.`,
      });
    } else if (
      trigger &&
      trigger.properties !== null &&
      !trigger.properties.includes(c.correlate.triggerProperty)
    ) {
      // Declared properties (a form's fields) are certain; observed ones may be incomplete.
      issues.push({
        code: "correlation.not_in_trigger",
        field: "correlate.triggerProperty",
        message: trigger.observed
          ? `The trigger event${trigger.event ? ` "${trigger.event}"` : ""} hasn't been seen carrying "${c.correlate.triggerProperty}", so ${c.event} may never be matched to it.`
          : `The trigger event${trigger.event ? ` "${trigger.event}"` : ""} doesn't carry "${c.correlate.triggerProperty}", so ${c.event} can never be matched to it.`,
        ...(trigger.observed ? { severity: "warning" as const } : {}),
      });
    }
    const known = ctx.catalog.eventProperties?.[c.event];
    if (known && !known.includes(c.correlate.property)) {
      issues.push({
        code: "correlation.not_in_event",
        field: "correlate.property",
        message: `The event "${c.event}" hasn't been seen carrying "${c.correlate.property}".`,
        severity: "warning",
      });
    }
    return issues;
  },
  enter: (env) => {
    const c = env.config;
    const until = env.now + durationMs(c.timeout);
    const correlation = c.correlate
      ? {
          property: c.correlate.property,
          value: getPath(env.state.trigger?.properties, c.correlate.triggerProperty) ?? null,
        }
      : null;
    return {
      kind: "park",
      event: c.event,
      correlation,
      until,
      decision: "event.parked",
      detail: {
        event: c.event,
        timeout: describeDuration(c.timeout),
        until: formatInstant(until),
        correlation,
        ...(correlation && correlation.value === null
          ? {
              warning: `the trigger has no ${c.correlate?.triggerProperty}; only the timeout can end this wait`,
            }
          : {}),
      },
    };
  },
  event: (env, event) => {
    const c = env.config;
    if (event.name !== c.event || !evaluateConditions(c.filters, "all", event.properties))
      return null;
    const correlation = env.state.parkedFor?.correlation ?? null;
    if (correlation) {
      if (correlation.value === null || correlation.value === undefined) return null;
      if (!looseEquals(getPath(event.properties, correlation.property), correlation.value))
        return null;
    }
    env.state.outputs[env.step.id] = {
      event: event.name,
      properties: event.properties,
      timestamp: event.timestamp,
    };
    const name = outputName(c);
    if (name) env.state.vars[name] = event.properties;
    return {
      kind: "go",
      branch: "arrived",
      decision: "event.arrived",
      detail: { event: event.name, correlation },
    };
  },
  timer: (env) => ({
    kind: "go",
    branch: "timedOut",
    decision: "event.timedOut",
    detail: { event: env.config.event },
  }),
});
