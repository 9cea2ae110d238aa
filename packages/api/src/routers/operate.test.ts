// The operate router through createCaller on a real database and Redis: the contract the canvas
// calls (workspace scoping, roles, shapes). Behaviour under load lives in packages/engine's tests.
import { processEventJob, processMaintenanceJob, processRunJob, track } from "@postpath/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

const draft = {
  schemaVersion: 1,
  settings: {},
  nodes: [
    { id: "t", type: "trigger.manual", position: { x: 0, y: 0 }, data: {} },
    {
      id: "w",
      type: "wait.duration",
      position: { x: 0, y: 100 },
      data: { amount: 1, unit: "days" },
    },
    { id: "x", type: "flow.exit", position: { x: 0, y: 200 }, data: {} },
  ],
  edges: [
    { id: "e1", source: "t", sourceHandle: "next", target: "w" },
    { id: "e2", source: "w", sourceHandle: "next", target: "x" },
  ],
};

describe("operate router (real Postgres + Redis, createCaller)", () => {
  let env: ApiTestEnv<"a" | "b" | "viewer">;

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["a", "op-a", "MARKETER"],
        ["b", "op-b", "MARKETER"],
        ["viewer", "op-a", "VIEWER"],
      ] as const,
      { prefix: "op" },
    );
  });
  afterAll(async () => {
    await env?.close();
  });

  it("enrols by id, reports progress, counts per node, shows a customer's runs, pauses/resumes/stops", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id: journeyId } = await a.journeys.create({ name: "Manual", draft: draft as never });
    await a.journeys.publish({ id: journeyId });
    await env.db.prisma.customer.create({
      data: { workspaceId: env.users.a.workspaceId, externalId: "ann", email: "ann@example.com" },
    });

    const { enrolmentId } = await a.operate.enrol({
      journeyId,
      externalIds: ["ann@example.com", "nobody"],
    });
    // Drive the jobs by hand (no workers in this test): the enrolment, then the run's entry.
    await processMaintenanceJob(env.engine, { kind: "enrolment", enrolmentId });
    expect(await a.operate.enrolment({ enrolmentId })).toMatchObject({
      done: 1,
      total: 1,
      status: "DONE",
    });
    const run = await env.db.prisma.journeyRun.findFirstOrThrow({ where: { journeyId } });
    expect(
      await processRunJob(env.engine, { runId: run.id, seq: 0, input: { kind: "entered" } }),
    ).toBe("applied");

    const viewer = createCaller(env.ctxFor(env.users.viewer));
    const counts = await viewer.operate.nodeCounts({ journeyId });
    expect(counts.t).toEqual({
      entered: 1,
      waiting: 0,
      completed: 1,
      sent: 0,
      failed: 0,
      converted: 0,
      uncertain: 0,
    });
    expect(counts.w).toEqual({
      entered: 1,
      waiting: 1,
      completed: 0,
      sent: 0,
      failed: 0,
      converted: 0,
      uncertain: 0,
    });
    const runs = await viewer.operate.customerRuns({ journeyId, customer: "ann" });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      runId: run.id,
      status: "WAITING",
      versionNumber: 1,
      currentStepId: "w",
      endedAt: null,
    });
    expect(runs[0]!.traces.map((t) => t.kind)).toEqual(["entered", "wait.scheduled"]);
    // issue 18: the live trace in words, steps named as on the canvas (no ids, no JSON).
    expect(runs[0]).toMatchObject({ statusWords: "Waiting", currentStep: "Wait" });
    expect(runs[0]!.traces.map((t) => [t.stepName, t.text])).toEqual([
      ["Manual / API enrolment", "Entered the journey at “Manual / API enrolment”"],
      ["Wait", "Waiting 1 day"],
    ]);
    expect(runs[0]!.traces[1]!.until).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Trace times are the stored UTC instants, as ISO strings.
    const stored = await env.db.prisma.runTrace.findMany({
      where: { runId: run.id },
      orderBy: { id: "asc" },
    });
    expect(runs[0]!.traces.map((t) => t.at)).toEqual(stored.map((t) => t.at.toISOString()));

    expect(await a.operate.pause({ journeyId })).toEqual({ status: "PAUSED" });
    expect(await a.operate.resume({ journeyId })).toEqual({ status: "LIVE" });
    expect(await a.operate.stop({ journeyId })).toEqual({ status: "STOPPED" });
    const audit = await env.db.prisma.auditLog.findMany({
      where: { targetId: journeyId, action: { startsWith: "journey." } },
      orderBy: { at: "asc" },
    });
    expect(audit.map((e) => [e.action, e.actorId])).toEqual([
      ["journey.publish", env.users.a.id],
      ["journey.pause", env.users.a.id],
      ["journey.resume", env.users.a.id],
      ["journey.stop", env.users.a.id],
    ]);
    const after = await viewer.operate.customerRuns({ journeyId, customer: "ann" });
    expect(after[0]).toMatchObject({ status: "EXITED" });
    expect(after[0]!.traces.at(-1)).toMatchObject({
      kind: "run.exited",
      stepId: "w",
      detail: { reason: "journey stopped" },
    });
    expect((await rejects(a.operate.enrol({ journeyId, externalIds: ["ann"] }))).code).toBe(
      "CONFLICT",
    );
  });

  it("the journey list counts entries and conversions (goal reached by a later event)", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const withGoal = { ...draft, settings: { goal: { name: "repurchase", event: "purchase" } } };
    const { id: journeyId } = await a.journeys.create({ name: "Goal", draft: withGoal as never });
    await a.journeys.publish({ id: journeyId });
    await env.db.prisma.customer.create({
      data: { workspaceId: env.users.a.workspaceId, externalId: "gus", email: "gus@example.com" },
    });
    const { enrolmentId } = await a.operate.enrol({ journeyId, externalIds: ["gus"] });
    await processMaintenanceJob(env.engine, { kind: "enrolment", enrolmentId });
    const run = await env.db.prisma.journeyRun.findFirstOrThrow({ where: { journeyId } });
    await processRunJob(env.engine, { runId: run.id, seq: 0, input: { kind: "entered" } });
    const listed = async () => (await a.journeys.list()).find((j) => j.id === journeyId);
    expect(await listed()).toMatchObject({ entered: 1, converted: 0 });

    const { eventId } = await track(env.engine, env.users.a.workspaceId, {
      userId: "gus",
      event: "purchase",
    });
    await processEventJob(env.engine, { eventId });
    const waiting = await env.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(
      await processRunJob(env.engine, {
        runId: run.id,
        seq: waiting.seq,
        input: { kind: "event", eventId },
      }),
    ).toBe("applied");
    expect(await listed()).toMatchObject({ entered: 1, converted: 1 });
  });

  it("scopes to the workspace and refuses viewers' writes", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id: journeyId } = await a.journeys.create({ name: "Scoped", draft: draft as never });
    await a.journeys.publish({ id: journeyId });
    const b = createCaller(env.ctxFor(env.users.b));
    expect((await rejects(b.operate.pause({ journeyId }))).code).toBe("NOT_FOUND");
    expect((await rejects(b.operate.nodeCounts({ journeyId }))).code).toBe("NOT_FOUND");
    expect(
      (await rejects(createCaller(env.ctxFor(env.users.viewer)).operate.stop({ journeyId }))).code,
    ).toBe("FORBIDDEN");
    expect((await rejects(a.operate.enrolment({ enrolmentId: "nope" }))).code).toBe("NOT_FOUND");
    expect((await rejects(a.operate.enrol({ journeyId }))).code).toBe("BAD_REQUEST");
  });
});
