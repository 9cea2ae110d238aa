// Timer buckets on real Postgres and Redis: waits that end later than `directWithinMs` share one
// delayed job per bucket of due time; the bucket's job wakes every run Postgres says is due, never
// before its time, once each even when two workers (or a retry) take the same bucket.
import { UnrecoverableError } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { pauseJourney, resumeJourney } from "./operate.ts";
import { sweep } from "./maintenance.ts";
import { resumeOverdueWaits } from "./recovery.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import {
  timerBucket,
  timerBucketJobId,
  type TimerBucketJob,
  type TimerSettings,
} from "./timers.ts";
import { processTimerBucket, type BucketOutcome } from "./wake.ts";

const TIMERS: TimerSettings = { bucketMs: 400, directWithinMs: 1000, pageSize: 5 };
const N = 23;

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("timer bucket arithmetic", () => {
  it("puts every due time in the one bucket (to − width, to] whose end is a multiple of the width", () => {
    for (let i = 0; i < 5000; i++) {
      const width = 1 + Math.floor(Math.random() * 1000);
      const due = 1_700_000_000_000 + Math.floor(Math.random() * 10_000_000);
      const b = timerBucket(due, width);
      expect(b.to % width).toBe(0);
      expect(b.from).toBe(b.to - width);
      expect(b.from < due && due <= b.to).toBe(true);
    }
    expect(timerBucket(1000, 50)).toEqual({ from: 950, to: 1000 });
    expect(timerBucket(1001, 50)).toEqual({ from: 1000, to: 1050 });
  });
});

/** N customers buy; each run waits `seconds`, then sets an attribute and ends. */
async function waitingRuns(harness: EngineHarness, seconds: number) {
  const { journeyId } = await harness.publish("reminder", [
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
    { id: "w", type: "wait.duration", data: { amount: seconds, unit: "seconds" }, next: "a" },
    { id: "a", type: "action.attribute", data: { set: { reminded: true } }, next: "end" },
  ]);
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      track(harness.ctx, harness.workspaceId, { userId: `u${i}`, event: "purchase" }),
    ),
  );
  const runs = await waitFor("every run waiting", async () => {
    const rows = await harness.db.prisma.journeyRun.findMany({
      where: { journeyId, status: "WAITING" },
      select: { id: true, waitingUntil: true },
    });
    return rows.length === N ? rows : null;
  });
  return { journeyId, due: new Map(runs.map((r) => [r.id, r.waitingUntil!.getTime()])) };
}

async function allCompleted(harness: EngineHarness, journeyId: string, what: string) {
  await waitFor(
    what,
    async () =>
      (await harness.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) ===
      N,
    20_000,
  );
}

async function timerTraces(harness: EngineHarness, journeyId: string) {
  const runs = await harness.db.prisma.journeyRun.findMany({
    where: { journeyId },
    select: { id: true, status: true },
  });
  const traces = await harness.db.prisma.runTrace.findMany({
    where: { runId: { in: runs.map((r) => r.id) }, stepId: "a" },
  });
  return { runs, traces };
}

/**
 * Runs a bucket's jobs in this process, page after page as its continuation jobs would be
 * (`workers` "workers" at once on each page); the runs applied.
 */
async function wakeBucket(harness: EngineHarness, bucket: TimerBucketJob, workers = 1) {
  let applied = 0;
  let page: TimerBucketJob | undefined = bucket;
  while (page) {
    const current: TimerBucketJob = page;
    const outcomes: BucketOutcome[] = await Promise.all(
      Array.from({ length: workers }, () =>
        processTimerBucket(harness.ctx, current, { inFlight: 8, pausePollMs: 300 }),
      ),
    );
    applied += outcomes.reduce((n, o) => n + o.applied, 0);
    const next = outcomes.find((o) => o.continued)?.continued;
    page = next ? (await harness.ctx.queues.timers.getJob(next))?.data : undefined;
  }
  return applied;
}

describe("waits through timer buckets", () => {
  it("runs due together share one delayed job per bucket and wake at or after their due time", async () => {
    h = await startEngineHarness({ timers: TIMERS });
    const { journeyId, due } = await waitingRuns(h, 3);

    // No per-run timer jobs; one delayed job for each bucket the runs fall in.
    expect(await h.ctx.queues.runs.getDelayedCount()).toBe(0);
    const buckets = new Map<string, number>();
    for (const d of due.values()) {
      const id = timerBucketJobId(timerBucket(d, TIMERS.bucketMs));
      buckets.set(id, (buckets.get(id) ?? 0) + 1);
    }
    expect(await h.ctx.queues.timers.getDelayedCount()).toBe(buckets.size);
    for (const id of buckets.keys()) expect(await h.ctx.queues.timers.getJob(id)).toBeTruthy();

    await allCompleted(h, journeyId, "every run completed");
    const customers = await h.db.prisma.customer.findMany({
      where: { workspaceId: h.workspaceId },
    });
    expect(customers.filter((c) => (c.attributes as { reminded?: boolean }).reminded)).toHaveLength(
      N,
    );
    // Each run took step "a" once, no earlier than its due time.
    const { traces } = await timerTraces(h, journeyId);
    expect(traces).toHaveLength(N);
    for (const t of traces) expect(t.at.getTime()).toBeGreaterThanOrEqual(due.get(t.runId)!);

    // Buckets bigger than a page (5) went on in continuation jobs; the pages add up to the runs.
    const done = await h.ctx.queues.timers.getCompleted();
    const outcomes = done.map((j) => j.returnvalue as BucketOutcome);
    expect(outcomes.reduce((n, o) => n + o.applied, 0)).toBe(N);
    const continued = [...buckets.values()].filter((n) => n >= TIMERS.pageSize).length;
    expect(outcomes.filter((o) => o.continued).length).toBeGreaterThanOrEqual(continued);
    expect(continued).toBeGreaterThan(0); // 23 runs in buckets of 400 ms: some bucket has 5+
  });

  it("two workers on the same bucket, then a retry: every run is woken exactly once", async () => {
    h = await startEngineHarness({ timers: TIMERS });
    const { journeyId, due } = await waitingRuns(h, 3);
    // From here the test is the only worker.
    await h.workers!.close();
    h.workers = null;
    const buckets = new Map<string, { from: number; to: number }>();
    for (const d of due.values()) {
      const b = timerBucket(d, TIMERS.bucketMs);
      buckets.set(timerBucketJobId(b), b);
    }
    const last = Math.max(...[...buckets.values()].map((b) => b.to));
    await new Promise((r) => setTimeout(r, Math.max(0, last - Date.now() + 20)));

    // Page by page, as the continuation jobs would, each page taken by two "workers" at once.
    let applied = 0;
    for (const bucket of buckets.values()) {
      applied += await wakeBucket(h, bucket, 2);
      // The retry of a bucket whose runs all moved on finds nothing to do.
      expect(await processTimerBucket(h.ctx, bucket, { inFlight: 8, pausePollMs: 300 })).toEqual({
        runs: 0,
        applied: 0,
        held: 0,
      });
    }
    expect(applied).toBe(N);
    const { runs, traces } = await timerTraces(h, journeyId);
    expect(runs.every((r) => r.status === "COMPLETED")).toBe(true);
    expect(traces).toHaveLength(N);
    expect(new Set(traces.map((t) => t.runId)).size).toBe(N);
  });

  it("a bucket fired early by another process's clock hands each run its own timer job", async () => {
    let skew = 0;
    h = await startEngineHarness({ timers: TIMERS, now: () => Date.now() - skew });
    const { journeyId, due } = await waitingRuns(h, 3);
    await h.workers!.close();
    h.workers = null;
    const last = Math.max(...due.values());
    await new Promise((r) => setTimeout(r, last + 20 - Date.now()));
    skew = 60_000; // this process's clock now says every run is due in about a minute
    const buckets = new Map<string, TimerBucketJob>();
    for (const d of due.values()) {
      const b = timerBucket(d, TIMERS.bucketMs);
      buckets.set(timerBucketJobId(b), b);
    }
    for (const b of buckets.values()) await wakeBucket(h, b);
    expect(await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })).toBe(N);
    const own = await h.ctx.queues.runs.getDelayed();
    expect(new Set(own.map((j) => j.data.runId))).toEqual(new Set(due.keys()));
    expect(own.every((j) => j.data.input.kind === "timer" && j.opts.delay! > 50_000)).toBe(true);
  });

  it("a paused journey's due runs are held and continue after resume", async () => {
    h = await startEngineHarness({ timers: TIMERS });
    const { journeyId, due } = await waitingRuns(h, 3);
    await pauseJourney(h.ctx, h.workspaceId, journeyId);
    const last = Math.max(...due.values());
    await waitFor("the buckets to have fired", async () => {
      const c = await h!.ctx.queues.timers.getJobCounts("delayed", "active", "wait");
      return Date.now() > last + TIMERS.bucketMs && c.delayed === 0 && c.active === 0;
    });
    const held = (await h.ctx.queues.timers.getCompleted()).reduce(
      (n, j) => n + (j.returnvalue as BucketOutcome).held,
      0,
    );
    expect(held).toBe(N);
    expect(await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })).toBe(N);

    await resumeJourney(h.ctx, h.workspaceId, journeyId);
    await allCompleted(h, journeyId, "every run completed after resume");
    expect((await timerTraces(h, journeyId)).traces).toHaveLength(N);
  });

  it("a bucket job that is lost leaves its runs overdue in Postgres, and the sweeper wakes them", async () => {
    h = await startEngineHarness({ timers: TIMERS });
    const { journeyId, due } = await waitingRuns(h, 3);
    await h.ctx.queues.timers.obliterate({ force: true }); // as if Redis lost them
    await new Promise((r) => setTimeout(r, Math.max(...due.values()) + 300 - Date.now()));
    expect(await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })).toBe(N);
    expect((await sweep(h.ctx, 100)).runs).toBe(N);
    await allCompleted(h, journeyId, "every run completed");
  });

  it("after Redis comes back, the overdue waits' timers are re-created from Postgres, page by page, each once", async () => {
    h = await startEngineHarness({ timers: TIMERS });
    const { journeyId, due } = await waitingRuns(h, 3);
    await h.ctx.queues.timers.obliterate({ force: true }); // as if Redis lost them
    await new Promise((r) => setTimeout(r, Math.max(...due.values()) + 300 - Date.now()));
    // Pages of 4 over 23 runs made at once (due times may tie to the millisecond): the keyset (due time, id)
    // must neither skip nor repeat a run.
    expect(await resumeOverdueWaits(h.ctx, 4)).toBe(N);
    await allCompleted(h, journeyId, "every run completed");
    expect((await timerTraces(h, journeyId)).traces).toHaveLength(N);
  });

  it("a wait ending sooner than directWithinMs gets its own timer job", async () => {
    h = await startEngineHarness({ timers: { ...TIMERS, directWithinMs: 10_000 } });
    const { journeyId } = await waitingRuns(h, 3);
    expect(await h.ctx.queues.timers.getDelayedCount()).toBe(0);
    expect(await h.ctx.queues.runs.getDelayedCount()).toBe(N);
    await allCompleted(h, journeyId, "every run completed");
  });

  it("a malformed bucket job is refused with the field and the reason", async () => {
    h = await startEngineHarness({ timers: TIMERS, workers: false });
    const opts = { inFlight: 4, pausePollMs: 300 };
    await expect(processTimerBucket(h.ctx, { from: 10, to: 5 }, opts)).rejects.toThrow(
      /to: from must be before to/,
    );
    await expect(processTimerBucket(h.ctx, { to: 5 }, opts)).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
    await expect(processTimerBucket(h.ctx, { to: 5 }, opts)).rejects.toThrow(/from:/);
  });
});
