// What engine-lateness records of each finished timer bucket job, in its own process or a child's.
import type { BucketOutcome, TimerBucketJob } from "@postpath/engine";
import type { Job } from "bullmq";

export interface WorkerReport {
  bucket: { from: number; to: number };
  processedOn: number;
  finishedOn: number;
  applied: number;
}

export function report(job: Job<TimerBucketJob, BucketOutcome>): WorkerReport {
  return {
    bucket: { from: job.data.from, to: job.data.to },
    processedOn: job.processedOn ?? 0,
    finishedOn: job.finishedOn ?? Date.now(),
    applied: job.returnvalue.applied,
  };
}
