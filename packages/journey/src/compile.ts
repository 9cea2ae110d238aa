// The compiler: a valid draft → an immutable plan. And the reader for stored plans of any
// schemaVersion (older ones are upgraded step by step).
import { z } from "zod";
import { type ValidationIssue, errorsOnly } from "./issues.ts";
import type { Plan, PlanStep } from "./plan.ts";
import { registry } from "./registry.ts";
import { SCHEMA_VERSION, StepType } from "./schema.ts";
import { JourneySettings } from "./settings.ts";
import type { Catalog } from "./steps/module.ts";
import { analyze } from "./validate.ts";

/** `errors`: the issues that block publishing (warnings never do; `validate` lists them). */
export type CompileResult = { ok: true; plan: Plan } | { ok: false; errors: ValidationIssue[] };

export function compile(draft: unknown, catalog: Catalog = {}): CompileResult {
  const analysis = analyze(draft, catalog);
  const errors = errorsOnly(analysis.issues);
  if (errors.length > 0 || !analysis.settings || !analysis.triggerId) {
    return { ok: false, errors };
  }
  const steps: Record<string, PlanStep> = {};
  for (const n of analysis.nodes.values()) {
    const b = n.module.branches(n.config);
    const next: Record<string, string | null> = {};
    for (const branch of [...b.required, ...(b.optional ?? [])])
      next[branch] = n.out.get(branch) ?? null;
    steps[n.id] = { id: n.id, type: n.type, config: n.config, next };
  }
  const plan: Plan = {
    schemaVersion: SCHEMA_VERSION,
    settings: analysis.settings,
    triggerStepId: analysis.triggerId,
    steps,
  };
  return { ok: true, plan: deepFreeze(plan) };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const StoredPlan = z.object({
  schemaVersion: z.number().int().positive(),
  settings: z.unknown(),
  triggerStepId: z.string(),
  steps: z.record(
    z.string(),
    z.object({
      id: z.string(),
      type: z.string(),
      config: z.unknown(),
      next: z.record(z.string(), z.string().nullable()),
    }),
  ),
});
type StoredPlan = z.infer<typeof StoredPlan>;

/**
 * Upgraders from version N to N+1, applied in order to plans stored by older releases. When a
 * persisted shape changes, bump SCHEMA_VERSION and add the step here (never edit old ones).
 */
export const planUpgrades: Readonly<Record<number, (plan: StoredPlan) => StoredPlan>> = {};

export class PlanError extends Error {
  override name = "PlanError";
}

/** Reads a stored plan of any schemaVersion this release knows, upgrading older ones. */
export function parsePlan(stored: unknown): Plan {
  const parsed = StoredPlan.safeParse(stored);
  if (!parsed.success)
    throw new PlanError(`Not a journey plan: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  let plan = parsed.data;
  if (plan.schemaVersion > SCHEMA_VERSION) {
    throw new PlanError(
      `This plan uses format ${plan.schemaVersion}; this release reads up to ${SCHEMA_VERSION}.`,
    );
  }
  while (plan.schemaVersion < SCHEMA_VERSION) {
    const upgrade = planUpgrades[plan.schemaVersion];
    if (!upgrade) throw new PlanError(`No upgrade from plan format ${plan.schemaVersion}.`);
    plan = upgrade(plan);
  }
  const settings = JourneySettings.parse(plan.settings ?? {});
  const steps: Record<string, PlanStep> = {};
  for (const [id, s] of Object.entries(plan.steps)) {
    const type = StepType.safeParse(s.type);
    if (!type.success) throw new PlanError(`Step ${id} has an unknown type "${s.type}".`);
    const config = registry[type.data].schema.safeParse(s.config);
    if (!config.success)
      throw new PlanError(
        `Step ${id} (${type.data}) has an invalid config: ${config.error.issues[0]?.message ?? ""}`,
      );
    steps[id] = { id, type: type.data, config: config.data, next: { ...s.next } };
  }
  if (!steps[plan.triggerStepId])
    throw new PlanError(`The trigger step ${plan.triggerStepId} is missing.`);
  for (const s of Object.values(steps)) {
    for (const [branch, target] of Object.entries(s.next)) {
      if (target !== null && !steps[target])
        throw new PlanError(`Step ${s.id} leads ("${branch}") to a missing step ${target}.`);
    }
  }
  return deepFreeze({
    schemaVersion: SCHEMA_VERSION,
    settings,
    triggerStepId: plan.triggerStepId,
    steps,
  });
}
