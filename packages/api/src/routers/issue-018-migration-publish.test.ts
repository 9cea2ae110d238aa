// Issue 18, items 1–2: publishing with a migration choice (real Postgres, createCaller). The counts
// the marketer saw are checked again in the publishing transaction; a deleted step with customers
// needs a choice; keeping customers on their version publishes as before.
import { draftFromSteps, type StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, TWO_WORKSPACES, type ApiTestEnv } from "../testing.ts";

let env: ApiTestEnv<"a" | "b" | "viewer">;

beforeAll(async () => {
  env = await openApiTestEnv(TWO_WORKSPACES, { prefix: "api18m" });
});
afterAll(async () => {
  await env?.close();
});

const v1: StepSpec[] = [
  { id: "trigger", type: "trigger.event", data: { event: "purchase" }, next: "reminder" },
  { id: "reminder", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "exit" },
  { id: "exit", type: "flow.exit" },
];
const v2: StepSpec[] = [
  { id: "trigger", type: "trigger.event", data: { event: "purchase" }, next: "sms" },
  { id: "sms", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "exit" },
  { id: "exit", type: "flow.exit" },
];

function labelled(steps: StepSpec[], labels: Record<string, string>) {
  const d = draftFromSteps(steps);
  d.nodes = d.nodes.map((n) =>
    labels[n.id] ? { ...n, data: { ...n.data, label: labels[n.id] } } : n,
  );
  return d;
}

/** A live journey with `n` customers waiting at "Reminder", and v2 saved as its draft. */
async function liveWithWaiting(name: string, n: number) {
  const a = createCaller(env.ctxFor(env.users.a));
  const { id, draftRevision } = await a.journeys.create({
    name,
    draft: labelled(v1, { reminder: "Reminder" }),
  });
  const { versionId } = await a.journeys.publish({ id });
  for (let i = 0; i < n; i++) await addWaiting(id, versionId, `${name}-${i}`);
  await a.journeys.saveDraft({
    id,
    draft: labelled(v2, { sms: "SMS reminder" }),
    revision: draftRevision,
  });
  return { a, id, versionId };
}

/** A customer waiting at "reminder" (as the runner leaves them: WAITING with a due time). */
async function addWaiting(journeyId: string, versionId: string, externalId: string) {
  const c = await env.db.prisma.customer.create({
    data: { workspaceId: env.users.a.workspaceId, externalId, email: `${externalId}@example.com` },
  });
  await env.db.prisma.journeyRun.create({
    data: {
      workspaceId: env.users.a.workspaceId,
      journeyId,
      versionId,
      customerId: c.id,
      entryNumber: 1,
      status: "WAITING",
      currentStepId: "reminder",
      seq: 2,
      waitingUntil: new Date(Date.now() + 3 * 86_400_000),
    },
  });
}

const move = {
  mode: "move" as const,
  deletedSteps: { reminder: "sms" },
  changedWaits: "keepDueTime" as const,
};

describe("issue 18: migration.publish", () => {
  it("refuses when the counts changed since the preview, naming the new numbers", async () => {
    const { a, id, versionId } = await liveWithWaiting("conflict", 3);
    const preview = await a.migration.preview({ journeyId: id, choices: move });
    expect(preview.lines.map((l) => [l.label, l.customers])).toEqual([["Reminder", 3]]);
    const seen = preview.lines.map((l) => ({
      versionId: l.versionId,
      stepId: l.stepId,
      customers: l.customers,
    }));
    await addWaiting(id, versionId, "late-comer");
    const err = await rejects(a.migration.publish({ journeyId: id, choices: move, seen }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toBe(
      "The numbers changed: 4 now at Reminder, not 3 — review the preview again.",
    );
    // Nothing was published.
    expect(await env.db.prisma.journeyVersion.count({ where: { journeyId: id } })).toBe(1);
    expect(await env.db.prisma.journeyMigration.count({ where: { journeyId: id } })).toBe(0);

    // With the new numbers it publishes, and a migration of the 4 is queued.
    const again = await a.migration.preview({ journeyId: id, choices: move });
    const done = await a.migration.publish({
      journeyId: id,
      choices: move,
      seen: again.lines.map((l) => ({
        versionId: l.versionId,
        stepId: l.stepId,
        customers: l.customers,
      })),
    });
    expect(done.version).toBe(2);
    const m = await env.db.prisma.journeyMigration.findUniqueOrThrow({
      where: { id: done.migrationId! },
    });
    expect(m).toMatchObject({
      status: "RUNNING",
      total: 4,
      fromVersionIds: [versionId],
      toVersionId: done.versionId,
    });
    const job = await env.engine.queues.jobs.getJob(`migration-${m.id}-0`);
    expect(job?.data).toEqual({ kind: "migration", migrationId: m.id, pass: 0 });
    const progress = await a.migration.progress({ journeyId: id });
    expect(progress).toMatchObject({
      status: "RUNNING",
      total: 4,
      moved: 0,
      fromVersions: [1],
      toVersion: 2,
    });
  });

  it("a deleted step with customers needs a choice; the error names the step", async () => {
    const { a, id } = await liveWithWaiting("unmapped", 2);
    const choices = {
      mode: "move" as const,
      deletedSteps: {},
      changedWaits: "keepDueTime" as const,
    };
    const preview = await a.migration.preview({ journeyId: id, choices });
    const seen = preview.lines.map((l) => ({
      versionId: l.versionId,
      stepId: l.stepId,
      customers: l.customers,
    }));
    const err = await rejects(a.migration.publish({ journeyId: id, choices, seen }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe(
      "Choose where the customers at Reminder (a deleted step) go: a step of the new version, or let them leave the journey.",
    );
    const wrong = await rejects(
      a.migration.publish({
        journeyId: id,
        choices: { ...choices, deletedSteps: { reminder: "nowhere" } },
        seen,
      }),
    );
    expect(wrong.message).toMatch(
      /^Choose a step of the new version for the customers at Reminder/,
    );
    expect(await env.db.prisma.journeyVersion.count({ where: { journeyId: id } })).toBe(2 - 1);
  });

  it("keeping customers on their version publishes without a migration", async () => {
    const { a, id } = await liveWithWaiting("keep", 2);
    const r = await a.migration.publish({
      journeyId: id,
      choices: { mode: "keep", deletedSteps: {}, changedWaits: "keepDueTime" },
    });
    expect(r).toMatchObject({ version: 2, migrationId: null });
    expect(await a.migration.progress({ journeyId: id })).toBeNull();
  });

  it("the full list pages through every customer with where they go; viewers cannot publish", async () => {
    const { id } = await liveWithWaiting("list", 5);
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    const p1 = await viewer.migration.customers({ journeyId: id, choices: move, limit: 3 });
    expect(p1.rows).toHaveLength(3);
    const p2 = await viewer.migration.customers({
      journeyId: id,
      choices: move,
      after: p1.next,
      limit: 3,
    });
    expect(p2).toMatchObject({ next: null });
    const all = [...p1.rows, ...p2.rows];
    expect(all.map((r) => r.externalId).sort()).toEqual([
      "list-0",
      "list-1",
      "list-2",
      "list-3",
      "list-4",
    ]);
    expect(
      all.every(
        (r) => r.step === "Reminder" && r.goes === "SMS reminder" && r.status === "waiting",
      ),
    ).toBe(true);
    const denied = await rejects(viewer.migration.publish({ journeyId: id, choices: move }));
    expect(denied.code).toBe("FORBIDDEN");
    // Another workspace's journey is not found.
    const b = createCaller(env.ctxFor(env.users.b));
    expect((await rejects(b.migration.progress({ journeyId: id }))).code).toBe("NOT_FOUND");
  });
});
