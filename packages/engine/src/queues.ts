import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";

/** Queue names; Redis keys are namespaced by the configured prefix (QUEUE_PREFIX). */
export const QUEUES = {
  events: "events",
  runs: "runs",
  sends: "sends",
} as const;

/** An ingested event to match against triggers and active runs. */
export const EventJob = z.object({ eventId: z.string().min(1) });
export type EventJob = z.infer<typeof EventJob>;

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

/** Deliver one outbox message (the row carries the rendered content; never credentials). */
export const SendJob = z.object({ messageId: z.string().min(1) });
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
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
}

/** Checks Redis answers; throws a message naming where it looked. */
export async function assertRedis(url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(`Redis unreachable at ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    probe.disconnect();
  }
}

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export interface EngineQueues {
  events: Queue<EventJob>;
  runs: Queue<RunJob>;
  sends: Queue<SendJob>;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string): EngineQueues {
  const opts = { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  const events = new Queue<EventJob>(QUEUES.events, opts);
  const runs = new Queue<RunJob>(QUEUES.runs, opts);
  const sends = new Queue<SendJob>(QUEUES.sends, opts);
  return {
    events,
    runs,
    sends,
    async close() {
      await Promise.all([events.close(), runs.close(), sends.close()]);
    },
  };
}
