import {
  dateTriggerDueAt,
  evaluateConditions,
  matchesCustomer,
  Condition,
  MatchMode,
  SegmentDefinition,
  triggerOf,
} from "@postpath/journey";
import { Prisma } from "@postpath/db";
import { z } from "zod";
import { attributeCheckJobs } from "./attribute-checks.ts";
import type { EngineContext } from "./context.ts";
import { customerAttributePage, customerIdPage, customerPage, toSnapshot } from "./customer.ts";
import { enrol, enrolMany } from "./enrol.ts";
import { receivedRange } from "./event-months.ts";
import { loadPlan } from "./plans.ts";
import { ensureFollowUps } from "./runner.ts";
import { compactRollups } from "./rollups.ts"; // issue 17
import { compactKpiRollups } from "./kpi-compact.ts"; // issue 15
import { replaySegmentEdges, sweepSegments } from "./segments.ts"; // issue 16
import {
  addUnlessPending,
  customerCheckJobs,
  MaintenanceJob,
  parseJobData,
  sendJobOptions,
} from "./queues.ts";
import { runMigration } from "./move.ts"; // issue 18
import {
  dropExpiredTracePartitions,
  dropMonthPartition,
  ensureMonthPartitions,
  ensureTracePartitions,
  EVENTS,
  expiredMonthPartitions,
  ident,
  rangeOf,
  type MonthlyTable,
  type MonthPartition,
} from "./partitions.ts"; // issue 15

/** What a bulk enrolment selects: explicit customers (external id or e-mail), or a segment. */
export const EnrolCriteria = z
  .object({
    externalIds: z.array(z.string().min(1)).max(100_000).optional(),
    segment: z
      .object({ conditions: z.array(Condition).min(1), match: MatchMode.default("all") })
      .optional(),
    /** Properties the run sees as `event.*` (manual trigger). */
    properties: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((c) => Boolean(c.externalIds?.length) !== Boolean(c.segment), {
    message: "Give either externalIds or a segment.",
  });
export type EnrolCriteria = z.infer<typeof EnrolCriteria>;

export const ENROL_BATCH = 2000;
/** Pages of a bulk enrolment being enrolled at once (each one insert and one addBulk). */
export const ENROL_PARALLEL = 4;

export async function processMaintenanceJob(ctx: EngineContext, data: unknown): Promise<unknown> {
  const job = parseJobData(MaintenanceJob, data, "maintenance");
  switch (job.kind) {
    case "enrolment":
      return runEnrolment(ctx, job.enrolmentId);
    case "dateTriggers":
      return runDateTriggers(ctx);
    case "sweep":
      return sweep(
        ctx,
        job.graceMs,
        job.eventRetentionDays,
        job.traceRetentionDays,
        job.messageRetentionDays,
      );
    case "segments":
      return sweepSegments(ctx, job.workspaceId, job.segmentId);
    case "migration": // issue 18
      return runMigration(ctx, job.migrationId, job.pass);
  }
}

/**
 * Works through a bulk enrolment in pages of ENROL_BATCH customers (keyset order by id),
 * ENROL_PARALLEL pages at a time, saving progress and the cursor as pages finish in order, so a
 * crashed job resumes where it stopped.
 */
export async function runEnrolment(
  ctx: EngineContext,
  enrolmentId: string,
): Promise<{ done: number; total: number }> {
  const { prisma } = ctx.db;
  const e = await prisma.enrolment.findUnique({ where: { id: enrolmentId } });
  if (!e) {
    ctx.log.warn({ enrolmentId }, "enrolment job for an enrolment that no longer exists; ignoring");
    return { done: 0, total: 0 };
  }
  if (e.status !== "RUNNING") return { done: e.done, total: e.total };
  const criteria = EnrolCriteria.safeParse(e.criteria);
  const version = await prisma.journeyVersion.findFirst({
    where: { journeyId: e.journeyId, status: "LIVE" },
    select: { id: true },
  });
  if (!criteria.success || !version) {
    const error = !criteria.success
      ? "the enrolment's criteria are unreadable"
      : "the journey has no live version";
    await prisma.enrolment.update({
      where: { id: e.id },
      data: { status: "FAILED", error, finishedAt: new Date(ctx.now()) },
    });
    ctx.log.error({ enrolmentId, error }, "enrolment failed");
    return { done: e.done, total: e.total };
  }
  const c = criteria.data;
  const trigger = {
    eventId: `enrol-${e.id}`,
    name: "enrolled",
    properties: c.properties,
    timestamp: e.createdAt.getTime(),
  };
  let { cursor, done, enrolled, skipped } = e;
  const readsProfile = Boolean(
    c.segment?.conditions.some((x) => x.property.split(".")[0] === "customer"),
  );
  // A page of customers: a segment is evaluated on the profiles; otherwise ids are all it needs.
  const readPage = async (after: string | null): Promise<{ ids: string[]; chosen: string[] }> => {
    const page = {
      workspaceId: e.workspaceId,
      after,
      limit: ENROL_BATCH,
      ...(c.externalIds ? { externalIds: c.externalIds } : {}),
    };
    if (!c.segment) {
      const ids = await customerIdPage(ctx.db, page);
      return { ids, chosen: ids };
    }
    const { conditions, match } = c.segment;
    // As segment triggers see the customer: attributes at the top level and under `customer`.
    // Conditions that never read `customer` see only attributes, so only those are read.
    if (!readsProfile) {
      const rows = await customerAttributePage(ctx.db, page);
      return {
        ids: rows.map((r) => r.id),
        chosen: rows
          .filter((r) => evaluateConditions(conditions, match, r.attributes))
          .map((r) => r.id),
      };
    }
    const customers = await customerPage(ctx.db, page);
    return {
      ids: customers.map((cu) => cu.id),
      chosen: customers.filter((cu) => matchesCustomer(conditions, match, cu)).map((cu) => cu.id),
    };
  };
  // Pages are read in order and enrolled ENROL_PARALLEL at a time; progress is saved in page
  // order, so the cursor only passes pages that are done (a resumed job re-runs at most the
  // pages that were in flight, which enrolMany makes harmless).
  type Settled = { ids: string[]; res?: { enrolled: number; skipped: number }; err?: unknown };
  const inFlight: Promise<Settled>[] = [];
  let readFrom = cursor;
  let exhausted = false;
  for (;;) {
    while (!exhausted && inFlight.length < ENROL_PARALLEL) {
      const { ids, chosen } = await readPage(readFrom);
      if (ids.length === 0) {
        exhausted = true;
        break;
      }
      readFrom = ids[ids.length - 1]!;
      inFlight.push(
        enrolMany(ctx, {
          workspaceId: e.workspaceId,
          journeyId: e.journeyId,
          versionId: version.id,
          customerIds: chosen,
          trigger,
        }).then(
          (res) => ({ ids, res }),
          (err: unknown) => ({ ids, err }),
        ),
      );
    }
    const next = inFlight.shift();
    if (!next) break;
    const { ids, res, err } = await next;
    if (!res) {
      await Promise.all(inFlight); // let the rest settle before the job fails and is retried
      throw err;
    }
    cursor = ids[ids.length - 1]!;
    done += ids.length;
    enrolled += res.enrolled;
    skipped += res.skipped;
    // Once per page: a prepared statement rather than an ORM round trip.
    await ctx.db.query(
      `UPDATE "Enrolment" SET cursor = $2, done = $3, enrolled = $4, skipped = $5 WHERE id = $1`,
      [e.id, cursor, done, enrolled, skipped],
      { prepare: "engine.enrolmentProgress" },
    );
  }
  await prisma.enrolment.update({
    where: { id: e.id },
    data: { status: "DONE", done, finishedAt: new Date(ctx.now()) },
  });
  return { done, total: e.total };
}

/** How far back the date scheduler looks for due customers (so an outage of a day is caught up). */
export const DATE_LOOKBACK_MS = 26 * 3600_000;

/**
 * Date triggers: every live date-triggered journey, every customer having the date attribute,
 * enrolled when their next date (in their time zone) falls within the look-back window up to now.
 * The trigger id `date-<due instant>` makes each occurrence enrol at most once.
 */
export async function runDateTriggers(ctx: EngineContext): Promise<{ enrolled: number }> {
  const { prisma } = ctx.db;
  const versions = await prisma.journeyVersion.findMany({
    where: { status: "LIVE", triggerType: "trigger.date", journey: { status: "LIVE" } },
    select: { id: true, journeyId: true, workspaceId: true },
  });
  const now = ctx.now();
  let enrolled = 0;
  for (const v of versions) {
    const plan = await loadPlan(ctx, v.id);
    const attribute = (triggerOf(plan).config as { attribute?: string }).attribute;
    if (!attribute) continue;
    const top = attribute.split(".")[0] ?? attribute;
    let cursor: string | undefined;
    for (;;) {
      const ids = await prisma.$queryRaw<{ id: string }[]>`
        SELECT id FROM "Customer" WHERE "workspaceId" = ${v.workspaceId} AND attributes ? ${top} AND id > ${cursor ?? ""}
        ORDER BY id LIMIT ${ENROL_BATCH}`;
      const rows = ids.length
        ? await prisma.customer.findMany({
            where: { id: { in: ids.map((r) => r.id) } },
            orderBy: { id: "asc" },
          })
        : [];
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.id;
      for (const row of rows) {
        const customer = toSnapshot(row);
        const due = dateTriggerDueAt(plan, customer, now - DATE_LOOKBACK_MS);
        if (due === null || due > now) continue;
        const res = await enrol(ctx, {
          workspaceId: v.workspaceId,
          journeyId: v.journeyId,
          versionId: v.id,
          customer,
          trigger: {
            eventId: `date-${due}`,
            name: "date",
            properties: { attribute, dueAt: new Date(due).toISOString() },
            timestamp: due,
          },
        });
        if (res.runId && !res.skipped) enrolled++;
      }
    }
  }
  return { enrolled };
}

/** A run is overdue when its follow-up should have happened this long ago. */
export const SWEEP_GRACE_MS = 60_000;
/** Runs (and messages) checked per sweep, oldest first; the next sweep takes the next ones. */
const SWEEP_LIMIT = 200;

/**
 * How long identify calls are remembered for deduplication on messageId: a replay within a week
 * merges nothing; an older one is taken as a new call (merging the same traits again changes
 * nothing). The sweeper deletes older calls, at most PRUNE_LIMIT per sweep.
 */
export const IDENTIFY_DEDUPE_MS = 7 * 24 * 3600_000;
const PRUNE_LIMIT = 5000;

/**
 * Days ingested events are kept (EVENT_RETENTION_DAYS). Nothing reads an event after its jobs
 * ran: runs keep their trigger's properties, traces the details. issue 15: events are partitioned
 * by month of receivedAt, and a month is dropped whole once all of it is older than this
 * (expireEventMonths), so an event lives between the retention and the retention plus a month, and
 * its messageId is de-duplicated as long (its EventKey goes with its month). A month that still
 * holds an unprocessed event, or events a segment's longer window reads, is kept; its other
 * expired events are deleted in rounds as before (at most EVENT_PRUNE_ROUNDS × PRUNE_LIMIT a sweep).
 */
export const EVENT_RETENTION_DAYS = 90;
const EVENT_PRUNE_ROUNDS = 20;
/** A month's de-duplication keys deleted per statement before the month is dropped (narrow rows). */
const KEY_PRUNE_LIMIT = 20_000;

/**
 * issue 15: days run traces are kept (TRACE_RETENTION_DAYS; 0: forever). Traces are partitioned
 * by month, and a month is dropped whole once all of it is older than this (partitions.ts), so a
 * trace lives between the retention and the retention plus a month.
 */
export const TRACE_RETENTION_DAYS = 0;

/**
 * issue 15: days messages are kept (MESSAGE_RETENTION_DAYS; 0, the default: forever). Messages are
 * the send history marketers read, and frequency caps, dead letters, engagement, delivery reports,
 * attribution and personal URLs name them. "Message" is partitioned by month of createdAt, and a
 * month is dropped whole once all of it is older than this (expireMessageMonths), with its
 * idempotency keys (MessageKey) first.
 */
export const MESSAGE_RETENTION_DAYS = 0;

/**
 * "Message" by month of createdAt (migration 20261206020000_message_partitions): Message_y2027m01
 * ... Creating a month attaches it (SHARE UPDATE EXCLUSIVE on "Message"); dropping one detaches it
 * (ACCESS EXCLUSIVE on "Message") and drops it. Neither locks "JourneyRun" or "Workspace": the
 * foreign keys to them are gone (20261206040000_message_no_foreign_keys; before, creating a month
 * took SHARE ROW EXCLUSIVE on both, and dropping one ACCESS EXCLUSIVE). A short wait, so sends
 * queue behind a lock being waited for at most this long (the next sweep tries again).
 */
export const MESSAGES: MonthlyTable = {
  parent: "Message",
  column: "createdAt",
  defaultPartition: "Message_default",
  rows: "messages",
  lockTimeout: "1s",
};

/**
 * The safety net under "Postgres is the truth": finds runs whose follow-up job should exist but
 * evidently doesn't (a wait overdue by more than the grace period, an active run untouched that
 * long, a pending message that long, an event received that long ago and not yet processed) — lost with a Redis that died before its AOF was written, or
 * failed after exhausting retries — and re-creates the job from the row. Every handler is
 * idempotent, so recreating a job that was merely slow is harmless.
 */
export async function sweep(
  ctx: EngineContext,
  graceMs = SWEEP_GRACE_MS,
  eventRetentionDays = EVENT_RETENTION_DAYS,
  traceRetentionDays = TRACE_RETENTION_DAYS,
  messageRetentionDays = MESSAGE_RETENTION_DAYS,
): Promise<{
  runs: number;
  messages: number;
  /** Unprocessed events whose job was re-created. */
  eventJobs: number;
  /**
   * issue 15: segment-check jobs queued again for pending checks (journey steps' and identify
   * calls').
   */
  checkJobs: number;
  identifyCalls: number;
  /** Expired events deleted one by one (of months kept for an unprocessed event or a segment). */
  events: number;
  /** issue 15: months of events dropped whole (past EVENT_RETENTION_DAYS). */
  eventPartitionsDropped: number;
  /** Segment entries and exits handed over to their journeys again. */
  segmentEdges: number;
  /** issue 15: months of run traces dropped whole (past TRACE_RETENTION_DAYS). */
  tracePartitionsDropped: number;
  /** issue 15: months of messages dropped whole, with their keys (past MESSAGE_RETENTION_DAYS). */
  messagePartitionsDropped: number;
}> {
  const { prisma } = ctx.db;
  const before = new Date(ctx.now() - graceMs);
  // Paused journeys hold their runs on purpose (resume re-creates their jobs).
  const paused = await prisma.journey.findMany({
    where: { status: "PAUSED" },
    select: { id: true },
  });
  const pausedIds = paused.map((j) => j.id);
  const cutoff = before.toISOString().slice(0, -1); // the columns are UTC timestamps
  // Raw SQL with the statuses as literals, so Postgres reads the partial indexes of waiting and
  // active runs (a status passed as a parameter, as Prisma does, cannot match their predicates:
  // each sweep was a scan of the whole table).
  const overdue = (status: "WAITING" | "ACTIVE", since: '"waitingUntil"' | '"updatedAt"') =>
    ctx.db.query<{ id: string }>(
      `SELECT id FROM "JourneyRun"
       WHERE status = '${status}' AND ${since} < $1::timestamp AND NOT ("journeyId" = ANY($2::text[]))
       ORDER BY ${since} LIMIT $3`,
      [cutoff, pausedIds, SWEEP_LIMIT],
      { prepare: `engine.sweep${status}` },
    );
  const runs = [
    ...(await overdue("WAITING", '"waitingUntil"')),
    ...(await overdue("ACTIVE", '"updatedAt"')),
  ];
  for (const r of runs) await ensureFollowUps(ctx, r.id, { recover: true });
  const messages = await prisma.message.findMany({
    // SENDING too (issue 13): a claim whose job was lost; its send job resolves it by policy.
    where: { status: { in: ["PENDING", "SENDING"] }, createdAt: { lt: before } },
    orderBy: { createdAt: "asc" },
    select: { id: true, createdAt: true },
    take: SWEEP_LIMIT,
  });
  for (const m of messages)
    await addUnlessPending(
      ctx.queues.sends,
      "send",
      { messageId: m.id, createdAt: m.createdAt.getTime() },
      { jobId: `send-${m.id}`, ...sendJobOptions(ctx) },
    );
  // Events acknowledged (stored) but not processed: their job was lost with Redis, or failed
  // after its last attempt (a long Postgres outage). Re-queued under the same id, replacing a
  // failed job; processing is idempotent, so one that was merely slow loses nothing.
  const events = await ctx.db.query<{ id: string; receivedMs: number }>(
    `SELECT id, (extract(epoch FROM "receivedAt") * 1000)::float8 AS "receivedMs" FROM "Event"
     WHERE "processedAt" IS NULL AND "receivedAt" < $1::timestamp
     ORDER BY "receivedAt" LIMIT $2`,
    [before.toISOString().slice(0, -1), SWEEP_LIMIT],
    { prepare: "engine.unprocessedEventsAt" },
  );
  let eventJobs = 0;
  for (const e of events) {
    // With its receivedAt, so the worker reads the event's month only (event-months.ts).
    const received = receivedRange([e.receivedMs]);
    const data = received ? { eventId: e.id, received } : { eventId: e.id };
    if (await addUnlessPending(ctx.queues.events, "event", data, { jobId: `ev-${e.id}` }))
      eventJobs++;
  }
  // issue 15: journey steps' segment checks no check has covered past the grace (lost on their
  // way to Redis, or by it): queued again under their own names (attribute-checks.ts).
  const pendingChecks = await ctx.db.query<{
    runId: string;
    seq: number;
    workspaceId: string;
    customerId: string;
  }>(
    `SELECT "runId", seq, "workspaceId", "customerId" FROM "PendingCheck"
     WHERE "createdAt" < $1::timestamp ORDER BY "createdAt" LIMIT $2`,
    [cutoff, SWEEP_LIMIT],
    { prepare: "engine.pendingChecks" },
  );
  let checkJobs = 0;
  // And identify calls' checks ("IdentifyCheck"), under the names they had when they went alone.
  const identifyChecks = await ctx.db.query<{ customerId: string; callId: string }>(
    `SELECT "customerId", "callId" FROM "IdentifyCheck"
     WHERE "createdAt" < $1::timestamp ORDER BY "createdAt" LIMIT $2`,
    [cutoff, SWEEP_LIMIT],
    { prepare: "engine.identifyChecks" },
  );
  const owedCalls = new Map<string, string[]>();
  for (const c of identifyChecks) {
    const calls = owedCalls.get(c.customerId);
    if (calls) calls.push(c.callId);
    else owedCalls.set(c.customerId, [c.callId]);
  }
  for (const job of [
    ...attributeCheckJobs(pendingChecks),
    ...customerCheckJobs("identify", owedCalls),
  ])
    if (await addUnlessPending(ctx.queues.events, job.name, job.data, job.opts)) checkJobs++;
  // Segment entries and exits whose journeys a crash kept from starting (SegmentEdge).
  const segmentEdges = await replaySegmentEdges(ctx, before.getTime(), SWEEP_LIMIT);
  if (runs.length || messages.length || eventJobs || checkJobs || segmentEdges)
    ctx.log.info(
      {
        runs: runs.length,
        messages: messages.length,
        events: eventJobs,
        segmentChecks: checkJobs,
        segmentEdges,
      },
      "sweeper re-created follow-up jobs",
    );
  const identifyCalls = await pruneReceivedBefore(
    ctx,
    "IdentifyCall",
    ctx.now() - IDENTIFY_DEDUPE_MS,
    1,
  );
  // issue 15: the events' months ahead are created, those past the retention dropped whole.
  let expired = 0;
  let eventPartitionsDropped = 0;
  try {
    await ensureMonthPartitions(ctx, EVENTS, ctx.now());
    if (eventRetentionDays > 0) {
      const res = await expireEventMonths(
        ctx,
        ctx.now() - eventRetentionDays * 24 * 3600_000,
        await longerSegmentWindows(ctx, eventRetentionDays),
      );
      expired = res.deleted;
      eventPartitionsDropped = res.dropped.length;
      if (res.dropped.length)
        ctx.log.info(
          { partitions: res.dropped, eventRetentionDays },
          "dropped months of events past their retention",
        );
    }
  } catch (err) {
    ctx.log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "event partition upkeep failed; the next sweep tries again",
    );
  }
  if (expired)
    ctx.log.info({ events: expired, eventRetentionDays }, "sweeper deleted expired events");
  // issue 17: the analytics rollups' shards of days that are over, folded into one row each.
  await compactRollups(ctx).catch((err: unknown) =>
    ctx.log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "rollup compaction failed",
    ),
  );
  // issue 15: the KPI rollups' shards of days that are over, likewise (kpi-compact.ts).
  await compactKpiRollups(ctx).catch((err: unknown) =>
    ctx.log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "KPI rollup compaction failed",
    ),
  );
  // issue 15: the traces' months ahead are created, those past the retention dropped whole.
  let tracePartitionsDropped = 0;
  try {
    await ensureTracePartitions(ctx, ctx.now());
    const dropped = await dropExpiredTracePartitions(ctx, ctx.now(), traceRetentionDays);
    tracePartitionsDropped = dropped.length;
  } catch (err) {
    ctx.log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "run trace partition upkeep failed; the next sweep tries again",
    );
  }
  // issue 15: the messages' months ahead are created, those past the retention dropped whole.
  let messagePartitionsDropped = 0;
  try {
    await ensureMonthPartitions(ctx, MESSAGES, ctx.now());
    if (messageRetentionDays > 0) {
      const dropped = await expireMessageMonths(
        ctx,
        ctx.now() - messageRetentionDays * 24 * 3600_000,
      );
      messagePartitionsDropped = dropped.length;
      if (dropped.length)
        ctx.log.info(
          { partitions: dropped, messageRetentionDays },
          "dropped months of messages past their retention",
        );
    }
  } catch (err) {
    ctx.log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "message partition upkeep failed; the next sweep tries again",
    );
  }
  return {
    runs: runs.length,
    messages: messages.length,
    eventJobs,
    checkJobs,
    identifyCalls,
    events: expired,
    eventPartitionsDropped,
    segmentEdges,
    tracePartitionsDropped,
    messagePartitionsDropped,
  };
}

/**
 * A message that keeps its month past the retention: one still to be sent or being sent (PENDING,
 * SENDING: the sweeper re-queues it, its run waits for its result), or a dead letter nobody
 * dismissed (DEAD, UNCERTAIN: listed for a person to replay or dismiss; dropping it would take
 * that choice away silently). FAILED (refused outright) is final and listed only on request.
 */
const UNFINISHED = `(status IN ('PENDING', 'SENDING') OR (status IN ('DEAD', 'UNCERTAIN') AND "dismissedAt" IS NULL))`;
/** Message keys deleted per statement before a month is dropped; at most this many statements a sweep. */
const MESSAGE_KEY_PRUNE_LIMIT = 20_000;
const MESSAGE_KEY_PRUNE_ROUNDS = 20;

/**
 * issue 15: the months of messages wholly older than `cutoffMs` (the legacy partition once its
 * whole range is), oldest first. One holding an unfinished message (UNFINISHED) is kept whole and
 * logged (nothing is deleted row by row: the history of a month goes together or not at all);
 * any other has its idempotency keys deleted (MESSAGE_KEY_PRUNE_LIMIT per statement, a big month
 * may take several sweeps) and is then detached and dropped. Keys go first, so no key outlives its
 * message. A key deleted this way can no longer refuse a second message under it; every key is
 * `<run>:<seq>:<step>` and a run's seq only grows, so none is made again. Returns the months
 * dropped.
 */
export async function expireMessageMonths(ctx: EngineContext, cutoffMs: number): Promise<string[]> {
  const months = (await expiredMonthPartitions(ctx, MESSAGES, cutoffMs)).sort(
    (a, b) => (a.to?.getTime() ?? 0) - (b.to?.getTime() ?? 0),
  );
  const dropped: string[] = [];
  let rounds = MESSAGE_KEY_PRUNE_ROUNDS;
  for (const p of months) {
    if (rounds <= 0) break;
    const [held] = await ctx.db.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${ident(p.name)} WHERE ${UNFINISHED}) AS held`,
    );
    if (held?.held) {
      ctx.log.warn(
        { partition: p.name },
        "kept a month of messages past the retention: it holds messages not sent yet, being sent, or dead letters not dismissed",
      );
      continue;
    }
    const range = rangeOf(MESSAGES, p);
    const keys = await deleteInRounds(
      ctx,
      `DELETE FROM "MessageKey" WHERE "idempotencyKey" IN (
         SELECT "idempotencyKey" FROM "MessageKey" WHERE ${range} LIMIT ${MESSAGE_KEY_PRUNE_LIMIT})`,
      MESSAGE_KEY_PRUNE_LIMIT,
      rounds,
    );
    rounds -= keys.rounds;
    if (keys.left) break; // the next sweep deletes the rest, then drops the month
    if (await dropMonthPartition(ctx, MESSAGES, p.name)) dropped.push(p.name);
  }
  return dropped;
}

/** Events of one name in one workspace kept longer than the retention: since `since` (ISO). */
export interface LongerWindow {
  ws: string;
  name: string;
  since: string;
}

/**
 * issue 16: a saved segment (lifecycle stages included) whose rule reads an event over a window
 * longer than the retention ("revenue of purchase in the last 365 days") keeps that event's rows
 * of its workspace for the window, so the segment sees what it says. A rule with no window reads
 * the events kept, as the segment editor states. Definitions that no longer parse extend nothing.
 */
async function longerSegmentWindows(
  ctx: EngineContext,
  retentionDays: number,
): Promise<LongerWindow[]> {
  const rows = await ctx.db.query<{ workspaceId: string; definition: unknown }>(
    `SELECT "workspaceId", definition FROM "Segment"`,
    [],
    { prepare: "engine.segmentWindows" },
  );
  const days = new Map<string, { ws: string; name: string; days: number }>();
  for (const row of rows) {
    const d = SegmentDefinition.safeParse(row.definition);
    if (!d.success) continue;
    for (const r of d.data.rules) {
      if (r.kind !== "event" || r.withinDays === undefined || r.withinDays <= retentionDays)
        continue;
      const key = JSON.stringify([row.workspaceId, r.event]);
      const known = days.get(key);
      if (!known || known.days < r.withinDays)
        days.set(key, { ws: row.workspaceId, name: r.event, days: r.withinDays });
    }
  }
  return [...days.values()].map((w) => ({
    ws: w.ws,
    name: w.name,
    since: new Date(ctx.now() - w.days * 24 * 3600_000).toISOString(),
  }));
}

/**
 * Deletes rows received before `cutoffMs`, oldest first, PRUNE_LIMIT per statement, at most
 * `rounds` statements (each its own short transaction); how many went.
 */
async function pruneReceivedBefore(
  ctx: EngineContext,
  table: "IdentifyCall",
  cutoffMs: number,
  rounds: number,
): Promise<number> {
  const name = Prisma.raw(`"${table}"`);
  const cutoff = new Date(cutoffMs);
  let deleted = 0;
  for (let round = 0; round < rounds; round++) {
    const n = await ctx.db.prisma.$executeRaw`
      DELETE FROM ${name} WHERE id IN (
        SELECT id FROM ${name} WHERE "receivedAt" < ${cutoff} ORDER BY "receivedAt" LIMIT ${PRUNE_LIMIT})`;
    deleted += n;
    if (n < PRUNE_LIMIT) break;
  }
  return deleted;
}

/**
 * issue 15: the months of events wholly older than `cutoffMs` (the legacy partition once its whole
 * range is), oldest first:
 *  - one holding an event not yet processed (the sweeper queues it again; retention never deletes
 *    it) or events a segment's longer window still reads is kept, logged, and only its other
 *    events are deleted, in rounds, with their keys;
 *  - any other has its de-duplication keys deleted (KEY_PRUNE_LIMIT per statement, the rounds
 *    shared with the above; a big month takes several sweeps) and is then detached and dropped.
 * Keys go first, so no key outlives its event: a replay meanwhile finds its original, or no key and
 * is stored anew (in the current month). Dropping happens in partitions.ts (short lock timeout).
 */
export async function expireEventMonths(
  ctx: EngineContext,
  cutoffMs: number,
  longer: LongerWindow[],
): Promise<{ dropped: string[]; deleted: number }> {
  const months = (await expiredMonthPartitions(ctx, EVENTS, cutoffMs)).sort(
    (a, b) => (a.to?.getTime() ?? 0) - (b.to?.getTime() ?? 0),
  );
  const dropped: string[] = [];
  let deleted = 0;
  let rounds = EVENT_PRUNE_ROUNDS;
  for (const p of months) {
    if (rounds <= 0) break;
    const part = ident(p.name);
    // Only windows reaching back before the month's end can need its events.
    const windows = longer.filter((w) => p.to !== null && Date.parse(w.since) < p.to.getTime());
    const [held] = await ctx.db.query<{ unprocessed: boolean; windowed: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${part} WHERE "processedAt" IS NULL) AS unprocessed,
              ${windows.length ? `EXISTS (SELECT 1 FROM ${part} e WHERE ${WINDOWED}) AS windowed` : "false AS windowed"}`,
      windows.length ? [JSON.stringify(windows)] : [],
    );
    if (held?.unprocessed || held?.windowed) {
      ctx.log.warn(
        {
          partition: p.name,
          unprocessed: held.unprocessed,
          segmentWindow: held.windowed,
        },
        "kept a month of events past the retention: it holds events not yet processed or read by a segment's longer window; deleting its other events one by one",
      );
      const res = await pruneHeldMonth(ctx, p, windows, rounds);
      deleted += res.deleted;
      rounds -= res.rounds;
      continue;
    }
    const range = rangeOf(EVENTS, p);
    const keys = await deleteInRounds(
      ctx,
      `DELETE FROM "EventKey" WHERE ("workspaceId", "messageId") IN (
         SELECT "workspaceId", "messageId" FROM "EventKey" WHERE ${range} LIMIT ${KEY_PRUNE_LIMIT})`,
      KEY_PRUNE_LIMIT,
      rounds,
    );
    rounds -= keys.rounds;
    if (keys.left) break; // the next sweep deletes the rest, then drops the month
    if (await dropMonthPartition(ctx, EVENTS, p.name)) dropped.push(p.name);
  }
  return { dropped, deleted };
}

/** The events a segment's longer window reads: `e` an event row, $1 the windows as JSON. */
const WINDOWED = `EXISTS (
  SELECT 1 FROM jsonb_to_recordset($1::jsonb) AS k(ws text, name text, since timestamp)
  WHERE k.ws = e."workspaceId" AND k.name = e.name AND e."receivedAt" >= k.since)`;

/**
 * The events of a kept month that may go (processed, not read by a longer window) deleted with
 * their keys, oldest first, PRUNE_LIMIT per statement, at most `rounds` statements.
 */
async function pruneHeldMonth(
  ctx: EngineContext,
  p: MonthPartition,
  windows: LongerWindow[],
  rounds: number,
): Promise<{ deleted: number; rounds: number }> {
  const part = ident(p.name);
  const keep = windows.length ? `AND NOT ${WINDOWED}` : "";
  let deleted = 0;
  let used = 0;
  while (used < rounds) {
    used++;
    const [row] = await ctx.db.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM ${part} WHERE (id, "receivedAt") IN (
           SELECT id, "receivedAt" FROM ${part} e WHERE "processedAt" IS NOT NULL ${keep}
           ORDER BY "receivedAt" LIMIT ${PRUNE_LIMIT})
         RETURNING "workspaceId", "messageId", id
       ), keys AS (
         DELETE FROM "EventKey" k USING gone g
         WHERE k."workspaceId" = g."workspaceId" AND k."messageId" = g."messageId" AND k."eventId" = g.id
       )
       SELECT count(*)::int AS n FROM gone`,
      windows.length ? [JSON.stringify(windows)] : [],
    );
    const n = row?.n ?? 0;
    deleted += n;
    if (n < PRUNE_LIMIT) break;
  }
  return { deleted, rounds: used };
}

/**
 * Runs `statement` (a DELETE of at most `limit` rows, e.g. a month's keys) up to `rounds` times,
 * until a round deletes fewer than `limit`: how many rounds it took, and whether rows may be left.
 */
async function deleteInRounds(
  ctx: EngineContext,
  statement: string,
  limit: number,
  rounds: number,
): Promise<{ rounds: number; left: boolean }> {
  let used = 0;
  let left = true;
  while (used < rounds && left) {
    used++;
    left = Number(await ctx.db.prisma.$executeRawUnsafe(statement)) === limit;
  }
  return { rounds: used, left };
}
