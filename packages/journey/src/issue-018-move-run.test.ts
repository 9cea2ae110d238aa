// Issue 18, item 3: moving one run (pure) — a changed wait keeps its due time or is counted again
// from when the customer started waiting; outputs, variables and A/B arms are carried over as
// they are; a step without a destination is not moved.
import { describe, expect, it } from "vitest";
import { advance, initialState } from "./advance.ts";
import { draftFromSteps, type StepSpec } from "./builder.ts";
import { compile } from "./compile.ts";
import { moveRunState, previewMigration } from "./migration.ts";
import type { Plan } from "./plan.ts";

function plan(steps: StepSpec[]): Plan {
  const r = compile(draftFromSteps(steps));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 9);

const v1 = plan([
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
  { id: "w", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "x" },
  { id: "x", type: "flow.exit" },
]);
const v2 = plan([
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
  { id: "w", type: "wait.duration", data: { amount: 5, unit: "days" }, next: "x" },
  { id: "x", type: "flow.exit" },
]);

function waitingOnV1() {
  const s0 = initialState(v1, {
    runId: "r1",
    customer: { id: "c1", externalId: "ada", attributes: {}, tags: [] },
    trigger: { name: "purchase", properties: {}, timestamp: T0 },
  });
  const s = advance(v1, s0, { kind: "entered" }, T0).nextState;
  s.vars["ab"] = { arm: "b" };
  return s;
}

const versions = {
  from: { version: 1, plan: v1, labels: { w: "Reminder wait" } },
  to: { version: 2, plan: v2, labels: {} },
};

describe("issue 18: moveRunState", () => {
  it("a changed wait counted from the start: waited 1 of 3 days, now 5 → due 4 days from now", () => {
    const state = waitingOnV1();
    expect(state.waitUntil).toBe(T0 + 3 * DAY);
    const moved = moveRunState({
      ...versions,
      state,
      choices: { mode: "move", deletedSteps: {}, changedWaits: "fromStart" },
      now: T0 + DAY,
    })!;
    expect(moved.nextState.waitUntil).toBe(T0 + 5 * DAY);
    expect(moved.effects).toContainEqual({ kind: "schedule", stepId: "w", at: T0 + 5 * DAY });
    expect(moved.sentence).toBe(
      "Moved from version 1 to 2: Reminder wait → same step, wait now 5 days, counted from when they started waiting",
    );
    expect(moved.nextState.vars).toEqual({ ab: { arm: "b" } });
  });

  it("keeping the due time leaves it as it was", () => {
    const state = waitingOnV1();
    const moved = moveRunState({
      ...versions,
      state,
      choices: { mode: "move", deletedSteps: {}, changedWaits: "keepDueTime" },
      now: T0 + DAY,
    })!;
    expect(moved.nextState.waitUntil).toBe(T0 + 3 * DAY);
    expect(moved.nextState).toEqual({ ...state });
  });

  it("a deleted step without a choice is not moved; with one it starts the chosen step", () => {
    const v3 = plan([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "later" },
      { id: "later", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const to = { version: 3, plan: v3, labels: { later: "One hour later" } };
    const state = waitingOnV1();
    const choices = {
      mode: "move" as const,
      deletedSteps: {},
      changedWaits: "keepDueTime" as const,
    };
    expect(moveRunState({ from: versions.from, to, state, choices, now: T0 })).toBeNull();
    const moved = moveRunState({
      from: versions.from,
      to,
      state,
      choices: { ...choices, deletedSteps: { w: "later" } },
      now: T0 + DAY,
    })!;
    expect(moved.sentence).toBe(
      "Moved from version 1 to 3: Reminder wait (deleted) → One hour later",
    );
    expect(moved.nextState).toMatchObject({
      stepId: "later",
      status: "waiting",
      waitUntil: T0 + DAY + 3_600_000,
    });
  });

  it("the preview counts customers held by quiet hours apart", () => {
    const p = previewMigration({
      versions: { v1: { version: 1, plan: v1, labels: { w: "Reminder wait" } } },
      next: v2,
      nextLabels: {},
      nextVersion: 2,
      populations: [{ versionId: "v1", stepId: "w", waiting: 3, parked: 0, active: 0, held: 2 }],
      choices: { mode: "keep", deletedSteps: {}, changedWaits: "keepDueTime" },
    });
    expect(p.customers).toBe(5);
    expect(p.lines[0]?.sentence).toBe(
      "3 waiting, 2 held by quiet hours at Reminder wait stay on version 1",
    );
  });
});
