import { Worker, type ConnectionOptions } from "bullmq";
import type { Database } from "@postpath/db";
import type { EngineContext } from "./context.ts";
import { processEventJob } from "./events.ts";
import type { Logger } from "./logger.ts";
import type { ProviderResolver } from "./providers.ts";
import { createQueues, QUEUES, type EngineQueues } from "./queues.ts";
import { processRunJob } from "./runner.ts";
import { processSendJob } from "./sends.ts";

export interface EngineOptions {
  db: Database;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  providers: ProviderResolver;
  now?: () => number;
}

export function createEngineContext(opts: EngineOptions): EngineContext {
  return {
    db: opts.db,
    queues: createQueues(opts.connection, opts.prefix),
    log: opts.log,
    providers: opts.providers,
    now: opts.now ?? Date.now,
  };
}

export interface RunningWorkers {
  workers: Worker[];
  close(): Promise<void>;
}

/** Starts the BullMQ workers that execute journeys. Scale out by running more processes. */
export function startWorkers(ctx: EngineContext, opts: { connection: ConnectionOptions; prefix: string; concurrency: number }): RunningWorkers {
  const common = { connection: opts.connection, prefix: opts.prefix };
  const events = new Worker(QUEUES.events, (job) => processEventJob(ctx, job.data), { ...common, concurrency: opts.concurrency });
  const runs = new Worker(QUEUES.runs, (job) => processRunJob(ctx, job.data), { ...common, concurrency: opts.concurrency });
  const sends = new Worker(
    QUEUES.sends,
    (job) => processSendJob(ctx, job.data, { made: job.attemptsMade, max: job.opts.attempts ?? 1 }),
    { ...common, concurrency: opts.concurrency },
  );
  const workers = [events, runs, sends];
  for (const w of workers) {
    w.on("failed", (job, err) => ctx.log.warn({ queue: w.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, "job failed"));
    w.on("error", (err) => ctx.log.error({ queue: w.name, err: err.message }, "worker error"));
  }
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

export type { EngineQueues };
