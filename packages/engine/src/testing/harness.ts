// Engine tests on real services: a fresh Postgres database, a Redis (the local one, or one the
// test started) under a unique queue prefix, workers in-process, one workspace.
import { randomBytes } from "node:crypto";
import type { OutboundPolicy, Provider } from "@postpath/channels";
import type { Database, Prisma } from "@postpath/db";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import {
  compile,
  draftFromSteps,
  SegmentDefinition,
  triggerOf,
  type JourneySettingsInput,
  type SegmentDefinitionInput,
  type StepSpec,
} from "@postpath/journey";
import type { EngineContext } from "../context.ts";
import {
  createEngineContext,
  startWorkers,
  type RunningWorkers,
  type WorkerOptions,
} from "../engine.ts";
import { identify } from "../ingest.ts";
import { createLogger } from "../logger.ts";
import { staticProviders } from "../providers.ts";
import { createRedis, type JobRetry, type RedisClient, type RedisTarget } from "../queues.ts";
import type { TimerSettings } from "../timers.ts";

export interface EngineHarness {
  db: TestDatabase;
  ctx: EngineContext;
  redis: RedisClient;
  prefix: string;
  workers: RunningWorkers | null;
  workspaceId: string;
  startWorkers(opts?: Partial<WorkerOptions>): RunningWorkers;
  publish(
    name: string,
    steps: StepSpec[],
    settings?: JourneySettingsInput,
    journeyId?: string,
  ): Promise<{ journeyId: string; versionId: string }>;
  customer(externalId: string, traits?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export type EngineHarnessOptions = NonNullable<Parameters<typeof startEngineHarness>[0]>;

export async function startEngineHarness(
  opts: {
    sendRetry?: { attempts: number; backoffMs: number };
    /** Retries of event/run/timer/housekeeping jobs (default: the product's, ~12 minutes). */
    jobRetry?: Partial<JobRetry>;
    providers?: Record<string, Provider>;
    /** Private hosts providers may reach (default 127.0.0.1, where the test receivers listen). */
    outbound?: OutboundPolicy;
    redisUrl?: string;
    /** issue 15: a Redis Cluster instead (its nodes), and shards per hot queue (default 1). */
    redis?: RedisTarget;
    queueShards?: number;
    now?: () => number;
    timers?: Partial<TimerSettings>;
    workers?: Partial<WorkerOptions> | false;
    db?: TestDatabase;
    logLevel?: string;
  } = {},
): Promise<EngineHarness> {
  const prefix = `t${randomBytes(5).toString("hex")}`;
  const db = opts.db ?? (await createTestDatabase());
  const redis = createRedis(opts.redis ?? opts.redisUrl ?? "redis://127.0.0.1:6379");
  redis.on("error", () => undefined);
  await redis.connect();
  const log = createLogger(opts.logLevel ?? process.env.ENGINE_TEST_LOG ?? "silent");
  const ctx = createEngineContext({
    db,
    connection: redis,
    prefix,
    log,
    providers: staticProviders(opts.providers ?? {}),
    outbound: opts.outbound ?? { allowHosts: ["127.0.0.1"] },
    publicUrl: "http://pp.test",
    sendRetry: opts.sendRetry ?? { attempts: 3, backoffMs: 100 },
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.timers ? { timers: opts.timers } : {}),
    ...(opts.jobRetry ? { jobRetry: opts.jobRetry } : {}),
    ...(opts.queueShards ? { queueShards: opts.queueShards } : {}),
  });
  const ws = await db.prisma.workspace.create({ data: { name: "Engine Co", slug: prefix } });
  const h: EngineHarness = {
    db,
    ctx,
    redis,
    prefix,
    workers: null,
    workspaceId: ws.id,
    startWorkers(o = {}) {
      h.workers = startWorkers(ctx, {
        connection: redis,
        prefix,
        concurrency: 20,
        pausePollMs: 300,
        dateTriggerEveryMs: 0,
        sweepEveryMs: 0,
        segmentSweepEveryMs: 0,
        ...o,
      });
      return h.workers;
    },
    async publish(name, steps, settings = {}, journeyId) {
      // Steps may lead to "end" without declaring it: an exit is added.
      const all =
        steps.some((s) => s.id === "end") ||
        !JSON.stringify(steps.map((s) => s.next ?? null)).includes('"end"')
          ? steps
          : [...steps, { id: "end", type: "flow.exit" as const }];
      const result = compile(draftFromSteps(all, settings));
      if (!result.ok) throw new Error(`journey does not compile: ${JSON.stringify(result.errors)}`);
      const plan = result.plan;
      const trigger = triggerOf(plan);
      const j = journeyId
        ? await db.prisma.journey.update({ where: { id: journeyId }, data: { status: "LIVE" } })
        : await db.prisma.journey.create({
            data: { workspaceId: ws.id, name, status: "LIVE", draft: {} },
          });
      const last = await db.prisma.journeyVersion.findFirst({
        where: { journeyId: j.id },
        orderBy: { version: "desc" },
      });
      await db.prisma.journeyVersion.updateMany({
        where: { journeyId: j.id, status: "LIVE" },
        data: { status: "SUPERSEDED" },
      });
      const v = await db.prisma.journeyVersion.create({
        data: {
          journeyId: j.id,
          workspaceId: ws.id,
          version: (last?.version ?? 0) + 1,
          schemaVersion: plan.schemaVersion,
          plan: plan as unknown as Prisma.InputJsonValue,
          triggerType: trigger.type,
          triggerEvent: trigger.event ?? null,
        },
      });
      return { journeyId: j.id, versionId: v.id };
    },
    async customer(externalId, traits = {}) {
      return (await identify(ctx, ws.id, { userId: externalId, traits })).customerId;
    },
    async close() {
      await h.workers?.close();
      await ctx.queues.close();
      try {
        // On a cluster, each master's own keys (a multi-key DEL only within one slot).
        for (const node of "nodes" in redis ? redis.nodes("master") : [redis]) {
          const keys = await node.keys(`${prefix}:*`);
          if (keys.length) await keys.reduce((p, k) => p.del(k), node.pipeline()).exec();
        }
      } catch {
        // the test's own Redis may be gone already
      }
      redis.disconnect();
      if (!opts.db) await db.drop();
    },
  };
  if (opts.workers !== false) h.startWorkers(opts.workers || {});
  return h;
}

/** Entering the inline segment plan = premium starts it; a day's wait keeps the run active. */
export const PREMIUM_SEGMENT_JOURNEY: StepSpec[] = [
  {
    id: "t",
    type: "trigger.segment",
    data: { conditions: [{ property: "plan", op: "eq", value: "premium" }] },
    next: "w",
  },
  { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
];

/** Sets plan = premium and tags the customer "upgraded", then waits a day. */
export const UPGRADE_STEPS: StepSpec[] = [
  { id: "a", type: "action.attribute", data: { set: { plan: "premium" } }, next: "g" },
  { id: "g", type: "action.tag", data: { add: ["upgraded"] }, next: "w" },
  { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
];

/**
 * A run of a one-webhook journey (manual trigger → webhook to a closed port → end), created as
 * enrolment leaves it: no state yet, before its first job (which builds the state and writes the
 * webhook's message).
 */
export async function webhookRunBeforeFirstJob(x: EngineHarness, name: string, customer = "ann") {
  const { journeyId, versionId } = await x.publish(name, [
    { id: "t", type: "trigger.manual", next: "m" },
    {
      id: "m",
      type: "action.webhook",
      data: { url: "http://127.0.0.1:9/x", body: "{}" },
      next: "end",
    },
  ]);
  const customerId = await x.customer(customer);
  const run = await x.db.prisma.journeyRun.create({
    data: {
      workspaceId: x.workspaceId,
      journeyId,
      versionId,
      customerId,
      entryNumber: 1,
      currentStepId: "t",
    },
  });
  return { journeyId, versionId, customerId, run };
}

export { waitFor } from "@postpath/db/testing";

/**
 * What a waiting test watches to tell a slow machine from a stuck one: a journey's runs by status
 * and step, and the outbox by status. Any change restarts waitFor's stall clock.
 */
export async function runProgress(db: Database, journeyId: string): Promise<unknown> {
  const [runs, messages] = await Promise.all([
    db.prisma.journeyRun.groupBy({
      by: ["status", "currentStepId"],
      where: { journeyId },
      _count: { _all: true },
      orderBy: [{ status: "asc" }, { currentStepId: "asc" }],
    }),
    // "Message" has no relation to its run (issue 15: no foreign keys): a join on the run's key.
    db.query<{ status: string; n: number }>(
      `SELECT m.status::text AS status, count(*)::int AS n
       FROM "Message" m JOIN "JourneyRun" r ON r.id = m."runId"
       WHERE r."journeyId" = $1 GROUP BY 1 ORDER BY 1`,
      [journeyId],
    ),
  ]);
  return { runs, messages };
}

/**
 * A Prisma `where` for the messages of a journey's runs (spread it: `{ ...(await ofJourney(db, id)),
 * status: "SENT" }`). "Message" has no relation to its run since its foreign keys went (issue 15).
 */
export async function ofJourney(
  db: Database,
  journeyId: string,
): Promise<{ runId: { in: string[] } }> {
  const runs = await db.prisma.journeyRun.findMany({ where: { journeyId }, select: { id: true } });
  return { runId: { in: runs.map((r) => r.id) } };
}

/** Saves a segment in the harness's workspace, as the API stores one (the definition parsed). */
export const saveSegment = (x: EngineHarness, name: string, d: SegmentDefinitionInput) =>
  x.db.prisma.segment.create({
    data: {
      workspaceId: x.workspaceId,
      name,
      definition: SegmentDefinition.parse(d) as unknown as Prisma.InputJsonValue,
    },
  });

/**
 * Moves a stored event (and its de-duplication key, so the key still finds it) to another
 * receivedAt, processed then or not: the events' month partitions and retention tests.
 */
export async function moveEvent(
  db: Database,
  eventId: string,
  iso: string,
  processed: boolean,
): Promise<void> {
  const at = new Date(iso).toISOString().slice(0, -1);
  await db.query(
    `UPDATE "Event" SET "receivedAt" = $2::timestamp,
            "processedAt" = CASE WHEN $3 THEN $2::timestamp END WHERE id = $1`,
    [eventId, at, processed],
  );
  await db.query(`UPDATE "EventKey" SET "receivedAt" = $2::timestamp WHERE "eventId" = $1`, [
    eventId,
    at,
  ]);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
