// Editing a live journey (issue 18, items 1–2): what publishing a new version does to the customers
// already inside, said before anything happens. Pure: the caller counts who is where (per version
// and step, from the database) and names the steps as drawn; this decides, per step of the old
// versions, where its customers go and says it in a sentence:
//   "412 waiting at Reminder (deleted) → SMS reminder"
//   "96 waiting at Wait for registration → same step, timeout now 14 days (counted from when each
//    customer started waiting)"
// Rules: a step that still exists keeps its customers there (a changed wait keeps each customer's
// due time, or recomputes it from when they started waiting — the marketer picks; a wait-for-event
// whose event or matching changed waits for the new one and keeps its deadline); a deleted step
// (or one whose kind changed) needs the marketer's choice — a step of the new version, where its
// customers continue, or leaving the journey; nothing defaults to dropping people. Splits already
// passed are not decided again and A/B assignments are never re-rolled: only the current step moves.
import { enterStep } from "./advance.ts";
import { getPath } from "./conditions.ts";
import { stableJson } from "./hash.ts";
import type { Plan, PlanStep } from "./plan.ts";
import { Duration as DurationSchema, durationMs } from "./time.ts";
import type { Effect, RunState } from "./state.ts";

export type MigrationMode = "keep" | "move";
/** Changed waits: each customer keeps the due time they had, or it is computed again from when
 * they started waiting with the new duration. */
export type ChangedWaitRule = "keepDueTime" | "fromStart";

export interface MigrationChoices {
  mode: MigrationMode;
  /** Per deleted step (that has customers): a step id of the new version, or null to let them leave. */
  deletedSteps: Record<string, string | null>;
  changedWaits: ChangedWaitRule;
}

/** Customers of one version at one step, from the database at preview time. */
export interface StepPopulation {
  versionId: string;
  stepId: string;
  /** Waiting on a timer (a wait step, quiet hours, a frequency cap). */
  waiting: number;
  /** Parked on a wait-for-event. */
  parked: number;
  /** Being moved by a worker right now (they are moved once the step commits). */
  active: number;
  /** A message held back by quiet hours (counted apart from `waiting`; absent: none). */
  held?: number;
}

export interface VersionInfo {
  version: number;
  plan: Plan;
  /** Step names as drawn on that version's canvas (missing: the step's id is shown). */
  labels: Record<string, string>;
}

export type Destination =
  | { kind: "stay" } // keep mode: on their version
  | { kind: "same" }
  | { kind: "step"; stepId: string }
  | { kind: "exit" }
  | { kind: "unmapped" };

export interface MigrationLine {
  versionId: string;
  version: number;
  stepId: string;
  label: string;
  customers: number;
  waiting: number;
  parked: number;
  active: number;
  /** deleted: gone from the new version; replaced: same id, another kind of step. */
  change: "unchanged" | "changed" | "deleted" | "replaced";
  to: Destination;
  sentence: string;
}

export interface MigrationPreview {
  lines: MigrationLine[];
  /** Deleted steps with customers and no choice yet: publishing must wait for one. */
  unmapped: string[];
  /** Choices naming a step the new version lacks (or its trigger). */
  invalidTargets: string[];
  customers: number;
  moving: number;
  leaving: number;
  /** What happens to new entries. */
  newEntries: string;
}

const WAIT_TYPES = new Set(["wait.duration", "wait.until", "wait.timeOfDay", "wait.dateProperty"]);

type Config = Record<string, unknown>;
const cfg = (s: PlanStep): Config => (s.config ?? {}) as Config;

function duration(d: unknown): string | null {
  const r = d as { amount?: number; unit?: string } | undefined;
  if (!r || typeof r.amount !== "number" || typeof r.unit !== "string") return null;
  const unit = r.amount === 1 ? r.unit.replace(/s$/, "") : r.unit;
  return `${r.amount.toLocaleString("en-US")} ${unit}`;
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** How a kept step changed, in words (null: nothing a waiting customer notices). */
function waitChange(before: PlanStep, after: PlanStep, rule: ChangedWaitRule): string | null {
  if (stableJson(before.config) === stableJson(after.config)) return null;
  const counted =
    rule === "keepDueTime"
      ? "each customer keeps the due time they had"
      : "counted from when each customer started waiting";
  if (after.type === "wait.event") {
    const b = cfg(before);
    const a = cfg(after);
    const parts: string[] = [];
    if (
      stableJson(b["event"]) !== stableJson(a["event"]) ||
      stableJson(b["correlate"]) !== stableJson(a["correlate"])
    )
      parts.push(
        `now waits for ${typeof a["event"] === "string" ? a["event"] : "the new event"}, keeping each deadline`,
      );
    if (stableJson(b["timeout"]) !== stableJson(a["timeout"])) {
      const t = duration(a["timeout"]);
      parts.push(`timeout now ${t ?? "changed"} (${counted})`);
    }
    return parts.length > 0 ? parts.join("; ") : "settings changed";
  }
  if (WAIT_TYPES.has(after.type)) {
    const d = duration(cfg(after));
    return `${d ? `wait now ${d}` : "wait changed"} (${counted})`;
  }
  return "step changed; customers already waiting here are not affected until they move on";
}

function population(p: StepPopulation): string {
  const parts: string[] = [];
  if (p.waiting) parts.push(`${p.waiting.toLocaleString("en-US")} waiting`);
  if (p.parked) parts.push(`${p.parked.toLocaleString("en-US")} waiting for an event`);
  if (p.held) parts.push(`${p.held.toLocaleString("en-US")} held by quiet hours`);
  if (p.active) parts.push(`${p.active.toLocaleString("en-US")} in progress`);
  return parts.join(", ") || "0";
}

/** Where every customer of the old versions goes if the marketer publishes `next` with `choices`. */
export function previewMigration(args: {
  versions: Record<string, VersionInfo>;
  next: Plan;
  nextLabels: Record<string, string>;
  nextVersion: number;
  populations: StepPopulation[];
  choices: MigrationChoices;
}): MigrationPreview {
  const { versions, next, nextLabels, choices } = args;
  const labelNext = (id: string) => nextLabels[id] ?? id;
  const lines: MigrationLine[] = [];
  const unmapped = new Set<string>();
  const invalidTargets = new Set<string>();
  for (const [target, to] of Object.entries(choices.deletedSteps))
    if (to !== null && (!next.steps[to] || to === next.triggerStepId)) invalidTargets.add(target);

  for (const p of args.populations) {
    const v = versions[p.versionId];
    if (!v) continue;
    const customers = p.waiting + p.parked + p.active + (p.held ?? 0);
    if (customers === 0) continue;
    const label = v.labels[p.stepId] ?? p.stepId;
    const before = v.plan.steps[p.stepId];
    const after = next.steps[p.stepId];
    const change: MigrationLine["change"] = !after
      ? "deleted"
      : before && before.type !== after.type
        ? "replaced"
        : before && stableJson(before.config) !== stableJson(after.config)
          ? "changed"
          : "unchanged";
    const who = `${population(p)} at ${label}`;
    const base = { ...p, version: v.version, label, customers, change };
    if (choices.mode === "keep") {
      lines.push({
        ...base,
        to: { kind: "stay" },
        sentence: `${who} stay on version ${v.version}`,
      });
      continue;
    }
    if (change === "deleted" || change === "replaced") {
      const gone = change === "deleted" ? "deleted" : "now another kind of step";
      const choice = choices.deletedSteps[p.stepId];
      if (choice === undefined || invalidTargets.has(p.stepId)) {
        unmapped.add(p.stepId);
        lines.push({
          ...base,
          to: { kind: "unmapped" },
          sentence: `${who} (${gone}) → choose a step for them, or let them leave the journey`,
        });
      } else if (choice === null) {
        lines.push({
          ...base,
          to: { kind: "exit" },
          sentence: `${who} (${gone}) → leave the journey`,
        });
      } else {
        lines.push({
          ...base,
          to: { kind: "step", stepId: choice },
          sentence: `${who} (${gone}) → ${labelNext(choice)} (they start that step)`,
        });
      }
      continue;
    }
    const note = before && after ? waitChange(before, after, choices.changedWaits) : null;
    lines.push({
      ...base,
      to: { kind: "same" },
      sentence: `${who} → same step${note ? `, ${note}` : ""}`,
    });
  }

  const customers = lines.reduce((s, l) => s + l.customers, 0);
  const leaving = lines.filter((l) => l.to.kind === "exit").reduce((s, l) => s + l.customers, 0);
  const moving =
    choices.mode === "keep"
      ? 0
      : lines.filter((l) => l.to.kind !== "unmapped").reduce((s, l) => s + l.customers, 0);
  return {
    lines,
    unmapped: [...unmapped],
    invalidTargets: [...invalidTargets],
    customers,
    moving,
    leaving,
    newEntries: `New entries start version ${args.nextVersion} at ${labelNext(next.triggerStepId)}.${
      choices.mode === "keep"
        ? ` ${plural(customers, "customer")} already inside finish on the version they entered.`
        : ""
    }`,
  };
}

// ---------------------------------------------------------------------------------------------
// The move itself (issue 18, item 3): what happens to ONE run when it is moved. Pure; the engine
// (move.ts) reads the run, calls this, and commits the result guarded by the run's seq.

/** Where the customers at `stepId` of `from` go under `choices` (move mode). */
export function destinationOf(
  from: Plan,
  to: Plan,
  stepId: string,
  choices: MigrationChoices,
): Exclude<Destination, { kind: "stay" }> {
  const before = from.steps[stepId];
  const after = to.steps[stepId];
  if (after && (!before || before.type === after.type) && stepId !== to.triggerStepId)
    return { kind: "same" };
  const choice = choices.deletedSteps[stepId];
  if (choice === undefined) return { kind: "unmapped" };
  if (choice === null) return { kind: "exit" };
  if (!to.steps[choice] || choice === to.triggerStepId) return { kind: "unmapped" };
  return { kind: "step", stepId: choice };
}

function durationOf(d: unknown): number | null {
  const r = DurationSchema.safeParse(d);
  return r.success ? durationMs(r.data) : null;
}

export interface MovedRun {
  effects: Effect[];
  nextState: RunState;
  /** The trace sentence: "Moved from version 3 to 4: Reminder (deleted) → SMS reminder". */
  sentence: string;
}

/**
 * Moves one run that waits (a timer, quiet hours, a wait-for-event) at `state.stepId` of `from`
 * onto `to`. Only the current step moves: outputs, variables, the A/B arms already drawn and the
 * splits already passed are kept as they are. Returns null for a step without a destination
 * (deleted, and no choice was made for it): the run stays on its version.
 */
export function moveRunState(args: {
  from: { version: number; plan: Plan; labels: Record<string, string> };
  to: { version: number; plan: Plan; labels: Record<string, string> };
  state: RunState;
  choices: MigrationChoices;
  now: number;
}): MovedRun | null {
  const { from, to, state, choices, now } = args;
  const stepId = state.stepId;
  const dest = destinationOf(from.plan, to.plan, stepId, choices);
  if (dest.kind === "unmapped") return null;
  const label = from.labels[stepId] ?? stepId;
  const head = `Moved from version ${from.version} to ${to.version}: ${label}`;
  const trace = (sentence: string, detail: Record<string, unknown>): Effect => ({
    kind: "trace",
    stepId,
    decision: "run.moved",
    detail: {
      text: sentence,
      fromVersion: from.version,
      toVersion: to.version,
      from: stepId,
      ...detail,
    },
  });
  const gone = from.plan.steps[stepId] && !to.plan.steps[stepId] ? "deleted" : "replaced";
  if (dest.kind === "exit") {
    const sentence = `${head} (${gone}) → left the journey`;
    const reason = `moved to version ${to.version}: ${label} was ${gone === "deleted" ? "deleted" : "replaced"}`;
    const nextState: RunState = {
      ...structuredClone(state),
      status: "exited",
      endedAt: now,
      waitUntil: null,
      parkedFor: null,
      held: false,
      exitReason: reason,
    };
    return {
      sentence,
      nextState,
      effects: [
        trace(sentence, { to: null, change: gone }),
        { kind: "trace", stepId, decision: "run.exited", detail: { reason } },
        { kind: "exit", reason },
      ],
    };
  }
  if (dest.kind === "step") {
    const target = to.labels[dest.stepId] ?? dest.stepId;
    const sentence = `${head} (${gone}) → ${target}`;
    const entered = enterStep(to.plan, state, dest.stepId, now);
    return {
      sentence,
      nextState: entered.nextState,
      effects: [trace(sentence, { to: dest.stepId, change: gone }), ...entered.effects],
    };
  }
  // The same step: the run keeps waiting there, under the new version's settings.
  const before = from.plan.steps[stepId];
  const after = to.plan.steps[stepId]!;
  const next = structuredClone(state);
  const changed = !before || stableJson(before.config) !== stableJson(after.config);
  const notes: string[] = [];
  const recompute = changed && choices.changedWaits === "fromStart";
  if (state.status === "parked" && after.type === "wait.event") {
    const a = cfg(after);
    const b = before ? cfg(before) : {};
    const correlate = a["correlate"] as { property: string; triggerProperty: string } | null;
    const correlation = correlate
      ? {
          property: correlate.property,
          value: getPath(state.trigger?.properties, correlate.triggerProperty) ?? null,
        }
      : null;
    if (
      stableJson(b["event"]) !== stableJson(a["event"]) ||
      stableJson(b["correlate"]) !== stableJson(a["correlate"])
    )
      notes.push(`now waits for ${String(a["event"])}, same deadline`);
    next.parkedFor = { event: String(a["event"]), correlation };
    const oldMs = durationOf(b["timeout"]);
    const newMs = durationOf(a["timeout"]);
    if (
      recompute &&
      state.waitUntil !== null &&
      oldMs !== null &&
      newMs !== null &&
      oldMs !== newMs
    ) {
      next.waitUntil = state.waitUntil - oldMs + newMs;
      notes.push(`timeout now ${duration(a["timeout"])}, counted from when they started waiting`);
    }
  } else if (state.status === "waiting" && WAIT_TYPES.has(after.type) && recompute) {
    const oldMs = before?.type === "wait.duration" ? durationOf(cfg(before)) : null;
    const newMs = after.type === "wait.duration" ? durationOf(cfg(after)) : null;
    if (state.waitUntil !== null && oldMs !== null && newMs !== null) {
      next.waitUntil = state.waitUntil - oldMs + newMs;
      notes.push(`wait now ${duration(cfg(after))}, counted from when they started waiting`);
    } else {
      // A date, a time of day, a date attribute: worked out again as on arrival.
      next.waitUntil = enterStep(to.plan, state, stepId, now).nextState.waitUntil;
      notes.push("wait worked out again with the new settings");
    }
  } else if (changed) notes.push("keeps its due time");
  const sentence = `${head} → same step${notes.length ? `, ${notes.join("; ")}` : ""}`;
  const effects: Effect[] = [
    trace(sentence, { to: stepId, change: changed ? "changed" : "unchanged" }),
  ];
  if (next.waitUntil !== null) {
    if (next.status === "parked" && next.parkedFor)
      effects.push({
        kind: "park",
        stepId,
        event: next.parkedFor.event,
        correlation: next.parkedFor.correlation,
        until: next.waitUntil,
      });
    effects.push({ kind: "schedule", stepId, at: next.waitUntil });
  }
  return { sentence, nextState: next, effects };
}

/** What the marketer saw: customers per (version, step). Publishing compares it with now. */
export interface SeenCount {
  versionId: string;
  stepId: string;
  customers: number;
}

/**
 * The differences between the counts the marketer saw and the counts now, in words ("415 now
 * wait at Reminder, not 412"); empty when they still hold.
 */
export function countChanges(seen: SeenCount[], now: MigrationLine[]): string[] {
  const key = (v: string, s: string) => `${v}\u0000${s}`;
  const before = new Map(seen.map((c) => [key(c.versionId, c.stepId), c.customers]));
  const after = new Map(now.map((l) => [key(l.versionId, l.stepId), l]));
  const out: string[] = [];
  for (const l of now) {
    const was = before.get(key(l.versionId, l.stepId)) ?? 0;
    if (was !== l.customers)
      out.push(
        `${l.customers.toLocaleString("en-US")} now at ${l.label}, not ${was.toLocaleString("en-US")}`,
      );
  }
  for (const c of seen)
    if (!after.has(key(c.versionId, c.stepId)) && c.customers > 0)
      out.push(`0 now at ${c.stepId}, not ${c.customers.toLocaleString("en-US")}`);
  return out;
}
