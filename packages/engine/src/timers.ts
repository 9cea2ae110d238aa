import type { JobsOptions } from "bullmq";
import { z } from "zod";
import type { EngineContext } from "./context.ts";
import { runJobId, type RunJob } from "./queues.ts";
import { runStore } from "./store.ts";

/**
 * Waits as delayed jobs, shared by the runs that fall due together.
 *
 * A wait that ends soon (within `directWithinMs`) gets its own delayed job, as every run input
 * does. A longer one joins a **timer bucket**: one delayed BullMQ job per `bucketMs` of due time,
 * firing at the bucket's end, whose worker applies the timer to every run of the bucket that
 * Postgres says is still waiting. At 10,000 timers falling due per second that is 50 jobs a
 * second instead of 10,000 (no per-run job to promote, lock, complete and delete), the runs are
 * read and committed in full batches, and a waiting customer costs Redis nothing of their own.
 * A run is never woken early: the bucket fires at or after its due time.
 *
 * Crash safety is the run job's: Postgres (status WAITING, `waitingUntil`) says which runs are due
 * and each transition is seq-guarded, so a bucket job that crashes and is retried, or two workers
 * on the same bucket, only skip runs that already moved. A bucket larger than one page hands the
 * rest to a continuation job first, so other worker processes share a large bucket (a "wait until
 * a date" step that a million runs reach). The bucket of a run is scheduled after its wait is
 * committed and at least `directWithinMs` before the bucket fires, so the bucket's job cannot have
 * run yet; anything that still slips (a worker stalled for that long between commit and enqueue, a
 * bucket job that exhausted its retries, a Redis that lost it) is overdue in Postgres and the
 * sweeper re-creates that run's own timer job.
 */
export interface TimerSettings {
  /** Width of a bucket of due times (ms); a timer fires at most this late for bucketing. */
  bucketMs: number;
  /** Waits ending sooner than this get their own job. */
  directWithinMs: number;
  /** Runs read per page (per bucket job). */
  pageSize: number;
}

export const DEFAULT_TIMERS: TimerSettings = { bucketMs: 20, directWithinMs: 2000, pageSize: 1000 };

/**
 * The runs with `from < waitingUntil <= to` (ms since the epoch), after `after` when continuing.
 *
 * Forward compatible (issue 15, rolling upgrades): fields a newer release adds are kept
 * (`.loose()`), not refused, and so travel on to the bucket's continuation jobs (wake.ts spreads
 * the bucket into them), where a newer worker may take them up; `after` is this worker's own
 * cursor and strips what it does not know. A missing or mistyped field is still refused.
 */
export const TimerBucketJob = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    after: z.object({ at: z.string().min(1), id: z.string().min(1) }).optional(),
  })
  .loose()
  .refine((b) => b.from < b.to, { message: "from must be before to", path: ["to"] });
export type TimerBucketJob = z.infer<typeof TimerBucketJob>;

/** The bucket a due time falls in: `(to − bucketMs, to]`, `to` a multiple of `bucketMs`. */
export function timerBucket(dueMs: number, bucketMs: number): { from: number; to: number } {
  const to = Math.ceil(dueMs / bucketMs) * bucketMs;
  return { from: to - bucketMs, to };
}

export function timerBucketJobId(b: TimerBucketJob): string {
  return b.after ? `t${b.from}-${b.to}-${b.after.id}` : `t${b.from}-${b.to}`;
}

/** Bucket jobs this process has asked for (or is asking for), so each is added once per process. */
type Requested = Map<string, { to: number; added: Promise<unknown> }>;
const requested = new WeakMap<EngineContext, Requested>();

function requestBucket(ctx: EngineContext, bucket: { from: number; to: number }): Promise<unknown> {
  let mine = requested.get(ctx);
  if (!mine) requested.set(ctx, (mine = new Map() as Requested));
  const jobId = timerBucketJobId(bucket);
  const hit = mine.get(jobId);
  if (hit) return hit.added;
  if (mine.size >= 10_000) {
    // Forget past buckets; if waits far ahead still fill it, forget everything (BullMQ keeps one
    // job per id anyway: asking again costs a round trip, not a second job).
    const now = ctx.now();
    for (const [id, b] of mine) if (b.to < now) mine.delete(id);
    if (mine.size >= 5_000) mine.clear();
  }
  const opts: JobsOptions = { jobId, delay: Math.max(0, bucket.to - ctx.now()) };
  const added = runStore(ctx)
    .enqueue("timers", "timers", bucket, opts)
    .catch((err: unknown) => {
      mine.delete(jobId); // the next run of this bucket asks again
      throw err;
    });
  mine.set(jobId, { to: bucket.to, added });
  return added;
}

/** Schedules the timer that ends a run's wait (or its wait for an event) at `dueMs`. */
export async function scheduleTimer(
  ctx: EngineContext,
  run: { runId: string; seq: number; stepId: string },
  dueMs: number,
): Promise<void> {
  const delay = dueMs - ctx.now();
  if (delay < ctx.timers.directWithinMs) {
    const job: RunJob = {
      runId: run.runId,
      seq: run.seq,
      input: { kind: "timer", stepId: run.stepId },
    };
    await runStore(ctx).enqueue("runs", "timer", job, {
      jobId: runJobId(job),
      delay: Math.max(0, delay),
    });
    return;
  }
  await requestBucket(ctx, timerBucket(dueMs, ctx.timers.bucketMs));
}
