// What engine-lateness records of each finished timer bucket job, in its own process or a child's.
import {
  startWorkers,
  type BucketOutcome,
  type EngineContext,
  type RunningWorkers,
  type TimerBucketJob,
} from "@postpath/engine";
import type { Job } from "bullmq";
import type { Redis } from "ioredis";

export interface WorkerReport {
  bucket: { from: number; to: number };
  processedOn: number;
  finishedOn: number;
  applied: number;
  /** The worker process that ran the job (engine-lateness --processes N splits its figures by it). */
  pid: number;
}

/** A bucket job's attempt that failed: the runs it applied are in no report (its retry skips them). */
export interface FailedReport {
  failed: string;
}

/** A child process's event-loop delay while the measured timers ran (ms), sent when it stops. */
export interface LoopReport {
  loop: { p99: number; max: number };
}

export type LatenessMessage = WorkerReport | FailedReport;

export function report(job: Job<TimerBucketJob, BucketOutcome>): WorkerReport {
  return {
    bucket: { from: job.data.from, to: job.data.to },
    processedOn: job.processedOn ?? 0,
    finishedOn: job.finishedOn ?? Date.now(),
    applied: job.returnvalue.applied,
    pid: process.pid,
  };
}

export function failure(job: Job<TimerBucketJob> | undefined, err: Error): FailedReport {
  return {
    failed: `bucket ${job ? `${job.data.from}-${job.data.to}` : "?"} attempt ${job?.attemptsMade ?? "?"}: ${err.message}`,
  };
}

/**
 * The product's workers as a worker process runs them (no housekeeping schedulers), every timer
 * bucket job they finish or fail passed to `record`.
 */
export function startReportingWorkers(
  ctx: EngineContext,
  redis: Redis,
  prefix: string,
  concurrency: number,
  record: (m: LatenessMessage) => void,
): RunningWorkers {
  const workers = startWorkers(ctx, {
    connection: redis,
    prefix,
    concurrency,
    dateTriggerEveryMs: 0,
    sweepEveryMs: 0,
  });
  const timers = workers.workers.find((w) => w.name === "timers")!;
  timers.on("completed", (job: Job<TimerBucketJob, BucketOutcome>) => record(report(job)));
  timers.on("failed", (job: Job<TimerBucketJob> | undefined, err: Error) =>
    record(failure(job, err)),
  );
  return workers;
}
