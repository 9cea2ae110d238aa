// What engine-lateness records of each finished timer bucket job, in its own process or a child's.
import type { BucketOutcome, TimerBucketJob } from "@postpath/engine";
import type { Job } from "bullmq";

export interface WorkerReport {
  bucket: { from: number; to: number };
  processedOn: number;
  finishedOn: number;
  applied: number;
}

/** A bucket job's attempt that failed: the runs it applied are in no report (its retry skips them). */
export interface FailedReport {
  failed: string;
}

export type LatenessMessage = WorkerReport | FailedReport;

export function report(job: Job<TimerBucketJob, BucketOutcome>): WorkerReport {
  return {
    bucket: { from: job.data.from, to: job.data.to },
    processedOn: job.processedOn ?? 0,
    finishedOn: job.finishedOn ?? Date.now(),
    applied: job.returnvalue.applied,
  };
}

export function failure(job: Job<TimerBucketJob> | undefined, err: Error): FailedReport {
  return {
    failed: `bucket ${job ? `${job.data.from}-${job.data.to}` : "?"} attempt ${job?.attemptsMade ?? "?"}: ${err.message}`,
  };
}
