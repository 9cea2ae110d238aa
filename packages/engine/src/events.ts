import { listenedEvents, matchesTrigger, type CustomerSnapshot } from "@postpath/journey";
import { UnrecoverableError } from "bullmq";
import type { EngineContext } from "./context.ts";
import { asRecord, toSnapshot } from "./customer.ts";
import { enrol, recordEntrySkip } from "./enrol.ts";
import { loadPlan } from "./plans.ts";
import { EventJob, runJobId, type RunJob } from "./queues.ts";

/**
 * An ingested event: hand it to the customer's active runs that listen for it (goals, exit
 * criteria, parked wait-for-event steps), then enrol the customer into every live journey whose
 * trigger matches. A customer-changed job checks segment triggers instead.
 */
export async function processEventJob(
  ctx: EngineContext,
  data: unknown,
): Promise<{ enrolled: number; delivered: number }> {
  const parsed = EventJob.safeParse(data);
  if (!parsed.success) {
    ctx.log.error(
      { issues: parsed.error.issues, data },
      "malformed event job payload; dropping it",
    );
    throw new UnrecoverableError("malformed event job payload");
  }
  if ("customerId" in parsed.data) return processCustomerChanged(ctx, parsed.data.customerId);
  return processEvent(ctx, parsed.data.eventId, { earlierFirst: true });
}

/** Earlier events of the customer an event job processes first (more wait for their own jobs). */
const EARLIER_FIRST_LIMIT = 50;

/**
 * Processes one stored event, then marks it processed (`processedAt`). Everything it does is
 * idempotent and decided in Postgres — an enrolment by the (journey, customer, trigger) unique
 * key, a run's use of the event by the run's `consumed` ids, a refused entry by its unique row —
 * so processing an event again (a retried job, the sweeper, an earlier-first pass) changes nothing.
 *
 * `earlierFirst`: when the event can enrol (a live journey is triggered by its name), the same
 * customer's stored, not yet processed events of that name with an earlier timestamp are processed
 * first, in timestamp order. So for an entry rule such as "once", the earliest event wins among
 * those received by the time the entry is decided, whatever order their jobs run in. (An event
 * that arrives after another has already enrolled the customer cannot take the entry back: the
 * run has started; it is recorded as refused, with the reason.)
 */
async function processEvent(
  ctx: EngineContext,
  eventId: string,
  opts: { earlierFirst: boolean },
): Promise<{ enrolled: number; delivered: number }> {
  const { prisma } = ctx.db;
  const event = await prisma.event.findUnique({
    where: { id: eventId },
    include: { customer: true },
  });
  if (!event) {
    ctx.log.warn(
      { eventId },
      "event job for an event that no longer exists (or an unknown customer); ignoring",
    );
    return { enrolled: 0, delivered: 0 };
  }
  const versions = await prisma.journeyVersion.findMany({
    where: {
      workspaceId: event.workspaceId,
      status: "LIVE",
      triggerEvent: event.name,
      journey: { status: "LIVE" },
    },
    select: { id: true, journeyId: true },
  });
  if (opts.earlierFirst && versions.length > 0) {
    const earlier = await ctx.db.query<{ id: string }>(
      `SELECT id FROM "Event"
       WHERE "workspaceId" = $1 AND "customerId" = $2 AND name = $3 AND "processedAt" IS NULL
         AND (timestamp, id) < ($4::timestamp, $5::text)
       ORDER BY timestamp, id
       LIMIT $6`,
      [
        event.workspaceId,
        event.customerId,
        event.name,
        event.timestamp.toISOString().slice(0, -1),
        event.id,
        EARLIER_FIRST_LIMIT,
      ],
      { prepare: "engine.earlierEvents" },
    );
    for (const e of earlier) await processEvent(ctx, e.id, { earlierFirst: false });
  }
  const customer = toSnapshot(event.customer);
  const properties = asRecord(event.properties);

  // Runs already in flight see the event first (so a purchase that enrols does not also satisfy
  // the new run's own goal).
  const active = await prisma.journeyRun.findMany({
    where: {
      workspaceId: event.workspaceId,
      customerId: event.customerId,
      status: { in: ["ACTIVE", "WAITING"] },
    },
    select: { id: true, seq: true, versionId: true },
  });
  let delivered = 0;
  for (const run of active) {
    let listens: boolean;
    try {
      listens = listenedEvents(await loadPlan(ctx, run.versionId)).includes(event.name);
    } catch {
      listens = true; // let the run job report the unreadable plan
    }
    if (!listens) continue;
    const job: RunJob = {
      runId: run.id,
      seq: run.seq,
      input: { kind: "event", eventId: event.id },
    };
    await ctx.queues.runs.add("event", job, { jobId: runJobId(job) });
    delivered++;
  }

  let enrolled = 0;
  for (const v of versions) {
    const plan = await loadPlan(ctx, v.id);
    if (!matchesTrigger(plan, { name: event.name, properties }, customer)) {
      await recordEntrySkip(ctx, {
        workspaceId: event.workspaceId,
        journeyId: v.journeyId,
        versionId: v.id,
        customerId: customer.id,
        triggerId: event.id,
        reason: "filter",
        detail: "the event doesn't meet the trigger's conditions",
      });
      continue;
    }
    const res = await enrol(ctx, {
      workspaceId: event.workspaceId,
      journeyId: v.journeyId,
      versionId: v.id,
      customer,
      trigger: {
        eventId: event.id,
        name: event.name,
        properties,
        timestamp: event.timestamp.getTime(),
      },
    });
    if (res.runId && !res.skipped) enrolled++;
    if (res.skipped)
      ctx.log.debug(
        { journeyId: v.journeyId, customerId: customer.id, reason: res.skipped },
        "not enrolled",
      );
  }
  // Right after its effects (all idempotent): a crash before this line has the sweeper (or a
  // replay) process the event again, harmlessly; after it, a replay is answered without a job.
  await ctx.db.query(
    `UPDATE "Event" SET "processedAt" = now() AT TIME ZONE 'UTC' WHERE id = $1 AND "processedAt" IS NULL`,
    [event.id],
    { prepare: "engine.eventProcessed" },
  );
  return { enrolled, delivered };
}

/**
 * Segment entry: a customer whose attributes changed now matches (or no longer matches) a live
 * segment-triggered journey. Membership rows make "entry" an edge, not a level: only a customer
 * who was outside the segment enters (subject to the entry rules).
 */
export async function processCustomerChanged(
  ctx: EngineContext,
  customerId: string,
): Promise<{ enrolled: number; delivered: number }> {
  const { prisma } = ctx.db;
  const row = await prisma.customer.findUnique({ where: { id: customerId } });
  if (!row) {
    ctx.log.warn({ customerId }, "customer-changed job for an unknown customer; ignoring");
    return { enrolled: 0, delivered: 0 };
  }
  const customer: CustomerSnapshot = toSnapshot(row);
  const versions = await prisma.journeyVersion.findMany({
    where: {
      workspaceId: row.workspaceId,
      status: "LIVE",
      triggerType: "trigger.segment",
      journey: { status: "LIVE" },
    },
    select: { id: true, journeyId: true },
  });
  let enrolled = 0;
  for (const v of versions) {
    const plan = await loadPlan(ctx, v.id);
    const inside = matchesTrigger(plan, { name: "", properties: {} }, customer);
    if (!inside) {
      await prisma.segmentMember.deleteMany({ where: { journeyId: v.journeyId, customerId } });
      continue;
    }
    await prisma.$executeRaw`
      INSERT INTO "SegmentMember" ("journeyId", "customerId", since) VALUES (${v.journeyId}, ${customerId}, ${new Date(ctx.now())}) ON CONFLICT DO NOTHING`;
    const member = await prisma.segmentMember.findUnique({
      where: { journeyId_customerId: { journeyId: v.journeyId, customerId } },
      select: { since: true },
    });
    if (!member) continue; // left again meanwhile
    // One entry per membership: the trigger id names when this membership began, so a retry (or a
    // later identify while still inside) finds the run it made instead of entering again.
    const since = member.since.getTime();
    const res = await enrol(ctx, {
      workspaceId: row.workspaceId,
      journeyId: v.journeyId,
      versionId: v.id,
      customer,
      trigger: {
        eventId: `segment-${since}`,
        name: "segment_entered",
        properties: {},
        timestamp: since,
      },
    });
    if (res.runId && !res.skipped) enrolled++;
    else if (res.skipped !== "already enrolled by this trigger")
      ctx.log.debug(
        { journeyId: v.journeyId, customerId, reason: res.skipped },
        "segment entry not enrolled",
      );
  }
  return { enrolled, delivered: 0 };
}
