// What publishing would change: the compiled draft against the live version's plan, step by step.
import { stableJson, type Plan, type PlanStep, type StepType } from "@postpath/journey";

export type StepRef = { id: string; type: StepType };
export type StepChange = StepRef & { fields: string[] };
export type Rewire = { id: string; branch: string; from: string | null; to: string | null };

export type PlanDiff = {
  added: StepRef[];
  removed: StepRef[];
  changed: StepChange[];
  rewired: Rewire[];
  /** Top-level settings keys whose value changed (entry, goal, quietHours…). */
  settings: string[];
  /** True when nothing differs (publishing would only bump the version number). */
  same: boolean;
};

function changedKeys(a: unknown, b: unknown): string[] {
  const ra = (a ?? {}) as Record<string, unknown>;
  const rb = (b ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  return keys.filter((k) => stableJson(ra[k]) !== stableJson(rb[k]));
}

const ref = (s: PlanStep): StepRef => ({ id: s.id, type: s.type });

/** `live` null: nothing is published yet, so every step is new. */
export function diffPlans(live: Plan | null, next: Plan): PlanDiff {
  const before = live?.steps ?? {};
  const after = next.steps;
  const added = Object.values(after)
    .filter((s) => !(s.id in before))
    .map(ref);
  const removed = Object.values(before)
    .filter((s) => !(s.id in after))
    .map(ref);
  const changed: StepChange[] = [];
  const rewired: Rewire[] = [];
  for (const step of Object.values(after)) {
    const old = before[step.id];
    if (!old) continue;
    if (old.type !== step.type) {
      changed.push({ ...ref(step), fields: ["type"] });
      continue;
    }
    const fields = changedKeys(old.config, step.config);
    if (fields.length > 0) changed.push({ ...ref(step), fields });
    for (const branch of [
      ...new Set([...Object.keys(old.next), ...Object.keys(step.next)]),
    ].sort()) {
      const from = old.next[branch] ?? null;
      const to = step.next[branch] ?? null;
      if (from !== to) rewired.push({ id: step.id, branch, from, to });
    }
  }
  const settings = live ? changedKeys(live.settings, next.settings) : [];
  return {
    added,
    removed,
    changed,
    rewired,
    settings,
    same:
      live !== null &&
      added.length + removed.length + changed.length + rewired.length + settings.length === 0,
  };
}
