// What engine-lateness records of each finished timer bucket job, in its own process or a child's.
import type { BucketOutcome, TimerBucketJob } from "@postpath/engine";
import type { Job } from "bullmq";

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
