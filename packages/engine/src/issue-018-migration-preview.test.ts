// Issue 18, item 2: the migration preview counts, on Postgres, who is where in a live journey —
// waiting on a timer, waiting for an event — and samples them, before a new version is published.
import { compile, draftFromSteps, type StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { labelsOf, migrationPreview } from "./migration.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;

beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

const v1: StepSpec[] = [
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "split" },
  {
    id: "split",
    type: "split.condition",
    data: { conditions: [{ property: "event.registered", op: "eq", value: true }] },
    next: { yes: "reminder", no: "reg" },
  },
  { id: "reminder", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "end" },
  {
    id: "reg",
    type: "wait.event",
    data: { event: "registered", timeout: { amount: 7, unit: "days" } },
    next: { arrived: "end", timedOut: "end" },
  },
];

describe("issue 18: migration preview", () => {
  it("counts the customers at each step of the live version and says where they go", async () => {
    const { journeyId } = await h.publish("live edit", v1);
    for (let i = 0; i < 7; i++) {
      await h.customer(`m${i}`, { email: `m${i}@example.com` });
      await track(h.ctx, h.workspaceId, {
        userId: `m${i}`,
        event: "purchase",
        properties: { registered: i < 4 },
      });
    }
    await waitFor("4 waiting at the reminder, 3 parked", async () => {
      const n = await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } });
      return n === 7 ? n : null;
    });

    const next = [
      v1[0]!,
      { ...v1[1]!, next: { yes: "sms", no: "reg" } },
      { id: "sms", type: "action.sms", data: { body: "Hi" }, next: "end" },
      { ...v1[3]!, data: { event: "registered", timeout: { amount: 14, unit: "days" } } },
      { id: "end", type: "flow.exit" },
    ] as StepSpec[];
    const draft = draftFromSteps(next);
    draft.nodes = draft.nodes.map((n) =>
      n.id === "sms" ? { ...n, data: { ...n.data, label: "SMS reminder" } } : n,
    );
    const compiled = compile(draft);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const preview = await migrationPreview(
      h.db,
      journeyId,
      { plan: compiled.plan, labels: labelsOf(draft) },
      { mode: "move", deletedSteps: { reminder: "sms" }, changedWaits: "fromStart" },
    );
    expect(preview.lines.map((l) => [l.stepId, l.waiting, l.parked, l.sentence])).toEqual([
      [
        "reg",
        0,
        3,
        "3 waiting for an event at reg → same step, timeout now 14 days (counted from when each customer started waiting)",
      ],
      ["reminder", 4, 0, "4 waiting at reminder (deleted) → SMS reminder (they start that step)"],
    ]);
    expect(preview).toMatchObject({ customers: 7, moving: 7, unmapped: [] });
    const sample = preview.samples.find((s) => s.stepId === "reminder");
    expect(sample?.customers.map((c) => c.externalId).sort()).toEqual(["m0", "m1", "m2", "m3"]);
    expect(sample?.customers.every((c) => c.email?.endsWith("@example.com"))).toBe(true);

    // Without a choice for the deleted step, nobody is silently dropped.
    const open = await migrationPreview(
      h.db,
      journeyId,
      { plan: compiled.plan, labels: {} },
      { mode: "move", deletedSteps: {}, changedWaits: "keepDueTime" },
    );
    expect(open.unmapped).toEqual(["reminder"]);
  });
});
