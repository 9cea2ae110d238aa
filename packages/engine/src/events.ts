import { matchesTrigger, parsePlan } from "@postpath/journey";
import { UnrecoverableError } from "bullmq";
import type { EngineContext } from "./context.ts";
import { asRecord, toSnapshot } from "./customer.ts";
import { enrol } from "./enrol.ts";
import { EventJob, runJobId, type RunJob } from "./queues.ts";

/**
 * An ingested event: enrol the customer into every live journey whose trigger matches, and hand
 * the event to the customer's active runs (goals, exit criteria, parked wait-for-event steps).
 */
export async function processEventJob(ctx: EngineContext, data: unknown): Promise<{ enrolled: number; delivered: number }> {
  const parsed = EventJob.safeParse(data);
  if (!parsed.success) {
    ctx.log.error({ issues: parsed.error.issues }, "malformed event job payload; dropping it");
    throw new UnrecoverableError("malformed event job payload");
  }
  const { prisma } = ctx.db;
  const event = await prisma.event.findUnique({ where: { id: parsed.data.eventId }, include: { customer: true } });
  if (!event) {
    ctx.log.warn({ eventId: parsed.data.eventId }, "event job for an event that no longer exists; ignoring");
    return { enrolled: 0, delivered: 0 };
  }
  const customer = toSnapshot(event.customer);
  const properties = asRecord(event.properties);

  // Runs already in flight see the event first (so a purchase that enrols does not also satisfy
  // the new run's own goal).
  const active = await prisma.journeyRun.findMany({
    where: { workspaceId: event.workspaceId, customerId: event.customerId, status: { in: ["ACTIVE", "WAITING"] } },
    select: { id: true, seq: true },
  });
  for (const run of active) {
    const job: RunJob = { runId: run.id, seq: run.seq, input: { kind: "event", eventId: event.id } };
    await ctx.queues.runs.add("event", job, { jobId: runJobId(job) });
  }

  const versions = await prisma.journeyVersion.findMany({
    where: { workspaceId: event.workspaceId, status: "LIVE", triggerType: "trigger.event", triggerEvent: event.name, journey: { status: "LIVE" } },
    select: { id: true, journeyId: true, plan: true },
  });
  let enrolled = 0;
  for (const v of versions) {
    const plan = parsePlan(v.plan);
    if (!matchesTrigger(plan, { name: event.name, properties }, customer)) continue;
    const res = await enrol(ctx, {
      workspaceId: event.workspaceId,
      journeyId: v.journeyId,
      versionId: v.id,
      plan: v.plan,
      customer,
      trigger: { eventId: event.id, name: event.name, properties, timestamp: event.timestamp.getTime() },
    });
    if (res.runId && !res.skipped) enrolled++;
    if (res.skipped) ctx.log.debug({ journeyId: v.journeyId, customerId: customer.id, reason: res.skipped }, "not enrolled");
  }
  return { enrolled, delivered: active.length };
}
