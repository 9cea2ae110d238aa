import { MAX_RETRIES } from "@postpath/journey";
import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";
import type { TimerBucketJob } from "./timers.ts";

/** Queue names; Redis keys are namespaced by the configured prefix (QUEUE_PREFIX). */
export const QUEUES = {
  events: "events",
  runs: "runs",
  sends: "sends",
  /** Timer buckets: one delayed job wakes every run due in its slice of time (timers.ts). */
  timers: "timers",
  /** Bulk enrolments, the date-trigger scheduler and the sweeper (repeatable jobs). */
  jobs: "jobs",
} as const;

/**
 * An ingested event to match against triggers and active runs, or a customer whose attributes
 * changed (identify, an attribute step) to check against segment triggers.
 */
export const EventJob = z.union([
  z.object({ eventId: z.string().min(1) }).strict(),
  /** Events stored together by ingest's group commit (issue 15), processed as one batch. */
  z.object({ eventIds: z.array(z.string().min(1)).min(1) }).strict(),
  z.object({ customerId: z.string().min(1), reason: z.enum(["identify", "attributes"]) }).strict(),
]);
export type EventJob = z.infer<typeof EventJob>;

/** Housekeeping and bulk work, on the `jobs` queue. */
export const MaintenanceJob = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("enrolment"), enrolmentId: z.string().min(1) }),
  z.object({ kind: z.literal("dateTriggers") }),
  /** issue 16: re-evaluate saved segments whose windows move with the clock. */
  z.object({
    kind: z.literal("segments"),
    workspaceId: z.string().min(1).optional(),
    /** One saved segment (just created or changed) and those that include it, whole workspace. */
    segmentId: z.string().min(1).optional(),
  }),
  z.object({
    kind: z.literal("sweep"),
    graceMs: z.number().int().positive().optional(),
    /** Delete events received longer ago than this (0: keep them). */
    eventRetentionDays: z.number().int().min(0).optional(),
  }),
  /** issue 18: one pass of moving a journey's customers in flight to its new version (move.ts). */
  z.object({
    kind: z.literal("migration"),
    migrationId: z.string().min(1),
    pass: z.number().int().min(0),
  }),
]);
export type MaintenanceJob = z.infer<typeof MaintenanceJob>;

/**
 * One input for one run at one sequence number. Whichever job for (run, seq) commits first wins;
 * every other job naming the same seq is a no-op.
 */
export const RunJob = z.object({
  runId: z.string().min(1),
  seq: z.number().int().min(0),
  input: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("entered") }),
    z.object({ kind: z.literal("timer"), stepId: z.string() }),
    z.object({ kind: z.literal("event"), eventId: z.string() }),
    z.object({ kind: z.literal("result"), messageId: z.string() }),
  ]),
});
export type RunJob = z.infer<typeof RunJob>;

/** A provider's acceptance of a claimed send (issue 13), kept with the job when Postgres would
 * not take the record: the next attempt records it instead of sending again. */
export const SendAccepted = z.object({
  token: z.string().min(1),
  providerMessageId: z.string(),
  response: z.unknown(),
  output: z.record(z.string(), z.unknown()),
});
export type SendAccepted = z.infer<typeof SendAccepted>;

/** Deliver one outbox message (the row carries the rendered content; never credentials). */
export const SendJob = z.object({
  messageId: z.string().min(1),
  /** A dead letter an admin replays: delivered even though its run has moved on or ended. */
  replay: z.boolean().optional(),
  accepted: SendAccepted.optional(),
});
export type SendJob = z.infer<typeof SendJob>;

/** BullMQ forbids ':' in custom ids; cuid ids never contain '-'. */
export function runJobId(job: RunJob): string {
  const suffix =
    job.input.kind === "entered"
      ? "entered"
      : job.input.kind === "timer"
        ? `timer-${job.input.stepId}`
        : job.input.kind === "event"
          ? `event-${job.input.eventId}`
          : `result-${job.input.messageId}`;
  return `${job.runId}-${job.seq}-${suffix}`.replace(/:/g, "_");
}

export function createRedis(url: string): Redis {
  // BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait, not fail).
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    // Reconnect within half a second of Redis coming back (ioredis' default backs off to 2 s);
    // BullMQ's worker connections are duplicates of this one and inherit it.
    retryStrategy: (times) => Math.min(times * 50, 500),
  });
  // Without a listener ioredis prints every reconnect failure; the DependencyMonitor (health.ts)
  // watches this connection and logs once when Redis goes away and once when it is back.
  redis.on("error", () => undefined);
  return redis;
}

/** Checks Redis answers; throws a message naming where it looked. */
export async function assertRedis(url: string): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(
      `Redis unreachable at ${url}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    probe.disconnect();
  }
}

/**
 * How the events, runs, timers and jobs queues retry a failing job: exponential from
 * `firstBackoffMs`, each wait capped at `maxBackoffMs`, `attempts` in all. The defaults keep a job
 * alive through about 12 minutes of Postgres (or provider-side) outage — 0.5 + 1 + 2 + 4 + 8 + 16 s,
 * then 30 s between tries — and take it up again at most 30 s after the dependency is back (plain
 * exponential growth would leave it waiting minutes). Past that, the sweeper re-creates the work
 * from Postgres (events not yet processed, overdue runs, pending messages), so nothing
 * acknowledged depends on the attempts running out later than the outage ends.
 */
export interface JobRetry {
  attempts: number;
  firstBackoffMs: number;
  maxBackoffMs: number;
}
export const DEFAULT_JOB_RETRY: JobRetry = {
  attempts: 30,
  firstBackoffMs: 500,
  maxBackoffMs: 30_000,
};

/** The name of the capped exponential backoff; workers compute it with `cappedBackoff`. */
export const CAPPED_BACKOFF = "capped";

/** Stored with every job, so kept small (Redis memory per waiting customer). Retention of
 * finished jobs is a worker option (RETENTION), not repeated in each job. */
export function jobOptions(retry: JobRetry = DEFAULT_JOB_RETRY): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: CAPPED_BACKOFF, delay: retry.firstBackoffMs },
  };
}
export const DEFAULT_JOB_OPTIONS: JobsOptions = jobOptions();

/**
 * The workers' `settings.backoffStrategy`: the wait before retry `attemptsMade` of a job whose
 * backoff is CAPPED_BACKOFF — `delay` doubled per attempt, at most `maxBackoffMs`. Other types are
 * BullMQ's own (sends use plain exponential), which it computes before consulting this.
 */
export function cappedBackoff(maxBackoffMs: number) {
  return (
    attemptsMade: number,
    type?: string,
    _err?: Error,
    job?: { opts: JobsOptions },
  ): number => {
    const b = job?.opts.backoff;
    const first = typeof b === "object" && b.delay !== undefined ? b.delay : 500;
    if (type !== CAPPED_BACKOFF) return first;
    return Math.min(maxBackoffMs, first * 2 ** Math.max(0, Math.min(attemptsMade - 1, 30)));
  };
}

/** Total time a job keeps retrying under `retry` (the sum of its backoffs): the outage it outlasts. */
export function retryWindowMs(retry: JobRetry): number {
  const strategy = cappedBackoff(retry.maxBackoffMs);
  const job = { opts: jobOptions(retry) };
  let total = 0;
  for (let made = 1; made < retry.attempts; made++)
    total += strategy(made, CAPPED_BACKOFF, undefined, job);
  return total;
}

/** Finished jobs kept for inspection: completed for an hour (at most 10,000), failed for a week. */
export const RETENTION = {
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

export interface EngineQueues {
  events: Queue<EventJob>;
  runs: Queue<RunJob>;
  sends: Queue<SendJob>;
  timers: Queue<TimerBucketJob>;
  jobs: Queue<MaintenanceJob>;
  close(): Promise<void>;
}

export function createQueues(
  connection: ConnectionOptions,
  prefix: string,
  retry: JobRetry = DEFAULT_JOB_RETRY,
): EngineQueues {
  const opts = { connection, prefix, defaultJobOptions: jobOptions(retry) };
  const events = new Queue<EventJob>(QUEUES.events, opts);
  const runs = new Queue<RunJob>(QUEUES.runs, opts);
  const sends = new Queue<SendJob>(QUEUES.sends, opts);
  const timers = new Queue<TimerBucketJob>(QUEUES.timers, opts);
  const jobs = new Queue<MaintenanceJob>(QUEUES.jobs, opts);
  // A queue without an error listener prints every failed reconnect; Redis outages are logged
  // once by the DependencyMonitor (health.ts), and a failed add() rejects to its caller anyway.
  for (const q of [events, runs, sends, timers, jobs]) q.on("error", () => undefined);
  return {
    events,
    runs,
    sends,
    timers,
    jobs,
    async close() {
      await Promise.all([
        events.close(),
        runs.close(),
        sends.close(),
        timers.close(),
        jobs.close(),
      ]);
    },
  };
}

const LIVE_STATES = new Set([
  "waiting",
  "delayed",
  "active",
  "prioritized",
  "waiting-children",
  "paused",
]);

/**
 * Adds a job unless one with the same id is still pending or running. A finished (completed or
 * failed) job with that id is removed first, so recovery (the sweeper, resume) can re-create work
 * whose original job was lost or gave up. Safe because every handler is idempotent.
 */
export async function addUnlessPending<T>(
  queue: Queue<T>,
  name: string,
  data: T,
  opts: JobsOptions & { jobId: string },
): Promise<boolean> {
  const q = queue as unknown as Queue;
  const existing = await q.getJob(opts.jobId);
  if (existing) {
    const state = await existing.getState();
    if (LIVE_STATES.has(state)) return false;
    try {
      await existing.remove();
    } catch {
      return false; // locked by a worker right now: it is running
    }
  }
  await q.add(name, data, opts);
  return true;
}

/**
 * Retry policy for send jobs (provider failures back off exponentially). The job allows as many
 * attempts as any step may ask for (`retries` + 1); the send handler decides which failure is
 * final — by default after `sendRetry.attempts`.
 */
export function sendJobOptions(ctx: {
  sendRetry: { attempts: number; backoffMs: number };
}): JobsOptions {
  return {
    attempts: Math.max(ctx.sendRetry.attempts, MAX_RETRIES + 1),
    backoff: { type: "exponential", delay: ctx.sendRetry.backoffMs },
  };
}
