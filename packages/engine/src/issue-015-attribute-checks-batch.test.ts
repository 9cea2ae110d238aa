// Issue 15, item 1: journey steps that change a customer's attributes or tags queue their segment
// checks in batches (attribute-checks.ts): the runs committing together queue one
// `{ customerIds, reason: "attributes" }` job per MAX_CUSTOMERS_PER_CHECK customers, not one job
// per run. Per customer the outcome is the single check's: whoever now matches a live
// segment-triggered journey enters it once, in its own workspace, whatever other workspaces' runs
// shared the batch; a workspace without segment-triggered journeys queues no check. A run job
// whose check could not be queued fails (its transition stays committed), and its retry queues the
// check from the stale path; so does a run woken by a timer bucket, through the job the failed
// bucket hands it (the bucket's retry reads only runs still waiting). Real Postgres and Redis;
// the test runs the jobs itself, then once with the harness's workers.
import type { StepSpec } from "@postpath/journey";
import { describe, expect, it } from "vitest";
import { toSnapshot } from "./customer.ts";
import { enrolEntries, type EntryInput } from "./enrol.ts";
import { processEventJob } from "./events.ts";
import type { EventJob, RunJob } from "./queues.ts";
import { processRunJob } from "./runner.ts";
import {
  PREMIUM_SEGMENT_JOURNEY,
  runProgress,
  UPGRADE_STEPS,
  waitFor,
  type EngineHarness,
} from "./testing/harness.ts";
import { harnessesClosedAfterEach } from "./testing/harness-hooks.ts";
import { processTimerBucket } from "./wake.ts";

// The other workspaces' harnesses share the first one's database.
const harness = harnessesClosedAfterEach({ workers: false });

/** `go` starts it; it sets plan = premium and waits a day. */
const upgrade: StepSpec[] = [
  { id: "t", type: "trigger.event", data: { event: "go" }, next: "a" },
  ...UPGRADE_STEPS,
];
const premium = PREMIUM_SEGMENT_JOURNEY;

/** `n` basic customers u0… in the harness's workspace, their ids in order. */
async function customers(x: EngineHarness, n: number): Promise<string[]> {
  await x.db.prisma.customer.createMany({
    data: Array.from({ length: n }, (_, i) => ({
      workspaceId: x.workspaceId,
      externalId: `u${i}`,
      attributes: { plan: "basic" },
    })),
  });
  const rows = await x.db.prisma.customer.findMany({
    where: { workspaceId: x.workspaceId },
    orderBy: { externalId: "asc" },
  });
  return rows.map((r) => r.id);
}

/** Enrols every customer of the workspace into the journey (its `entered` jobs in x's queue). */
async function enrolAll(
  x: EngineHarness,
  ws: EngineHarness,
  journey: { journeyId: string; versionId: string },
) {
  const rows = await x.db.prisma.customer.findMany({ where: { workspaceId: ws.workspaceId } });
  const entries: EntryInput[] = rows.map((r) => ({
    workspaceId: ws.workspaceId,
    journeyId: journey.journeyId,
    versionId: journey.versionId,
    customer: toSnapshot(r),
    trigger: { eventId: `go-${r.id}`, name: "go", properties: {}, timestamp: Date.now() },
  }));
  const results = await enrolEntries(x.ctx, entries);
  expect(results.every((r) => r.runId && !r.skipped)).toBe(true);
}

/** The segment checks waiting in x's events queue. */
async function queuedChecks(x: EngineHarness) {
  return (await x.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"])).filter(
    (j) => j.name === "customer" || j.name === "customers",
  );
}
const customersOf = (job: EventJob): string[] =>
  "customerIds" in job ? job.customerIds : "customerId" in job ? [job.customerId] : [];

/** Runs x's waiting run jobs at once, as a busy worker would (they commit together). */
async function runAll(x: EngineHarness): Promise<RunJob[]> {
  const jobs = await x.ctx.queues.runs.getJobs(["waiting", "prioritized"]);
  const outcomes = await Promise.all(jobs.map((j) => processRunJob(x.ctx, j.data)));
  expect(outcomes.every((o) => o === "applied")).toBe(true);
  for (const j of jobs) await j.remove();
  return jobs.map((j) => j.data);
}

async function runsPerCustomer(x: EngineHarness, journeyId: string) {
  const out = new Map<string, number>();
  for (const r of await x.db.prisma.journeyRun.findMany({
    where: { journeyId },
    select: { customerId: true },
  }))
    out.set(r.customerId, (out.get(r.customerId) ?? 0) + 1);
  return out;
}

describe("issue 15: attribute steps' segment checks in batches", () => {
  it("runs committing together queue one check for their customers, across workspaces; each enters once", async () => {
    const a = await harness();
    const b = await harness({ db: a.db });
    const c = await harness({ db: a.db }); // no segment-triggered journey
    const upA = await a.publish("upgrade", upgrade);
    const upB = await b.publish("upgrade", upgrade);
    const upC = await c.publish("upgrade", upgrade);
    const inA = await a.publish("premium", premium);
    const inB = await b.publish("premium", premium);
    // Same external ids in every workspace: different customers.
    const idsA = await customers(a, 150);
    const idsB = await customers(b, 50);
    const idsC = await customers(c, 20);
    // Every run's first job goes to a's queue and runs on a's engine context: one worker.
    await enrolAll(a, a, upA);
    await enrolAll(a, b, upB);
    await enrolAll(a, c, upC);
    const runs = await runAll(a);
    expect(runs).toHaveLength(220);

    const jobs = await queuedChecks(a);
    const checked = jobs.flatMap((j) => customersOf(j.data));
    console.log(`${runs.length} runs with attribute steps -> ${jobs.length} check jobs`);
    expect(jobs.length).toBeLessThan(runs.length / 10);
    expect(jobs.every((j) => "reason" in j.data && j.data.reason === "attributes")).toBe(true);
    // Each customer of a workspace with segment-triggered journeys once; none of c's.
    expect(checked.sort()).toEqual([...idsA, ...idsB].sort());

    for (const j of jobs) await processEventJob(a.ctx, j.data);
    for (const [x, journeyId, ids] of [
      [a, inA.journeyId, idsA],
      [b, inB.journeyId, idsB],
    ] as const) {
      const entered = await runsPerCustomer(x, journeyId);
      expect([...entered.keys()].sort()).toEqual([...ids].sort());
      expect([...entered.values()].every((n) => n === 1)).toBe(true);
    }
    // The checks again (a replay): nobody enters twice.
    for (const j of jobs) expect((await processEventJob(a.ctx, j.data)).enrolled).toBe(0);
    expect(await a.db.prisma.journeyRun.count({ where: { journeyId: inA.journeyId } })).toBe(150);
    expect(await a.db.prisma.journeyRun.count({ where: { journeyId: inB.journeyId } })).toBe(50);
    // c's runs changed their customers all the same.
    expect(
      (
        await c.db.prisma.customer.findMany({
          where: { workspaceId: c.workspaceId, tags: { has: "upgraded" } },
          select: { id: true },
        })
      )
        .map((r) => r.id)
        .sort(),
    ).toEqual([...idsC].sort());
  });

  it("a check that fails to queue fails the run job; its retry queues it, and a check that got there is not queued twice", async () => {
    const h = await harness();
    const up = await h.publish("upgrade", upgrade);
    const inside = await h.publish("premium", premium);
    const [ann, bob] = (await customers(h, 2)) as [string, string];
    await enrolAll(h, h, up);
    const jobs = await h.ctx.queues.runs.getJobs(["waiting", "prioritized"]);
    expect(jobs).toHaveLength(2);
    const [firstJob, otherJob] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
    const { customerId: first } = await h.db.prisma.journeyRun.findUniqueOrThrow({
      where: { id: firstJob.data.runId },
    });
    const second = first === ann ? bob : ann;
    for (const j of jobs) await j.remove();

    // Redis refuses the check: the run job fails, though its transition committed.
    const events = h.ctx.queues.events;
    const addBulk = events.addBulk.bind(events);
    events.addBulk = () => Promise.reject(new Error("Redis is away"));
    await expect(processRunJob(h.ctx, firstJob.data)).rejects.toThrow("Redis is away");
    events.addBulk = addBulk;
    expect(
      (await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: firstJob.data.runId } })).seq,
    ).toBe(1);
    expect(await queuedChecks(h)).toHaveLength(0);
    // Its retry finds the run moved on and queues the check.
    expect(await processRunJob(h.ctx, firstJob.data)).toBe("stale");
    const checks = await queuedChecks(h);
    expect(checks.map((j) => customersOf(j.data))).toEqual([[first]]);

    // A run whose check got to Redis, retried (the worker died before acknowledging the job):
    // the same check's name, so nothing is added.
    expect(await processRunJob(h.ctx, otherJob.data)).toBe("applied");
    expect((await queuedChecks(h)).length).toBe(2);
    expect(await processRunJob(h.ctx, otherJob.data)).toBe("stale");
    const all = await queuedChecks(h);
    expect(all.flatMap((j) => customersOf(j.data)).sort()).toEqual([ann, bob].sort());

    for (const j of all) await processEventJob(h.ctx, j.data);
    const entered = await runsPerCustomer(h, inside.journeyId);
    expect(entered.get(first)).toBe(1);
    expect(entered.get(second)).toBe(1);
  });

  it("runs woken by a timer bucket whose checks fail to queue get their own jobs, which queue the checks", async () => {
    let ahead = 0; // the engine's clock, moved past the wait
    const h = await harness({
      now: () => Date.now() + ahead,
      timers: { bucketMs: 60_000, directWithinMs: 1000 },
    });
    const later: StepSpec[] = [
      { id: "t", type: "trigger.event", data: { event: "go" }, next: "h" },
      { id: "h", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "a" },
      ...UPGRADE_STEPS,
    ];
    const up = await h.publish("upgrade later", later);
    const inside = await h.publish("premium", premium);
    const ids = await customers(h, 6);
    await enrolAll(h, h, up);
    await runAll(h); // every run waits an hour, in one or two timer buckets
    const waiting = await h.db.prisma.journeyRun.findMany({ where: { journeyId: up.journeyId } });
    expect(waiting.every((r) => r.status === "WAITING")).toBe(true);
    const buckets = await h.ctx.queues.timers.getJobs(["delayed", "waiting"]);
    expect(buckets.length).toBeGreaterThan(0);
    ahead = 2 * 3600_000;

    // Redis refuses the checks: the bucket fails, though its runs' transitions committed.
    const events = h.ctx.queues.events;
    const addBulk = events.addBulk.bind(events);
    events.addBulk = () => Promise.reject(new Error("Redis is away"));
    for (const b of buckets)
      await expect(
        processTimerBucket(h.ctx, b.data, { inFlight: 8, pausePollMs: 300 }),
      ).rejects.toThrow("Redis is away");
    events.addBulk = addBulk;
    const moved = await h.db.prisma.journeyRun.findMany({ where: { journeyId: up.journeyId } });
    expect(moved.map((r) => r.seq)).toEqual(waiting.map(() => 2));
    expect(await queuedChecks(h)).toHaveLength(0);
    // The bucket's retry reads waiting runs only: it finds none of them.
    for (const b of buckets)
      expect(
        (await processTimerBucket(h.ctx, b.data, { inFlight: 8, pausePollMs: 300 })).runs,
      ).toBe(0);

    // Each failed run was handed its own job; it finds the run moved on and queues the check.
    const own = await h.ctx.queues.runs.getJobs(["waiting", "prioritized"]);
    expect(own.map((j) => j.data.runId).sort()).toEqual(waiting.map((r) => r.id).sort());
    const outcomes = await Promise.all(own.map((j) => processRunJob(h.ctx, j.data)));
    expect(outcomes.every((o) => o === "stale")).toBe(true);
    const checks = await queuedChecks(h);
    expect(checks.flatMap((j) => customersOf(j.data)).sort()).toEqual([...ids].sort());
    for (const j of checks) await processEventJob(h.ctx, j.data);
    const entered = await runsPerCustomer(h, inside.journeyId);
    expect([...entered.keys()].sort()).toEqual([...ids].sort());
    expect([...entered.values()].every((n) => n === 1)).toBe(true);
  });

  it("with workers running: fewer check jobs than runs, and every customer enters once", async () => {
    const h = await harness({ workers: {} });
    const up = await h.publish("upgrade", upgrade);
    const inside = await h.publish("premium", premium);
    const ids = await customers(h, 300);
    await enrolAll(h, h, up);
    await waitFor(
      "every customer in the segment-triggered journey",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId: inside.journeyId } })) ===
        ids.length,
      {
        progress: async () => [
          await runProgress(h.db, up.journeyId),
          await runProgress(h.db, inside.journeyId),
        ],
      },
    );
    const jobs = (
      await h.ctx.queues.events.getJobs([
        "completed",
        "failed",
        "active",
        "waiting",
        "delayed",
        "prioritized",
      ])
    ).filter((j) => "reason" in j.data && j.data.reason === "attributes");
    console.log(`${ids.length} runs with attribute steps on workers -> ${jobs.length} check jobs`);
    expect(jobs.length).toBeLessThan(ids.length);
    expect([...new Set(jobs.flatMap((j) => customersOf(j.data)))].sort()).toEqual([...ids].sort());
    const entered = await runsPerCustomer(h, inside.journeyId);
    expect([...entered.values()].every((n) => n === 1)).toBe(true);
  });
});
