import { MAX_RETRIES } from "@postpath/journey";
import {
  Queue,
  type BulkJobOptions,
  type ConnectionOptions,
  type Job,
  type JobsOptions,
  type JobType,
  type ObliterateOpts,
  type QueueOptions,
  UnrecoverableError,
} from "bullmq";
import { Cluster, Redis } from "ioredis";
import { createHash } from "node:crypto";
import { z } from "zod";
import { ReceivedRange } from "./event-months.ts";
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

const CustomerChangeReason = z.enum(["identify", "attributes"]);
/** At most this many customers in one segment-check job (a bounded job, statement and retry). */
export const MAX_CUSTOMERS_PER_CHECK = 500;

/**
 * An ingested event to match against triggers and active runs, or a customer whose attributes
 * changed (identify, an attribute step) to check against segment triggers.
 *
 * Forward compatible (issue 15, rolling upgrades): a field this release does not know — one a
 * newer release added, as `received` was — is stripped, not refused, so an older worker still
 * processes the job (it refused such jobs, and their events waited for the sweeper). A missing
 * required field or a wrong type is still refused. Exactly one shape must match (`z.xor`): without
 * `.strict()` a job carrying the keys of two shapes (`eventId` and `eventIds`) would otherwise
 * parse as whichever comes first and lose the other's ids; it is refused, as it was.
 */
export const EventJob = z.xor([
  z.object({ eventId: z.string().min(1), received: ReceivedRange.optional() }),
  /**
   * Events stored together by ingest's group commit (issue 15), processed as one batch. `received`:
   * the range of their receivedAt, so the worker reads their month of "Event" only (optional: jobs
   * queued without it read by id alone).
   */
  z.object({ eventIds: z.array(z.string().min(1)).min(1), received: ReceivedRange.optional() }),
  z.object({ customerId: z.string().min(1), reason: CustomerChangeReason }),
  /** Customers checked together (issue 15: the identify group commit's, one job per statement). */
  z.object({
    customerIds: z.array(z.string().min(1)).min(1).max(MAX_CUSTOMERS_PER_CHECK),
    reason: CustomerChangeReason,
  }),
]);
export type EventJob = z.infer<typeof EventJob>;

/**
 * The segment-check jobs for `customers` (each customer with the names of what it is checked for:
 * identify calls, committed transitions): one job per MAX_CUSTOMERS_PER_CHECK customers, a lone
 * customer checked for one thing in the single-customer form. A job's id names what it checks
 * for (`<reason>-<name>`, or a digest of its names), so queueing the same checks again adds
 * nothing, and a job for other customers never takes the id of one that does not check them.
 */
export function customerCheckJobs(
  reason: z.infer<typeof CustomerChangeReason>,
  customers: ReadonlyMap<string, readonly string[]>,
): { name: string; data: EventJob; opts: { jobId: string } }[] {
  const all = [...customers];
  const [lone] = all;
  if (all.length === 1 && lone![1].length === 1)
    return [
      {
        name: "customer",
        data: { customerId: lone![0], reason },
        opts: { jobId: `${reason}-${lone![1][0]!}` },
      },
    ];
  const jobs: { name: string; data: EventJob; opts: { jobId: string } }[] = [];
  for (let i = 0; i < all.length; i += MAX_CUSTOMERS_PER_CHECK) {
    const chunk = all.slice(i, i + MAX_CUSTOMERS_PER_CHECK);
    const digest = createHash("sha256")
      .update(
        chunk
          .flatMap(([, names]) => names)
          .sort()
          .join(","),
      )
      .digest("base64url")
      .slice(0, 24);
    jobs.push({
      name: "customers",
      data: { customerIds: chunk.map(([customerId]) => customerId), reason },
      opts: { jobId: `${reason}-${digest}` },
    });
  }
  return jobs;
}

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
    /** issue 15: drop months of run traces wholly older than this (0: keep them). */
    traceRetentionDays: z.number().int().min(0).optional(),
    /** issue 15: drop months of messages wholly older than this (0: keep them). */
    messageRetentionDays: z.number().int().min(0).optional(),
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
  /**
   * issue 15: the message's "createdAt" (ms since the epoch, or an ISO string), so the send reads
   * the one month of the partitioned "Message" that holds it. Optional: jobs queued before it (or
   * by a caller that does not know it) read the message by id alone. Not part of the job id.
   */
  createdAt: z.union([z.number(), z.string()]).optional(),
});
export type SendJob = z.infer<typeof SendJob>;

/** The send job's `createdAt` as a Date; null when absent or unreadable (then: read by id). */
export function sendJobCreatedAt(job: Pick<SendJob, "createdAt">): Date | null {
  if (job.createdAt === undefined) return null;
  const d = new Date(job.createdAt);
  return Number.isNaN(d.getTime()) ? null : d;
}

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

/** A single Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES, issue 15). */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one node, or the nodes of a cluster (a few suffice; the rest are discovered). */
export type RedisTarget = string | { clusterNodes: { host: string; port: number }[] };

// BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait, not fail).
// Reconnect within half a second of Redis coming back (ioredis' default backs off to 2 s);
// BullMQ's worker connections are duplicates of this one and inherit it.
const retryStrategy = (times: number) => Math.min(times * 50, 500);

export function createRedis(url: string): Redis;
export function createRedis(target: RedisTarget): RedisClient;
export function createRedis(target: RedisTarget): RedisClient {
  const redis =
    typeof target === "string"
      ? new Redis(target, { maxRetriesPerRequest: null, lazyConnect: true, retryStrategy })
      : new Cluster(target.clusterNodes, {
          lazyConnect: true,
          // Per node, as BullMQ requires of every connection it blocks on.
          redisOptions: { maxRetriesPerRequest: null },
          clusterRetryStrategy: retryStrategy,
          // The slot map is refreshed on MOVED anyway; a node that fails over comes back fast.
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
        });
  // Without a listener ioredis prints every reconnect failure; the DependencyMonitor (health.ts)
  // watches this connection and logs once when Redis goes away and once when it is back.
  redis.on("error", () => undefined);
  return redis;
}

/** Checks Redis answers; throws a message naming where it looked. */
export async function assertRedis(target: RedisTarget): Promise<void> {
  const probe =
    typeof target === "string"
      ? new Redis(target, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          connectTimeout: 3000,
        })
      : new Cluster(target.clusterNodes, {
          lazyConnect: true,
          clusterRetryStrategy: () => null,
          redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 3000 },
        });
  probe.on("error", () => undefined);
  const where =
    typeof target === "string"
      ? target
      : `the Redis Cluster ${target.clusterNodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(
      `Redis unreachable at ${where}: ${err instanceof Error ? err.message : String(err)}`,
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

/**
 * A job's data checked against its queue's schema. Data that does not fit (hand-edited, or from an
 * incompatible release) fails the job for good: BullMQ keeps it as failed with this reason for a
 * week (RETENTION) and never retries it; the workers log it with its id (engine.ts). The reason
 * names each field at fault, as `path: problem`.
 */
export function parseJobData<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new UnrecoverableError(
    `malformed ${what} job: ${jobProblems(parsed.error.issues).join("; ")}`,
  );
}

/**
 * `path: problem` per issue. Data fitting none of a union's shapes gets the problems of the shapes it
 * came closest to (fewest problems), joined with "or" when several are as close.
 */
function jobProblems(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): string[] {
  return issues.flatMap((i) => {
    const path = [...prefix, ...i.path];
    if (i.code === "invalid_union" && i.errors.length > 0) {
      const fewest = Math.min(...i.errors.map((e) => e.length));
      return [
        i.errors
          .filter((e) => e.length === fewest)
          .map((e) => jobProblems(e, path).join(", "))
          .join(" or "),
      ];
    }
    return [`${path.length ? path.map(String).join(".") : "(the whole job)"}: ${i.message}`];
  });
}

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

// ---------------------------------------------------------------------------------------------
// Shards (issue 15): BullMQ keeps each queue's keys in one Redis hash slot (its Lua scripts touch
// several keys at once), so on a Redis Cluster one queue lives on one master. The hot queues are
// therefore split into `shards` queues whose names carry a hash tag — `{runs-0}` … `{runs-N}` —
// so each shard's keys share a slot and the shards spread over the masters. Producers pick a
// job's shard from a stable hash of its shard key (below); every worker process consumes every
// shard. One shard keeps today's names (`runs`), so single-node installs and their data are
// unchanged; on a cluster with one shard the names are still hash-tagged (`{runs}`).

/** How the queues are laid out in Redis. */
export interface QueueLayout {
  /** Shards per hot queue (events, runs, sends, timers); 1: one queue each. */
  shards: number;
  /** Hash-tag the queue names (a Redis Cluster needs it; forced when shards > 1). */
  hashTags: boolean;
}

/** The Redis queue names of one logical queue (QUEUES) under a layout. */
export function shardNames(base: string, layout: QueueLayout): string[] {
  if (layout.shards <= 1) return [layout.hashTags ? `{${base}}` : base];
  return Array.from({ length: layout.shards }, (_, i) => `{${base}-${i}}`);
}

/**
 * The shard of a key: FNV-1a (32 bit) of its UTF-16 code units, modulo the shard count. Never
 * change it: a job's id is unique within its shard only, so the same job must always land on the
 * same shard (and a run's follow-ups on its run's).
 */
export function shardOf(key: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

/**
 * What places a job on a shard: the customer when the job is about customers (a segment check;
 * for several, the first), else the job's own subject — the run (each run belongs to one customer,
 * and every input of a run lands on its run's shard, so job-id de-duplication holds), the message,
 * the event (a group of events: its first), the timer bucket's time slice. Nothing relies on the
 * queue's order among a customer's jobs — Postgres orders them (events by timestamp per customer,
 * run inputs by seq).
 */
export const SHARD_KEYS: Record<"events" | "runs" | "sends" | "timers", (data: unknown) => string> =
  {
    events: (d) => {
      const e = (d ?? {}) as {
        customerId?: unknown;
        customerIds?: unknown;
        eventId?: unknown;
        eventIds?: unknown;
      };
      return (
        str(e.customerId) ??
        (Array.isArray(e.customerIds) ? str(e.customerIds[0]) : null) ??
        str(e.eventId) ??
        (Array.isArray(e.eventIds) ? str(e.eventIds[0]) : null) ??
        ""
      );
    },
    runs: (d) => str((d as { runId?: unknown } | null)?.runId) ?? "",
    sends: (d) => str((d as { messageId?: unknown } | null)?.messageId) ?? "",
    timers: (d) => {
      const from = (d as { from?: unknown } | null)?.from;
      return typeof from === "number" ? String(from) : "";
    },
  };

/**
 * One logical queue over its shards: `add`/`addBulk` route each job by its shard key; the
 * read-side methods (counts, lists, look-up by id) cover every shard. With one shard it is that
 * queue, nothing more.
 */
export class ShardedQueue<T> {
  readonly shards: Queue<T>[];
  constructor(
    names: string[],
    opts: QueueOptions,
    private readonly keyOf: (data: unknown) => string,
  ) {
    this.shards = names.map((n) => new Queue<T>(n, opts));
  }

  /** The names workers consume. */
  get names(): string[] {
    return this.shards.map((q) => q.name);
  }
  get opts(): Queue<T>["opts"] {
    return this.shards[0]!.opts;
  }

  /** The shard a shard key (customer, run, message… id) lives on. */
  shardFor(key: string): Queue<T> {
    return this.shards[shardOf(key, this.shards.length)]!;
  }
  /** The shard a job with this data goes to. */
  shardOfData(data: T): Queue<T> {
    return this.shards.length === 1 ? this.shards[0]! : this.shardFor(this.keyOf(data));
  }

  add(name: string, data: T, opts?: JobsOptions): Promise<Job<T>> {
    return this.shardOfData(data).add(name as never, data as never, opts) as Promise<Job<T>>;
  }

  /** One `addBulk` per shard touched, in parallel; the jobs come back in the order given. */
  async addBulk(jobs: { name: string; data: T; opts?: BulkJobOptions }[]): Promise<Job<T>[]> {
    if (this.shards.length === 1) return (await this.shards[0]!.addBulk(jobs as never)) as Job<T>[];
    const groups = new Map<Queue<T>, number[]>();
    jobs.forEach((j, i) => {
      const q = this.shardOfData(j.data);
      const g = groups.get(q);
      if (g) g.push(i);
      else groups.set(q, [i]);
    });
    const out = new Array<Job<T>>(jobs.length);
    await Promise.all(
      [...groups].map(async ([q, idx]) => {
        const added = (await q.addBulk(idx.map((i) => jobs[i]!) as never)) as Job<T>[];
        idx.forEach((i, k) => (out[i] = added[k]!));
      }),
    );
    return out;
  }

  private async each<R>(fn: (q: Queue<T>) => Promise<R>): Promise<R[]> {
    return Promise.all(this.shards.map(fn));
  }

  /** A job by id, whichever shard holds it. */
  async getJob(id: string): Promise<Job<T> | undefined> {
    const found = await this.each((q) => q.getJob(id) as Promise<Job<T> | undefined>);
    return found.find((j) => j !== undefined);
  }
  async getJobs(
    types?: JobType[] | JobType,
    start?: number,
    end?: number,
    asc?: boolean,
  ): Promise<Job<T>[]> {
    return (await this.each((q) => q.getJobs(types, start, end, asc) as Promise<Job<T>[]>)).flat();
  }
  async getJobCounts(...types: JobType[]): Promise<{ [index: string]: number }> {
    const sum: Record<string, number> = {};
    for (const c of await this.each((q) => q.getJobCounts(...types)))
      for (const [k, v] of Object.entries(c)) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }
  async getJobCountByTypes(...types: JobType[]): Promise<number> {
    return (await this.each((q) => q.getJobCountByTypes(...types))).reduce((a, b) => a + b, 0);
  }
  async getDelayedCount(): Promise<number> {
    return (await this.each((q) => q.getDelayedCount())).reduce((a, b) => a + b, 0);
  }
  async getDelayed(start?: number, end?: number): Promise<Job<T>[]> {
    return (await this.each((q) => q.getDelayed(start, end) as Promise<Job<T>[]>)).flat();
  }
  async getCompleted(start?: number, end?: number): Promise<Job<T>[]> {
    return (await this.each((q) => q.getCompleted(start, end) as Promise<Job<T>[]>)).flat();
  }
  async getFailed(start?: number, end?: number): Promise<Job<T>[]> {
    return (await this.each((q) => q.getFailed(start, end) as Promise<Job<T>[]>)).flat();
  }
  async pause(): Promise<void> {
    await this.each((q) => q.pause());
  }
  async resume(): Promise<void> {
    await this.each((q) => q.resume());
  }
  async obliterate(opts?: ObliterateOpts): Promise<void> {
    await this.each((q) => q.obliterate(opts));
  }
  async waitUntilReady(): Promise<void> {
    await this.each((q) => q.waitUntilReady());
  }
  async close(): Promise<void> {
    await this.each((q) => q.close());
  }
}

export interface EngineQueues {
  events: ShardedQueue<EventJob>;
  runs: ShardedQueue<RunJob>;
  sends: ShardedQueue<SendJob>;
  timers: ShardedQueue<TimerBucketJob>;
  /** Housekeeping: not hot, one queue (hash-tagged on a cluster). */
  jobs: Queue<MaintenanceJob>;
  layout: QueueLayout;
  close(): Promise<void>;
}

/** Whether a connection (an ioredis instance, or options) is a Redis Cluster. */
export function isClusterConnection(connection: ConnectionOptions): boolean {
  return (connection as { isCluster?: unknown }).isCluster === true;
}

export function createQueues(
  connection: ConnectionOptions,
  prefix: string,
  retry: JobRetry = DEFAULT_JOB_RETRY,
  shards = 1,
): EngineQueues {
  const layout: QueueLayout = {
    shards: Math.max(1, Math.floor(shards)),
    hashTags: shards > 1 || isClusterConnection(connection),
  };
  const opts = { connection, prefix, defaultJobOptions: jobOptions(retry) };
  const sharded = <T>(base: keyof typeof SHARD_KEYS) =>
    new ShardedQueue<T>(shardNames(QUEUES[base], layout), opts, SHARD_KEYS[base]);
  const events = sharded<EventJob>("events");
  const runs = sharded<RunJob>("runs");
  const sends = sharded<SendJob>("sends");
  const timers = sharded<TimerBucketJob>("timers");
  const jobs = new Queue<MaintenanceJob>(
    shardNames(QUEUES.jobs, { ...layout, shards: 1 })[0]!,
    opts,
  );
  // A queue without an error listener prints every failed reconnect; Redis outages are logged
  // once by the DependencyMonitor (health.ts), and a failed add() rejects to its caller anyway.
  for (const q of [events, runs, sends, timers].flatMap((s) => s.shards as Queue[]).concat(jobs))
    q.on("error", () => undefined);
  return {
    events,
    runs,
    sends,
    timers,
    jobs,
    layout,
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
  queue: ShardedQueue<T> | Queue<T>,
  name: string,
  data: T,
  opts: JobsOptions & { jobId: string },
): Promise<boolean> {
  const q = (queue instanceof ShardedQueue ? queue.shardOfData(data) : queue) as unknown as Queue;
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
