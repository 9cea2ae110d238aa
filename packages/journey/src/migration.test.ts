// Issue 18: the migration preview — per step of the old version, how many customers and where they
// go, in the sentence the publish dialog shows.
import { describe, expect, it } from "vitest";
import { draftFromSteps, type StepSpec } from "./builder.ts";
import { compile } from "./compile.ts";
import { previewMigration, type MigrationChoices, type StepPopulation } from "./migration.ts";
import type { Plan } from "./plan.ts";

function plan(steps: StepSpec[]): Plan {
  const r = compile(draftFromSteps(steps));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

const v1 = plan([
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "reg" },
  {
    id: "reg",
    type: "wait.event",
    data: { event: "registered", timeout: { amount: 7, unit: "days" } },
    next: { arrived: "thanks", timedOut: "delay" },
  },
  { id: "delay", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "reminder" },
  { id: "reminder", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "email" },
  { id: "email", type: "action.email", data: { subject: "Hi", body: "Hello" }, next: "x" },
  { id: "thanks", type: "action.email", data: { subject: "Thanks", body: "Thanks" }, next: "x" },
  { id: "x", type: "flow.exit" },
]);

const v2 = plan([
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "reg" },
  {
    id: "reg",
    type: "wait.event",
    data: { event: "registered", timeout: { amount: 14, unit: "days" } },
    next: { arrived: "thanks", timedOut: "delay" },
  },
  { id: "delay", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "sms" },
  { id: "sms", type: "action.sms", data: { body: "Register now" }, next: "email" },
  { id: "email", type: "action.email", data: { subject: "Hi", body: "Hello" }, next: "x" },
  { id: "thanks", type: "action.email", data: { subject: "Thanks", body: "Thanks" }, next: "x" },
  { id: "x", type: "flow.exit" },
]);

const labels = {
  t: "Machine purchased",
  reg: "Wait for registration",
  delay: "Two days",
  reminder: "Reminder",
  sms: "SMS reminder",
  email: "Last email",
  thanks: "Thank you",
};

const populations: StepPopulation[] = [
  { versionId: "v1", stepId: "reminder", waiting: 412, parked: 0, active: 0 },
  { versionId: "v1", stepId: "reg", waiting: 0, parked: 96, active: 0 },
  { versionId: "v1", stepId: "delay", waiting: 5, parked: 0, active: 1 },
  { versionId: "v1", stepId: "email", waiting: 0, parked: 0, active: 0 },
];

const preview = (choices: MigrationChoices) =>
  previewMigration({
    versions: { v1: { version: 1, plan: v1, labels } },
    next: v2,
    nextLabels: labels,
    nextVersion: 2,
    populations,
    choices,
  });

describe("migration preview", () => {
  it("says who moves where: a deleted step to the marketer's choice, changed waits with their rule", () => {
    const p = preview({
      mode: "move",
      deletedSteps: { reminder: "sms" },
      changedWaits: "fromStart",
    });
    expect(p.lines.map((l) => l.sentence)).toEqual([
      "412 waiting at Reminder (deleted) → SMS reminder (they start that step)",
      "96 waiting for an event at Wait for registration → same step, timeout now 14 days (counted from when each customer started waiting)",
      "5 waiting, 1 in progress at Two days → same step",
    ]);
    expect(p.unmapped).toEqual([]);
    expect(p).toMatchObject({ customers: 514, moving: 514, leaving: 0 });
    expect(p.newEntries).toBe("New entries start version 2 at Machine purchased.");
  });

  it("never drops people by default: a deleted step without a choice blocks publishing", () => {
    const p = preview({ mode: "move", deletedSteps: {}, changedWaits: "keepDueTime" });
    expect(p.unmapped).toEqual(["reminder"]);
    expect(p.lines[0]?.to).toEqual({ kind: "unmapped" });
    expect(p.lines[1]?.sentence).toContain("each customer keeps the due time they had");
    expect(p.moving).toBe(102);
  });

  it("lets a deleted step's customers leave, and refuses a target the new version lacks", () => {
    const leave = preview({
      mode: "move",
      deletedSteps: { reminder: null },
      changedWaits: "fromStart",
    });
    expect(leave.lines[0]?.sentence).toBe("412 waiting at Reminder (deleted) → leave the journey");
    expect(leave.leaving).toBe(412);
    for (const bad of ["nowhere", "t"]) {
      const p = preview({
        mode: "move",
        deletedSteps: { reminder: bad },
        changedWaits: "fromStart",
      });
      expect(p.invalidTargets).toEqual(["reminder"]);
      expect(p.unmapped).toEqual(["reminder"]);
    }
  });

  it("keeps everyone on their version when the marketer chooses to", () => {
    const p = preview({ mode: "keep", deletedSteps: {}, changedWaits: "fromStart" });
    expect(p.lines.every((l) => l.to.kind === "stay")).toBe(true);
    expect(p.lines[0]?.sentence).toBe("412 waiting at Reminder stay on version 1");
    expect(p.moving).toBe(0);
    expect(p.newEntries).toBe(
      "New entries start version 2 at Machine purchased. 514 customers already inside finish on the version they entered.",
    );
  });

  it("a wait-for-event on another event keeps each deadline", () => {
    const v3 = plan([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "reg" },
      {
        id: "reg",
        type: "wait.event",
        data: { event: "form_submitted", timeout: { amount: 7, unit: "days" } },
        next: { arrived: "x", timedOut: "x" },
      },
      { id: "x", type: "flow.exit" },
    ]);
    const p = previewMigration({
      versions: { v1: { version: 1, plan: v1, labels } },
      next: v3,
      nextLabels: labels,
      nextVersion: 3,
      populations: [{ versionId: "v1", stepId: "reg", waiting: 0, parked: 3, active: 0 }],
      choices: { mode: "move", deletedSteps: {}, changedWaits: "keepDueTime" },
    });
    expect(p.lines[0]?.sentence).toBe(
      "3 waiting for an event at Wait for registration → same step, now waits for form_submitted, keeping each deadline",
    );
  });
});
