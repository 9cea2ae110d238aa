import { PUBLIC_ONLY, type OutboundPolicy } from "@postpath/channels";
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Database } from "@postpath/db";
import type { EngineContext } from "./context.ts";
import type { Keyring } from "./credentials/keyring.ts";
import { processEventJob } from "./events.ts";
import { dependencyOutage, type DependencyMonitor } from "./health.ts";
import type { Logger } from "./logger.ts";
import {
  EVENT_RETENTION_DAYS,
  MESSAGE_RETENTION_DAYS,
  processMaintenanceJob,
  TRACE_RETENTION_DAYS,
} from "./maintenance.ts";
import type { ProviderResolver } from "./providers.ts";
import {
  cappedBackoff,
  createQueues,
  DEFAULT_JOB_RETRY,
  RETENTION,
  type EngineQueues,
  type JobRetry,
  type MaintenanceJob,
  type RunJob,
  type SendJob,
} from "./queues.ts";
import { resumeOverdueWaits } from "./recovery.ts";
import { processRunJob } from "./runner.ts";
import { processSendJob } from "./sends.ts";
import { DEFAULT_TIMERS, type TimerSettings } from "./timers.ts";
import { processTimerBucket } from "./wake.ts";

export interface EngineOptions {
  db: Database;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  providers: ProviderResolver;
  /** Where people reach the app (PURL links); default http://127.0.0.1:3000. */
  publicUrl?: string;
  /** Private hosts provider requests may reach (default none: public addresses only). */
  outbound?: OutboundPolicy;
  /** How waits are scheduled (default: 20 ms buckets for waits ending 2 s or more ahead). */
  timers?: Partial<TimerSettings>;
  /** Attempts per message (default 8) and the first backoff (default 1 s, doubling). */
  sendRetry?: { attempts: number; backoffMs: number };
  /** Retries of event, run, timer and housekeeping jobs (default: ~12 min, capped at 30 s apart). */
  jobRetry?: Partial<JobRetry>;
  now?: () => number;
  /** issue 16: the master keyring (signs unsubscribe links). */
  keyring?: Keyring;
  /** issue 15: shards per hot queue (QUEUE_SHARDS; default 1: one queue each). */
  queueShards?: number;
}

export function createEngineContext(opts: EngineOptions): EngineContext {
  const jobRetry = { ...DEFAULT_JOB_RETRY, ...opts.jobRetry };
  return {
    db: opts.db,
    queues: createQueues(opts.connection, opts.prefix, jobRetry, opts.queueShards),
    jobRetry,
    log: opts.log,
    providers: opts.providers,
    publicUrl: opts.publicUrl ?? "http://127.0.0.1:3000",
    outbound: opts.outbound ?? PUBLIC_ONLY,
    sendRetry: opts.sendRetry ?? { attempts: 8, backoffMs: 1000 },
    timers: { ...DEFAULT_TIMERS, ...opts.timers },
    now: opts.now ?? Date.now,
    ...(opts.keyring ? { keyring: opts.keyring } : {}),
  };
}

export interface RunningWorkers {
  workers: Worker[];
  close(): Promise<void>;
}

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** Jobs in flight per queue (events, sends). */
  concurrency: number;
  /** Run jobs in flight (default: `concurrency`); they share batched reads and commits. */
  runConcurrency?: number;
  /** Timer bucket jobs in flight (default 4). */
  timerConcurrency?: number;
  /** How long a job's lock lives without renewal; a killed worker's jobs are retried after it (default 30 s). */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs (default 30 s). */
  stalledIntervalMs?: number;
  /** While a journey is paused, its run jobs are re-checked this often (default 5 s). */
  pausePollMs?: number;
  /** Repeatable housekeeping: the date-trigger scheduler and the sweeper (ms; 0 disables). */
  dateTriggerEveryMs?: number;
  sweepEveryMs?: number;
  /** issue 16: how often saved segments with moving windows are re-evaluated (0: never). */
  segmentSweepEveryMs?: number;
  /** How overdue a run's follow-up must be before the sweeper re-creates it (default 60 s). */
  sweepGraceMs?: number;
  /** Days the sweeper keeps ingested events (default 90; 0 keeps them forever). */
  eventRetentionDays?: number;
  /** issue 15: days the sweeper keeps run traces, dropping whole months (default 0: forever). */
  traceRetentionDays?: number;
  /** issue 15: days the sweeper keeps messages, dropping whole months (default 0: forever). */
  messageRetentionDays?: number;
  /**
   * Postgres/Redis reachability: while Postgres is down the workers pause (jobs keep their
   * attempts) and resume when it answers; when Redis comes back, overdue waits get their timers
   * at once; a job failing because a dependency is down is not logged one line per job.
   */
  monitor?: DependencyMonitor;
}

/**
 * Starts the BullMQ workers that execute journeys. Scale out by running more processes on the
 * same Redis and Postgres. A killed process's jobs stall and are picked up again by the others;
 * they may stall many times (SIGKILL loops) without being failed, since every handler is
 * idempotent.
 */
export function startWorkers(ctx: EngineContext, opts: WorkerOptions): RunningWorkers {
  const common = {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: 1000,
    // The queues' capped exponential backoff (queues.ts): long enough to outlast an outage.
    settings: { backoffStrategy: cappedBackoff(ctx.jobRetry.maxBackoffMs) },
    ...RETENTION,
  };
  const pausePoll = opts.pausePollMs ?? 5000;
  // issue 15: every process consumes every shard of a queue; the process's concurrency for that
  // queue is shared out over its shards (one shard: exactly as configured).
  const consume = <T>(
    queue: { names: string[] },
    processor: (job: Job<T>, token?: string) => Promise<unknown>,
    concurrency: number,
  ): Worker[] =>
    queue.names.map(
      (name) =>
        new Worker<T>(name, processor, {
          ...common,
          concurrency: Math.max(1, Math.ceil(concurrency / queue.names.length)),
        }),
    );
  const events = consume(
    ctx.queues.events,
    (job) => processEventJob(ctx, job.data),
    opts.concurrency,
  );
  const runs = consume(
    ctx.queues.runs,
    async (job: Job<RunJob>, token?: string) => {
      const outcome = await processRunJob(ctx, job.data);
      if (outcome === "paused" && token) {
        await job.moveToDelayed(Date.now() + pausePoll, token);
        throw new DelayedError();
      }
      return outcome;
    },
    opts.runConcurrency ?? opts.concurrency,
  );
  const sends = consume(
    ctx.queues.sends,
    async (job: Job<SendJob>, token?: string) => {
      const outcome = await processSendJob(ctx, job.data, {
        made: job.attemptsMade,
        max: job.opts.attempts ?? 1,
        // issue 13: an acceptance Postgres would not take travels with the job to its next attempt.
        remember: (accepted) => job.updateData({ ...job.data, accepted }),
      });
      if (typeof outcome === "object" && token) {
        // Workspace quiet hours: the same job (same idempotency key) waits for the window to open.
        await job.moveToDelayed(outcome.heldUntil, token);
        throw new DelayedError();
      }
      return outcome;
    },
    opts.concurrency,
  );
  // Timer buckets: a few at once (a slow bucket must not hold up the next one); each applies its
  // runs with up to the run concurrency in flight, sharing the run store's batches.
  const timers = consume(
    ctx.queues.timers,
    (job) =>
      processTimerBucket(ctx, job.data, {
        inFlight: opts.runConcurrency ?? opts.concurrency,
        pausePollMs: pausePoll,
      }),
    opts.timerConcurrency ?? 4,
  );
  // One housekeeping job at a time per process (sweeps must not pile up on a busy machine).
  const jobs = consume(
    { names: [ctx.queues.jobs.name] },
    (job: Job<MaintenanceJob>) => processMaintenanceJob(ctx, job.data),
    1,
  );
  const workers = [...events, ...runs, ...sends, ...timers, ...jobs];
  for (const w of workers) {
    w.on("failed", (job, err) => {
      if (err instanceof DelayedError) return;
      // Refused for good (data that does not fit the queue's schema: queues.ts parseJobData).
      if (err instanceof UnrecoverableError) {
        ctx.log.error(
          { queue: w.name, jobId: job?.id, err: err.message },
          "job refused: kept as failed for a week, not retried",
        );
        return;
      }
      // An outage is logged once, by the monitor, when it begins and when it ends.
      if (opts.monitor && (opts.monitor.report(err) || dependencyOutage(err))) return;
      ctx.log.warn(
        { queue: w.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
        "job failed",
      );
    });
    w.on("error", (err) => {
      // A worker's errors come from its Redis connections: an outage is the monitor's one line.
      if (opts.monitor && (opts.monitor.report(err, "redis") || dependencyOutage(err, "redis")))
        return;
      ctx.log.error({ queue: w.name, err: err.message }, "worker error");
    });
  }
  const dateEvery = opts.dateTriggerEveryMs ?? 60_000;
  const sweepEvery = opts.sweepEveryMs ?? 15_000;
  const schedule = (id: string, every: number, data: MaintenanceJob) =>
    ctx.queues.jobs
      .upsertJobScheduler(id, { every }, { name: data.kind, data })
      .catch((err: unknown) =>
        ctx.log.error(
          { scheduler: id, err: err instanceof Error ? err.message : String(err) },
          "cannot register job scheduler",
        ),
      );
  const schedulers: [string, number, MaintenanceJob][] = [];
  if (dateEvery > 0) schedulers.push(["date-triggers", dateEvery, { kind: "dateTriggers" }]);
  // issue 16: windows that expire ("purchased in the last 30 days" on day 31): hourly by default.
  const segmentEvery = opts.segmentSweepEveryMs ?? 3_600_000;
  if (segmentEvery > 0) schedulers.push(["segments", segmentEvery, { kind: "segments" }]);
  if (sweepEvery > 0)
    schedulers.push([
      "sweep",
      sweepEvery,
      {
        kind: "sweep",
        ...(opts.sweepGraceMs ? { graceMs: opts.sweepGraceMs } : {}),
        eventRetentionDays: opts.eventRetentionDays ?? EVENT_RETENTION_DAYS,
        traceRetentionDays: opts.traceRetentionDays ?? TRACE_RETENTION_DAYS,
        messageRetentionDays: opts.messageRetentionDays ?? MESSAGE_RETENTION_DAYS,
      },
    ]);
  // Idempotent: every process upserts the same schedulers; BullMQ runs each once per period.
  for (const [id, every, data] of schedulers) void schedule(id, every, data);
  // The schedulers live in Redis: a Redis that comes back empty has none, and nothing would ever
  // sweep again. Every process checks now and then and puts back what is missing.
  const restoreSchedulers = async () => {
    for (const [id, every, data] of schedulers)
      if (!(await ctx.queues.jobs.getJobScheduler(id).catch(() => "unknown")))
        await schedule(id, every, data);
  };
  const checkEvery = 30_000;
  const check = schedulers.length
    ? setInterval(() => void restoreSchedulers().catch(() => undefined), checkEvery)
    : null;
  check?.unref();
  const unwatch = opts.monitor
    ? watchDependencies(ctx, workers, opts.monitor, restoreSchedulers)
    : () => undefined;
  return {
    workers,
    async close() {
      if (check) clearInterval(check);
      unwatch();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * Postgres down: the workers stop taking jobs (those in flight finish or fail and retry with
 * backoff) instead of failing every waiting job through its attempts; they resume when it answers.
 * Redis back: the waits that fell due meanwhile get their timer jobs now, not at the next sweep,
 * and the housekeeping schedulers are put back if Redis lost them.
 */
function watchDependencies(
  ctx: EngineContext,
  workers: Worker[],
  monitor: DependencyMonitor,
  restoreSchedulers: () => Promise<void>,
): () => void {
  let paused = false;
  return monitor.onChange((dep, state) => {
    if (dep === "postgres") {
      if (!state.up && !paused) {
        paused = true;
        for (const w of workers) void w.pause(true).catch(() => undefined);
      } else if (state.up && paused) {
        paused = false;
        for (const w of workers) void Promise.resolve(w.resume()).catch(() => undefined);
      }
    } else if (state.up && monitor.state("postgres").up) {
      void restoreSchedulers().catch(() => undefined);
      void resumeOverdueWaits(ctx).catch((err: unknown) => {
        monitor.report(err);
        ctx.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          "could not re-create overdue timers after Redis came back; the sweeper will",
        );
      });
    }
  });
}

export type { EngineQueues };
