// Helpers for the step modules' tests (not exported from the package).
import { advance, initialState } from "../advance.ts";
import { type StepSpec, draftFromSteps } from "../builder.ts";
import { compile } from "../compile.ts";
import type { Plan } from "../plan.ts";
import type { JourneySettingsInput } from "../settings.ts";
import type { CustomerSnapshot, Effect, RunInput, RunState } from "../state.ts";

/** Monday 6 January 2025, 12:00 UTC. */
export const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function customer(over: Partial<CustomerSnapshot> = {}): CustomerSnapshot {
  return {
    id: "c1",
    externalId: "ext-1",
    email: "anna@example.com",
    phone: "+4915100000000",
    timezone: "UTC",
    attributes: { first_name: "Anna" },
    tags: [],
    ...over,
  };
}

export function planOf(steps: readonly StepSpec[], settings: JourneySettingsInput = {}): Plan {
  const r = compile(draftFromSteps(steps, settings));
  if (!r.ok) throw new Error(`does not compile: ${JSON.stringify(r.errors, null, 2)}`);
  return r.plan;
}

/** trigger.manual → the step under test (→ exits on each of its branches). */
export function around(
  step: Omit<StepSpec, "next">,
  branches: readonly string[] = ["next"],
  settings: JourneySettingsInput = {},
): Plan {
  return planOf(
    [
      { id: "t", type: "trigger.manual", next: step.id },
      { ...step, next: Object.fromEntries(branches.map((b) => [b, `end-${b}`])) },
      ...branches.map((b) => ({ id: `end-${b}`, type: "flow.exit" as const })),
    ],
    settings,
  );
}

export type Step = { effects: Effect[]; state: RunState };

export function enter(
  plan: Plan,
  opts: {
    customer?: CustomerSnapshot;
    trigger?: { name: string; properties: Record<string, unknown>; timestamp: number } | null;
    runId?: string;
    now?: number;
  } = {},
): Step {
  const state = initialState(plan, {
    runId: opts.runId ?? "run-1",
    customer: opts.customer ?? customer(),
    trigger: opts.trigger ?? null,
  });
  const r = advance(plan, state, { kind: "entered" }, opts.now ?? T0);
  return { effects: r.effects, state: r.nextState };
}

export function feed(plan: Plan, from: Step, input: RunInput, now: number): Step {
  const r = advance(plan, from.state, input, now);
  return { effects: r.effects, state: r.nextState };
}

export function decisions(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) => (e.kind === "trace" ? [e.decision] : []));
}

export function actions(effects: readonly Effect[]): Effect[] {
  return effects.filter((e) => e.kind !== "trace");
}

/** The branch the step under test (id `s`) took, read from its trace. */
export function branchTaken(effects: readonly Effect[], stepId = "s"): unknown {
  const t = effects.find((e) => e.kind === "trace" && e.stepId === stepId && "branch" in e.detail);
  return t?.kind === "trace" ? t.detail["branch"] : undefined;
}
