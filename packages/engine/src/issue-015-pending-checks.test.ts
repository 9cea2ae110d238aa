// issue 15: a journey step that changes its customer (attributes, tags) in a workspace with live
// segment-triggered journeys keeps its segment check in Postgres with the transition
// ("PendingCheck", written by the run's commit): the check job reads the customer's pending rows
// with the customer and deletes exactly those once done; the sweeper queues a check for rows older
// than its grace. So the check is not lost even when Redis refuses both the check and the timer
// bucket's hand-off of the run to its own job (the case attribute-checks.ts could not cover
// before). Real Postgres and Redis; the test runs the jobs itself.
import type { StepSpec } from "@postpath/journey";
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { toSnapshot } from "./customer.ts";
import { enrolEntries } from "./enrol.ts";
import { processEventJob } from "./events.ts";
import { sweep } from "./maintenance.ts";
import { processRunJob } from "./runner.ts";
import { PREMIUM_SEGMENT_JOURNEY, UPGRADE_STEPS, type EngineHarness } from "./testing/harness.ts";
import { harnessesClosedAfterEach } from "./testing/harness-hooks.ts";
import { processTimerBucket } from "./wake.ts";

const harness = harnessesClosedAfterEach({ workers: false });

/** `go` starts it; an hour later it sets plan = premium and tags the customer. */
const later: StepSpec[] = [
  { id: "t", type: "trigger.event", data: { event: "go" }, next: "h" },
  { id: "h", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "a" },
  ...UPGRADE_STEPS,
];
const premium = PREMIUM_SEGMENT_JOURNEY;

/** A harness whose clock can be moved ahead, with `n` basic customers enrolled in `later`. */
async function setUp(n: number, segmentJourney: boolean) {
  const clock = { ahead: 0 };
  const h = await harness({
    now: () => Date.now() + clock.ahead,
    timers: { bucketMs: 60_000, directWithinMs: 1000 },
  });
  const up = await h.publish("upgrade later", later);
  const inside = segmentJourney ? await h.publish("premium", premium) : null;
  await h.db.prisma.customer.createMany({
    data: Array.from({ length: n }, (_, i) => ({
      workspaceId: h.workspaceId,
      externalId: `u${i}`,
      attributes: { plan: "basic" },
    })),
  });
  const rows = await h.db.prisma.customer.findMany({ where: { workspaceId: h.workspaceId } });
  const results = await enrolEntries(
    h.ctx,
    rows.map((r) => ({
      workspaceId: h.workspaceId,
      journeyId: up.journeyId,
      versionId: up.versionId,
      customer: toSnapshot(r),
      trigger: { eventId: `go-${r.id}`, name: "go", properties: {}, timestamp: Date.now() },
    })),
  );
  expect(results.every((r) => r.runId && !r.skipped)).toBe(true);
  // Every run's first step: it waits an hour (in one or two timer buckets).
  const first = await h.ctx.queues.runs.getJobs(["waiting", "prioritized"]);
  await Promise.all(first.map((j) => processRunJob(h.ctx, j.data)));
  for (const j of first) await j.remove();
  return { h, clock, up, inside, ids: rows.map((r) => r.id).sort() };
}

const pendingRows = (h: EngineHarness) =>
  h.db.query<{ customerId: string; seq: number }>(
    `SELECT "customerId", seq FROM "PendingCheck" WHERE "workspaceId" = $1 ORDER BY 1`,
    [h.workspaceId],
  );
async function queuedChecks(h: EngineHarness) {
  return (await h.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"])).filter(
    (j) => j.name === "customer" || j.name === "customers",
  );
}
async function enteredOnce(h: EngineHarness, journeyId: string) {
  const runs = await h.db.prisma.journeyRun.findMany({
    where: { journeyId },
    select: { customerId: true },
  });
  const per = new Map<string, number>();
  for (const r of runs) per.set(r.customerId, (per.get(r.customerId) ?? 0) + 1);
  return { customers: [...per.keys()].sort(), once: [...per.values()].every((n) => n === 1) };
}

describe("issue 15: journey steps' segment checks are kept in Postgres until done", () => {
  it("Redis refusing both the check and the bucket's hand-off loses nothing: the sweeper queues the check", async () => {
    const { h, clock, inside, ids } = await setUp(5, true);
    const buckets = await h.ctx.queues.timers.getJobs(["delayed", "waiting"]);
    expect(buckets.length).toBeGreaterThan(0);
    clock.ahead = 2 * 3600_000;

    // Redis is away for every add: the checks' addBulk and each failed run's own job.
    const events = h.ctx.queues.events;
    const addBulk = events.addBulk.bind(events);
    const add = Object.getOwnPropertyDescriptor(Queue.prototype, "add")!;
    events.addBulk = () => Promise.reject(new Error("Redis is away"));
    Queue.prototype.add = () => Promise.reject(new Error("Redis is away"));
    try {
      for (const b of buckets)
        await expect(
          processTimerBucket(h.ctx, b.data, { inFlight: 8, pausePollMs: 300 }),
        ).rejects.toThrow("Redis is away");
    } finally {
      events.addBulk = addBulk;
      Object.defineProperty(Queue.prototype, "add", add);
    }
    // The transitions committed (plan = premium), with their checks kept; none reached Redis.
    const customers = await h.db.prisma.customer.findMany({ where: { id: { in: ids } } });
    expect(customers.every((c) => (c.attributes as { plan?: string }).plan === "premium")).toBe(
      true,
    );
    expect((await pendingRows(h)).map((r) => r.customerId).sort()).toEqual(ids);
    expect(await queuedChecks(h)).toHaveLength(0);
    expect(await h.ctx.queues.runs.getJobs(["waiting", "prioritized"])).toHaveLength(0);
    // The bucket's retry reads only runs still waiting: none. Nothing else queues the check...
    for (const b of buckets)
      expect(
        (await processTimerBucket(h.ctx, b.data, { inFlight: 8, pausePollMs: 300 })).runs,
      ).toBe(0);
    expect(await queuedChecks(h)).toHaveLength(0);

    // ...but the sweeper does, from the rows.
    const swept = await sweep(h.ctx, 1);
    expect(swept.checkJobs).toBeGreaterThan(0);
    const checks = await queuedChecks(h);
    const checked = checks.flatMap((j): string[] =>
      "customerIds" in j.data
        ? j.data.customerIds
        : "customerId" in j.data
          ? [j.data.customerId]
          : [],
    );
    expect(checked.sort()).toEqual(ids);
    for (const j of checks) await processEventJob(h.ctx, j.data);
    expect(await enteredOnce(h, inside!.journeyId)).toEqual({ customers: ids, once: true });
    // Done: the rows are gone, and the next sweep queues nothing.
    expect(await pendingRows(h)).toEqual([]);
    for (const j of checks) await j.remove();
    expect((await sweep(h.ctx, 1)).checkJobs).toBe(0);
  });

  it("a check deletes the pending rows of the customers it read, and only those", async () => {
    const { h, clock, inside, ids } = await setUp(3, true);
    clock.ahead = 2 * 3600_000;
    for (const b of await h.ctx.queues.timers.getJobs(["delayed", "waiting"]))
      await processTimerBucket(h.ctx, b.data, { inFlight: 8, pausePollMs: 300 });
    expect((await pendingRows(h)).map((r) => r.customerId).sort()).toEqual(ids);
    // A check for the first customer alone (as a retried job or an identify call would run).
    await processEventJob(h.ctx, { customerId: ids[0]!, reason: "attributes" });
    expect((await pendingRows(h)).map((r) => r.customerId).sort()).toEqual(ids.slice(1));
    // The batch's own checks (queued by the commit) cover the rest, the first customer entering once.
    for (const j of await queuedChecks(h)) await processEventJob(h.ctx, j.data);
    expect(await pendingRows(h)).toEqual([]);
    expect(await enteredOnce(h, inside!.journeyId)).toEqual({ customers: ids, once: true });
  });

  it("a workspace without segment-triggered journeys keeps no checks (nothing written on the hot path)", async () => {
    const { h, clock, up } = await setUp(3, false);
    clock.ahead = 2 * 3600_000;
    for (const b of await h.ctx.queues.timers.getJobs(["delayed", "waiting"]))
      await processTimerBucket(h.ctx, b.data, { inFlight: 8, pausePollMs: 300 });
    const runs = await h.db.prisma.journeyRun.findMany({ where: { journeyId: up.journeyId } });
    expect(runs.every((r) => r.seq === 2)).toBe(true); // the attribute steps ran
    expect(await pendingRows(h)).toEqual([]);
    expect(await queuedChecks(h)).toHaveLength(0);
  });
});
