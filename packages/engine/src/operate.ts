import type { JourneyStatus, Prisma } from "@postpath/db";
import type { EngineContext } from "./context.ts";
import { sendJobOptions } from "./queues.ts";
import { exitRuns } from "./exit.ts";
import { EnrolCriteria } from "./maintenance.ts";

/** A refusal the API turns into a TRPCError with the same code. */
export class OperateError extends Error {
  constructor(
    readonly code: "NOT_FOUND" | "CONFLICT" | "BAD_REQUEST",
    message: string,
  ) {
    super(message);
    this.name = "OperateError";
  }
}

async function journeyOf(ctx: EngineContext, workspaceId: string, journeyId: string) {
  const j = await ctx.db.prisma.journey.findFirst({
    where: { id: journeyId, workspaceId },
    select: { id: true, status: true, name: true },
  });
  if (!j) throw new OperateError("NOT_FOUND", "No journey with that id in this workspace.");
  return j;
}

async function setStatus(
  ctx: EngineContext,
  journeyId: string,
  from: JourneyStatus[],
  to: JourneyStatus,
): Promise<boolean> {
  const r = await ctx.db.prisma.journey.updateMany({
    where: { id: journeyId, status: { in: from } },
    data: { status: to },
  });
  return r.count > 0;
}

/** Pause: no new entries; runs hold at their next step (their jobs re-check until resumed). */
export async function pauseJourney(
  ctx: EngineContext,
  workspaceId: string,
  journeyId: string,
): Promise<{ status: JourneyStatus }> {
  const j = await journeyOf(ctx, workspaceId, journeyId);
  if (j.status === "PAUSED") return { status: j.status };
  if (!(await setStatus(ctx, j.id, ["LIVE"], "PAUSED")))
    throw new OperateError(
      "CONFLICT",
      `Only a live journey can be paused; this one is ${j.status.toLowerCase()}.`,
    );
  ctx.log.info({ journeyId }, "journey paused");
  return { status: "PAUSED" };
}

/** Resume: entries open again and held runs continue with their next step. */
export async function resumeJourney(
  ctx: EngineContext,
  workspaceId: string,
  journeyId: string,
): Promise<{ status: JourneyStatus }> {
  const j = await journeyOf(ctx, workspaceId, journeyId);
  if (j.status === "LIVE") return { status: j.status };
  if (!(await setStatus(ctx, j.id, ["PAUSED"], "LIVE")))
    throw new OperateError(
      "CONFLICT",
      `Only a paused journey can be resumed; this one is ${j.status.toLowerCase()}.`,
    );
  ctx.log.info({ journeyId }, "journey resumed");
  return { status: "LIVE" };
}

/** Stop: no new entries, and every run in flight exits with a trace saying why. */
export async function stopJourney(
  ctx: EngineContext,
  workspaceId: string,
  journeyId: string,
): Promise<{ status: JourneyStatus; exited: number }> {
  const j = await journeyOf(ctx, workspaceId, journeyId);
  if (j.status !== "STOPPED" && !(await setStatus(ctx, j.id, ["LIVE", "PAUSED"], "STOPPED"))) {
    throw new OperateError(
      "CONFLICT",
      `Only a live or paused journey can be stopped; this one is ${j.status.toLowerCase()}.`,
    );
  }
  const exited = await exitRuns(ctx, { journeyId: j.id }, "journey stopped");
  ctx.log.info({ journeyId, exited }, "journey stopped");
  return { status: "STOPPED", exited };
}

export interface NodeCount {
  entered: number;
  waiting: number;
  completed: number;
  sent: number;
  failed: number;
  converted: number;
  /**
   * On the trigger step only: entries the journey refused, by reason (issue 13) — `activeRun`,
   * `enteredBefore`, `maxEntries`, `coolingDown`, `filter`, `concurrentEntry`.
   */
  refused?: Record<string, number>;
}

/** Per-step counts for the canvas overlay: summed counter shards + runs sitting at each step now. */
export async function nodeCounts(
  ctx: EngineContext,
  workspaceId: string,
  journeyId: string,
  versionId?: string,
): Promise<Record<string, NodeCount>> {
  await journeyOf(ctx, workspaceId, journeyId);
  const { prisma } = ctx.db;
  const scope = versionId ? { journeyId, versionId } : { journeyId };
  // Runs in flight are counted per version (an index-only scan of (versionId, status, step)).
  // Only versions of this journey: a version id of another journey (or workspace) is not found.
  const versionIds = (
    await prisma.journeyVersion.findMany({
      where: versionId ? { journeyId, id: versionId } : { journeyId },
      select: { id: true },
    })
  ).map((v) => v.id);
  if (versionId && versionIds.length === 0)
    throw new OperateError("NOT_FOUND", "This journey has no version with that id.");
  const [sums, waiting] = await Promise.all([
    prisma.stepCounter.groupBy({
      by: ["stepId"],
      where: scope,
      _sum: { entered: true, completed: true, sent: true, failed: true, converted: true },
    }),
    prisma.journeyRun.groupBy({
      by: ["currentStepId"],
      where: { versionId: { in: versionIds }, status: { in: ["ACTIVE", "WAITING"] } },
      _count: { _all: true },
    }),
  ]);
  const out: Record<string, NodeCount> = {};
  const get = (id: string) =>
    (out[id] ??= { entered: 0, waiting: 0, completed: 0, sent: 0, failed: 0, converted: 0 });
  for (const s of sums) {
    const c = get(s.stepId);
    c.entered = s._sum.entered ?? 0;
    c.completed = s._sum.completed ?? 0;
    c.sent = s._sum.sent ?? 0;
    c.failed = s._sum.failed ?? 0;
    c.converted = s._sum.converted ?? 0;
  }
  for (const w of waiting) if (w.currentStepId) get(w.currentStepId).waiting = w._count._all;
  // Refused entries, on each version's trigger step (the (journeyId, reason) index).
  const refused = await ctx.db.query<{ step: string | null; reason: string; n: number }>(
    `SELECT v.plan->>'triggerStepId' AS step, s.reason, count(*)::int AS n
     FROM "EntrySkip" s JOIN "JourneyVersion" v ON v.id = s."versionId"
     WHERE s."journeyId" = $1 AND s."versionId" = ANY($2::text[])
     GROUP BY 1, 2`,
    [journeyId, versionIds],
  );
  for (const r of refused) {
    if (!r.step) continue;
    const c = get(r.step);
    c.refused = { ...c.refused, [r.reason]: (c.refused?.[r.reason] ?? 0) + r.n };
  }
  return out;
}

export interface CustomerRun {
  runId: string;
  status: string;
  versionNumber: number;
  startedAt: string;
  endedAt: string | null;
  currentStepId: string | null;
  traces: { at: string; stepId: string | null; kind: string; detail: unknown }[];
}

const TRACES_PER_RUN = 500;

/** How a refused entry shows among a customer's runs (status; its one trace's kind). */
export const REFUSED_ENTRY = { status: "NOT_ENTERED", kind: "entry.refused" } as const;

/**
 * "Why did (not) customer U get message M": the customer's runs of a journey with their traces,
 * and the entries the journey refused them (status NOT_ENTERED, one `entry.refused` trace whose
 * detail says why and which trigger asked), newest first.
 */
export async function customerRuns(
  ctx: EngineContext,
  workspaceId: string,
  journeyId: string,
  customer: string,
): Promise<CustomerRun[]> {
  await journeyOf(ctx, workspaceId, journeyId);
  const { prisma } = ctx.db;
  const customers = await prisma.customer.findMany({
    where: { workspaceId, OR: [{ externalId: customer }, { email: customer }] },
    select: { id: true },
  });
  if (customers.length === 0) return [];
  const runs = await prisma.journeyRun.findMany({
    where: { journeyId, customerId: { in: customers.map((c) => c.id) } },
    orderBy: { startedAt: "desc" },
    take: 50,
    select: {
      id: true,
      status: true,
      startedAt: true,
      endedAt: true,
      currentStepId: true,
      versionId: true,
    },
  });
  const refused = await prisma.entrySkip.findMany({
    where: { journeyId, customerId: { in: customers.map((c) => c.id) } },
    orderBy: { at: "desc" },
    take: 50,
    select: { id: true, versionId: true, triggerId: true, reason: true, detail: true, at: true },
  });
  const [versions, traces] = await Promise.all([
    prisma.journeyVersion.findMany({
      where: {
        id: { in: [...new Set([...runs, ...refused].map((r) => r.versionId))] },
      },
      select: { id: true, version: true },
    }),
    // The first TRACES_PER_RUN traces of each run, in order (one index range per run).
    ctx.db.query<CustomerRun["traces"][number] & { runId: string }>(
      `SELECT t."runId", to_char(t.at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, t."stepId", t.kind, t.detail
       FROM unnest($1::text[]) AS r(id)
       CROSS JOIN LATERAL (SELECT * FROM "RunTrace" WHERE "runId" = r.id ORDER BY id LIMIT $2) t
       ORDER BY t."runId", t.id`,
      [runs.map((r) => r.id), TRACES_PER_RUN],
    ),
  ]);
  const numberOf = new Map(versions.map((v) => [v.id, v.version]));
  const tracesOf = new Map<string, CustomerRun["traces"]>();
  for (const { runId, ...t } of traces) {
    const list = tracesOf.get(runId) ?? [];
    list.push(t);
    tracesOf.set(runId, list);
  }
  const out: CustomerRun[] = runs.map((r) => ({
    runId: r.id,
    status: r.status,
    versionNumber: numberOf.get(r.versionId) ?? 0,
    startedAt: r.startedAt.toISOString(),
    endedAt: r.endedAt?.toISOString() ?? null,
    currentStepId: r.currentStepId,
    traces: tracesOf.get(r.id) ?? [],
  }));
  for (const s of refused)
    out.push({
      runId: s.id,
      status: REFUSED_ENTRY.status,
      versionNumber: numberOf.get(s.versionId) ?? 0,
      startedAt: s.at.toISOString(),
      endedAt: s.at.toISOString(),
      currentStepId: null,
      traces: [
        {
          at: s.at.toISOString(),
          stepId: null,
          kind: REFUSED_ENTRY.kind,
          detail: { reason: s.reason, why: s.detail, trigger: s.triggerId },
        },
      ],
    });
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** Starts a bulk (or single-customer) enrolment; the `jobs` worker runs it in batches. */
export async function startEnrolment(
  ctx: EngineContext,
  args: { workspaceId: string; journeyId: string; criteria: unknown; createdById?: string | null },
): Promise<{ enrolmentId: string; total: number }> {
  const j = await journeyOf(ctx, args.workspaceId, args.journeyId);
  if (j.status !== "LIVE")
    throw new OperateError(
      "CONFLICT",
      `Customers can only be enrolled into a live journey; this one is ${j.status.toLowerCase()}.`,
    );
  const parsed = EnrolCriteria.safeParse(args.criteria);
  if (!parsed.success)
    throw new OperateError("BAD_REQUEST", parsed.error.issues.map((i) => i.message).join("; "));
  const c = parsed.data;
  const { prisma } = ctx.db;
  const total = c.externalIds
    ? await prisma.customer.count({
        where: {
          workspaceId: args.workspaceId,
          OR: [{ externalId: { in: c.externalIds } }, { email: { in: c.externalIds } }],
        },
      })
    : await prisma.customer.count({ where: { workspaceId: args.workspaceId } });
  const e = await prisma.enrolment.create({
    data: {
      workspaceId: args.workspaceId,
      journeyId: j.id,
      criteria: c as unknown as Prisma.InputJsonValue,
      total,
      createdById: args.createdById ?? null,
    },
    select: { id: true },
  });
  await ctx.queues.jobs.add(
    "enrolment",
    { kind: "enrolment", enrolmentId: e.id },
    { jobId: `enrolment-${e.id}` },
  );
  return { enrolmentId: e.id, total };
}

export async function enrolmentProgress(
  ctx: EngineContext,
  workspaceId: string,
  enrolmentId: string,
): Promise<{
  done: number;
  total: number;
  status: "RUNNING" | "DONE" | "FAILED";
  enrolled: number;
  skipped: number;
  error: string | null;
}> {
  const e = await ctx.db.prisma.enrolment.findFirst({
    where: { id: enrolmentId, workspaceId },
    select: { done: true, total: true, status: true, enrolled: true, skipped: true, error: true },
  });
  if (!e) throw new OperateError("NOT_FOUND", "No enrolment with that id in this workspace.");
  return e;
}

export interface DeadLetter {
  messageId: string;
  journeyId: string;
  journeyName: string;
  runId: string;
  stepId: string;
  channel: string;
  recipient: string | null;
  customer: string | null;
  status: "DEAD" | "FAILED";
  error: string | null;
  attempts: number;
  createdAt: string;
}

/**
 * Messages that could not be delivered: DEAD (retries exhausted) and, with `includeFailed`,
 * FAILED (refused outright, e.g. a 4xx or a template error). Newest first, keyset by id.
 */
export async function listDeadLetters(
  ctx: EngineContext,
  args: {
    workspaceId: string;
    limit?: number;
    cursor?: string | null;
    includeFailed?: boolean;
    journeyId?: string;
  },
): Promise<{ items: DeadLetter[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(args.limit ?? 50, 1), 200);
  const rows = await ctx.db.prisma.message.findMany({
    where: {
      workspaceId: args.workspaceId,
      status: { in: args.includeFailed ? ["DEAD", "FAILED"] : ["DEAD"] },
      ...(args.journeyId ? { run: { journeyId: args.journeyId } } : {}),
      ...(args.cursor ? { id: { lt: args.cursor } } : {}),
    },
    orderBy: { id: "desc" },
    take: limit + 1,
    select: {
      id: true,
      runId: true,
      stepId: true,
      channel: true,
      recipient: true,
      status: true,
      error: true,
      attempts: true,
      createdAt: true,
      run: { select: { journeyId: true, customerId: true } },
    },
  });
  const page = rows.slice(0, limit);
  const [journeys, customers] = await Promise.all([
    ctx.db.prisma.journey.findMany({
      where: { id: { in: [...new Set(page.map((m) => m.run.journeyId))] } },
      select: { id: true, name: true },
    }),
    ctx.db.prisma.customer.findMany({
      where: { id: { in: [...new Set(page.map((m) => m.run.customerId))] } },
      select: { id: true, externalId: true },
    }),
  ]);
  const journeyName = new Map(journeys.map((j) => [j.id, j.name]));
  const externalId = new Map(customers.map((c) => [c.id, c.externalId]));
  return {
    items: page.map((m) => ({
      messageId: m.id,
      journeyId: m.run.journeyId,
      journeyName: journeyName.get(m.run.journeyId) ?? "(deleted journey)",
      runId: m.runId,
      stepId: m.stepId,
      channel: m.channel,
      recipient: m.recipient,
      customer: externalId.get(m.run.customerId) ?? "(deleted customer)",
      status: m.status as "DEAD" | "FAILED",
      error: m.error,
      attempts: m.attempts,
      createdAt: m.createdAt.toISOString(),
    })),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/**
 * Replays a dead (or failed) message: back to PENDING with the SAME idempotency key, and a new
 * send job. It delivers the message only — the run already took its error path or exited and is
 * not rewound. A message that was sent meanwhile is refused.
 */
export async function replayMessage(
  ctx: EngineContext,
  messageId: string,
  opts: { workspaceId?: string; actorId?: string | null } = {},
): Promise<{ status: "PENDING" }> {
  const { prisma } = ctx.db;
  const msg = await prisma.message.findFirst({
    where: { id: messageId, ...(opts.workspaceId ? { workspaceId: opts.workspaceId } : {}) },
    select: { id: true, status: true, runId: true, stepId: true },
  });
  if (!msg) throw new OperateError("NOT_FOUND", "No message with that id in this workspace.");
  const updated = await prisma.message.updateMany({
    where: { id: msg.id, status: { in: ["DEAD", "FAILED"] } },
    data: { status: "PENDING", attempts: 0, error: null },
  });
  if (updated.count === 0)
    throw new OperateError(
      "CONFLICT",
      `Only dead or failed messages can be replayed; this one is ${msg.status.toLowerCase()}.`,
    );
  await prisma.runTrace.create({
    data: {
      runId: msg.runId,
      stepId: msg.stepId,
      kind: "message.replayed",
      detail: { messageId: msg.id, previous: msg.status, by: opts.actorId ?? null },
    },
  });
  await ctx.queues.sends.add(
    "send",
    { messageId: msg.id, replay: true },
    { jobId: `send-${msg.id}-replay-${ctx.now()}`, ...sendJobOptions(ctx) },
  );
  return { status: "PENDING" };
}
