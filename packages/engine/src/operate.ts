import type { JourneyStatus, Prisma } from "@postpath/db";
import { stepModule, type Effect, type Plan, type RunState } from "@postpath/journey";
import type { EngineContext } from "./context.ts";
import { loadPlan } from "./plans.ts";
import { addUnlessPending, sendJobOptions } from "./queues.ts";
import { renderOutbox } from "./runner.ts";
import { exitRuns } from "./exit.ts";
import { stepLinkCounts } from "./funnel.ts";
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
  /** Messages whose delivery is unknown and that wait for a person (issue 13): UNCERTAIN now. */
  uncertain: number;
  /**
   * On the trigger step only: entries the journey refused, by reason (issue 13) — `activeRun`,
   * `enteredBefore`, `maxEntries`, `coolingDown`, `filter`, `concurrentEntry`.
   */
  refused?: Record<string, number>;
  /**
   * On a PURL step only (issue 14): its links — made, opened at least once (`visited`), opened in
   * all (`visits`), with a form sent (`submitted`).
   */
  page?: { links: number; visited: number; visits: number; submitted: number };
}

/**
 * The canvas's figures in one statement (polled every 3 s while a journey is open; issue 15 item
 * 4 asks for 200 a second): the journey (in this workspace) and its versions, then one row per
 * figure — `c` summed counter shards per step, `w` runs in flight per step (an index-only scan of
 * (versionId, status, currentStepId)), `u` UNCERTAIN messages per step, `r` refused entries per
 * trigger step and reason, `p` the steps that make personal links. Five Prisma reads and two
 * parsed plans per call took ~6 ms of server CPU; this is one prepared statement with one generic
 * plan (nothing in it depends on the values). With `$3` it reads one version only.
 */
const nodeCountsSql = (oneVersion: boolean) => `
  WITH j AS (
    SELECT id FROM "Journey" WHERE id = $2 AND "workspaceId" = $1
  ), v AS MATERIALIZED (
    SELECT id, plan FROM "JourneyVersion"
    WHERE "journeyId" = (SELECT id FROM j)${oneVersion ? ` AND id = $3` : ""}
  )
  SELECT 'v' AS k, NULL AS step, NULL AS reason,
         (SELECT count(*) FROM j)::int AS a, count(*)::int AS b, 0 AS c, 0 AS d, 0 AS e
  FROM v
  UNION ALL
  SELECT 'c', "stepId", NULL, sum(entered)::int, sum(completed)::int, sum(sent)::int,
         sum(failed)::int, sum(converted)::int
  FROM "StepCounter"
  WHERE "journeyId" = (SELECT id FROM j)${oneVersion ? ` AND "versionId" = $3` : ""}
  GROUP BY "stepId"
  UNION ALL
  SELECT 'w', "currentStepId", NULL, count(*)::int, 0, 0, 0, 0
  FROM "JourneyRun"
  WHERE "versionId" IN (SELECT id FROM v) AND status IN ('ACTIVE', 'WAITING')
    AND "currentStepId" IS NOT NULL
  GROUP BY "currentStepId"
  UNION ALL
  -- Rare by design, so read live from the outbox (workspace + status index), not a counter:
  -- a resend or a dismissal takes the message off the badge.
  SELECT 'u', m."stepId", NULL, count(*)::int, 0, 0, 0, 0
  FROM "Message" m JOIN "JourneyRun" r ON r.id = m."runId"
  WHERE m."workspaceId" = $1 AND m.status = 'UNCERTAIN' AND m."dismissedAt" IS NULL
    AND r."journeyId" = $2 AND r."versionId" IN (SELECT id FROM v)
  GROUP BY m."stepId"
  UNION ALL
  -- On each version's trigger step (the (journeyId, reason) index).
  SELECT 'r', v.plan->>'triggerStepId', s.reason, count(*)::int, 0, 0, 0, 0
  FROM "EntrySkip" s JOIN v ON v.id = s."versionId"
  WHERE s."journeyId" = $2
  GROUP BY 2, 3
  UNION ALL
  SELECT DISTINCT 'p', st.key, NULL, 0, 0, 0, 0, 0
  FROM v, jsonb_each(v.plan->'steps') st
  WHERE st.value->>'type' = 'action.purl'`;
const NODE_COUNTS_SQL = nodeCountsSql(false);
const NODE_COUNTS_VERSION_SQL = nodeCountsSql(true);

type NodeCountsRow = {
  k: "v" | "c" | "w" | "u" | "r" | "p";
  step: string | null;
  reason: string | null;
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
};

/** Per-step counts for the canvas overlay: summed counter shards + runs sitting at each step now. */
export async function nodeCounts(
  ctx: EngineContext,
  workspaceId: string,
  journeyId: string,
  versionId?: string,
): Promise<Record<string, NodeCount>> {
  const rows = versionId
    ? await ctx.db.query<NodeCountsRow>(
        NODE_COUNTS_VERSION_SQL,
        [workspaceId, journeyId, versionId],
        { prepare: "operate.nodeCounts.version", genericPlan: true },
      )
    : await ctx.db.query<NodeCountsRow>(NODE_COUNTS_SQL, [workspaceId, journeyId], {
        prepare: "operate.nodeCounts",
        genericPlan: true,
      });
  const head = rows.find((r) => r.k === "v");
  if (!head?.a) throw new OperateError("NOT_FOUND", "No journey with that id in this workspace.");
  // Only versions of this journey: a version id of another journey (or workspace) is not found.
  if (versionId && head.b === 0)
    throw new OperateError("NOT_FOUND", "This journey has no version with that id.");
  const out: Record<string, NodeCount> = {};
  const get = (id: string) =>
    (out[id] ??= {
      entered: 0,
      waiting: 0,
      completed: 0,
      sent: 0,
      failed: 0,
      converted: 0,
      uncertain: 0,
    });
  const purlSteps: string[] = [];
  for (const r of rows) {
    if (r.k === "v" || r.step === null) continue;
    if (r.k === "c") {
      const c = get(r.step);
      c.entered = r.a;
      c.completed = r.b;
      c.sent = r.c;
      c.failed = r.d;
      c.converted = r.e;
    } else if (r.k === "w") get(r.step).waiting = r.a;
    else if (r.k === "u") get(r.step).uncertain = r.a;
    else if (r.k === "r" && r.reason !== null) {
      const c = get(r.step);
      c.refused = { ...c.refused, [r.reason]: (c.refused?.[r.reason] ?? 0) + r.a };
    } else if (r.k === "p") purlSteps.push(r.step);
  }
  // The page funnel of the steps that make personal links (one grouped query over their links);
  // journeys without such a step never touch the link tables.
  if (purlSteps.length > 0) {
    const links = await stepLinkCounts(ctx.db, workspaceId, journeyId, purlSteps, versionId);
    for (const { stepId, ...page } of links) get(stepId).page = page;
  }
  return out;
}

export interface CustomerRun {
  runId: string;
  status: string;
  versionId: string;
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
    versionId: r.versionId,
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
      versionId: s.versionId,
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

/** One earlier outcome of a message, kept when it was replayed or dismissed (issue 13). */
export interface MessageHistoryEntry {
  status: string;
  error: string | null;
  attempts: number;
  /** When the outcome was set aside (replay or dismissal), ISO. */
  at: string;
  action: "replay" | "dismiss";
  by: string | null;
  /** A replay's choice: the message as it was rendered, or rendered again from the current step. */
  render?: ReplayRender;
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
  status: "DEAD" | "FAILED" | "UNCERTAIN";
  error: string | null;
  attempts: number;
  createdAt: string;
  /** Earlier outcomes, oldest first: a replayed message keeps its original failure here. */
  history: MessageHistoryEntry[];
  /** Whether a rendered message is stored (a template error stores none: replay must re-render). */
  rendered: boolean;
}

/**
 * Messages that need a person: DEAD (retries exhausted), UNCERTAIN (an at-most-once send whose
 * delivery is unknown; not sent again) and, with `includeFailed`, FAILED (refused outright, e.g.
 * a 4xx or a template error). Dismissed ones are left out. Newest first, keyset by id.
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
  const statuses = args.includeFailed ? ["DEAD", "UNCERTAIN", "FAILED"] : ["DEAD", "UNCERTAIN"];
  // A journey's dead letters: "Message" has no relation to its run any more (issue 15: no foreign
  // keys), so the page's ids come from a join on the run's key, then the rows as without a filter.
  const ids = args.journeyId
    ? (
        await ctx.db.query<{ id: string }>(
          `SELECT m.id FROM "Message" m JOIN "JourneyRun" r ON r.id = m."runId"
           WHERE m."workspaceId" = $1 AND m.status::text = ANY($2::text[]) AND m."dismissedAt" IS NULL
             AND r."journeyId" = $3 AND ($4::text IS NULL OR m.id < $4)
           ORDER BY m.id DESC LIMIT $5`,
          [args.workspaceId, statuses, args.journeyId, args.cursor ?? null, limit + 1],
        )
      ).map((r) => r.id)
    : null;
  const rows = await ctx.db.prisma.message.findMany({
    where: {
      workspaceId: args.workspaceId,
      status: { in: statuses as ("DEAD" | "UNCERTAIN" | "FAILED")[] },
      dismissedAt: null,
      ...(ids ? { id: { in: ids } } : {}),
      ...(args.cursor ? { id: { lt: args.cursor, ...(ids ? { in: ids } : {}) } } : {}),
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
      history: true,
      payload: true,
    },
  });
  const page = rows.slice(0, limit);
  const runs = await ctx.db.prisma.journeyRun.findMany({
    where: { id: { in: [...new Set(page.map((m) => m.runId))] } },
    select: { id: true, journeyId: true, customerId: true },
  });
  const runOf = new Map(runs.map((r) => [r.id, r]));
  const [journeys, customers] = await Promise.all([
    ctx.db.prisma.journey.findMany({
      where: { id: { in: [...new Set(runs.map((r) => r.journeyId))] } },
      select: { id: true, name: true },
    }),
    ctx.db.prisma.customer.findMany({
      where: { id: { in: [...new Set(runs.map((r) => r.customerId))] } },
      select: { id: true, externalId: true },
    }),
  ]);
  const journeyName = new Map(journeys.map((j) => [j.id, j.name]));
  const externalId = new Map(customers.map((c) => [c.id, c.externalId]));
  return {
    items: page.map((m) => ({
      messageId: m.id,
      journeyId: runOf.get(m.runId)?.journeyId ?? "",
      journeyName: journeyName.get(runOf.get(m.runId)?.journeyId ?? "") ?? "(deleted journey)",
      runId: m.runId,
      stepId: m.stepId,
      channel: m.channel,
      recipient: m.recipient,
      customer: externalId.get(runOf.get(m.runId)?.customerId ?? "") ?? "(deleted customer)",
      status: m.status as DeadLetter["status"],
      error: m.error,
      attempts: m.attempts,
      createdAt: m.createdAt.toISOString(),
      history: Array.isArray(m.history) ? (m.history as unknown as MessageHistoryEntry[]) : [],
      rendered: isRendered(m.payload),
    })),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

function isRendered(payload: unknown): boolean {
  return payload !== null && typeof payload === "object" && Object.keys(payload).length > 0;
}

/**
 * `stored`: the message exactly as it was rendered for the failed attempt. `current`: rendered
 * again from the step as it is in the journey's live version (else its newest), with what the run
 * knows now (customer, trigger, earlier steps' outputs) — for a template fixed since.
 */
export type ReplayRender = "stored" | "current";

const REPLAYABLE = ["DEAD", "FAILED", "UNCERTAIN"] as const;

/**
 * Replays a dead, failed or uncertain message: the failed step's send runs again with the SAME
 * idempotency key, as it was rendered or rendered again (`render`; default: stored when there is
 * a rendered message, else current). The earlier outcome (status, error, attempts) is appended to
 * the message's history and traced; only then is the message PENDING again. One retry chain per
 * send: the replay uses the message's own job id (`send-<id>`), replacing its finished job, so the
 * sweeper or a stale run job can never start a second one beside it. It delivers the message only
 * — the run already took its error path (or continued) and is not rewound. A message that was
 * sent meanwhile is refused.
 */
export async function replayMessage(
  ctx: EngineContext,
  messageId: string,
  opts: { workspaceId?: string; actorId?: string | null; render?: ReplayRender } = {},
): Promise<{ status: "PENDING"; render: ReplayRender }> {
  const { prisma } = ctx.db;
  const msg = await prisma.message.findFirst({
    where: { id: messageId, ...(opts.workspaceId ? { workspaceId: opts.workspaceId } : {}) },
    select: {
      id: true,
      createdAt: true,
      status: true,
      runId: true,
      stepId: true,
      channel: true,
      payload: true,
      error: true,
      attempts: true,
    },
  });
  if (!msg) throw new OperateError("NOT_FOUND", "No message with that id in this workspace.");
  if (!(REPLAYABLE as readonly string[]).includes(msg.status))
    throw new OperateError(
      "CONFLICT",
      `Only dead, failed or uncertain messages can be replayed; this one is ${msg.status.toLowerCase()}.`,
    );
  const render = opts.render ?? (isRendered(msg.payload) ? "stored" : "current");
  if (render === "stored" && !isRendered(msg.payload))
    throw new OperateError(
      "BAD_REQUEST",
      "This message was never rendered (its template failed), so there is nothing stored to send: replay it with the current template.",
    );
  const rendered = render === "current" ? await renderAgain(ctx, msg) : null;
  const entry: MessageHistoryEntry = {
    status: msg.status,
    error: msg.error,
    attempts: msg.attempts,
    at: new Date(ctx.now()).toISOString(),
    action: "replay",
    by: opts.actorId ?? null,
    render,
  };
  // Guarded on the status it had: a concurrent replay or record wins, this one is refused.
  const updated = await ctx.db.query<{ id: string }>(
    `UPDATE "Message" SET status = 'PENDING', attempts = 0, error = NULL, "claimToken" = NULL,
       history = history || $3::jsonb, "replayedAt" = $4, "dismissedAt" = NULL,
       payload = COALESCE($5::jsonb, payload),
       recipient = CASE WHEN $6::boolean THEN $7 ELSE recipient END
     WHERE id = $1 AND status = $2::"MessageStatus"
     RETURNING id`,
    [
      msg.id,
      msg.status,
      JSON.stringify([entry]),
      new Date(ctx.now()),
      rendered ? JSON.stringify(rendered.payload) : null,
      rendered !== null,
      rendered?.recipient ?? null,
    ],
  );
  if (updated.length === 0)
    throw new OperateError("CONFLICT", "The message changed meanwhile; reload and try again.");
  await prisma.runTrace.create({
    data: {
      runId: msg.runId,
      stepId: msg.stepId,
      kind: "message.replayed",
      detail: {
        messageId: msg.id,
        previous: msg.status,
        previousError: msg.error,
        render,
        by: opts.actorId ?? null,
      },
    },
  });
  await enqueueSendChain(ctx, msg.id, msg.createdAt);
  return { status: "PENDING", render };
}

/**
 * Re-creates the message's one send job (`send-<id>`), replacing its finished job. A job still
 * live under that id (the previous chain finishing its last step) is waited for briefly; if it
 * is still there, the sweeper re-creates the job once it is gone (the message is PENDING).
 */
async function enqueueSendChain(
  ctx: EngineContext,
  messageId: string,
  createdAt: Date,
): Promise<void> {
  const opts = { jobId: `send-${messageId}`, ...sendJobOptions(ctx) };
  const job = { messageId, replay: true, createdAt: createdAt.getTime() };
  for (let i = 0; i < 20; i++) {
    if (await addUnlessPending(ctx.queues.sends, "send", job, opts)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  ctx.log.warn(
    { messageId },
    "replay: the previous send job is still running; the sweeper will pick it up",
  );
}

/** The step as the journey has it now (live version, else newest) rendered with the run's state. */
async function renderAgain(
  ctx: EngineContext,
  msg: { runId: string; stepId: string; channel: string },
): Promise<{ payload: Record<string, unknown>; recipient: string | null }> {
  // By primary key: "Message" has no relation to its run (issue 15: no foreign keys).
  const run = await ctx.db.prisma.journeyRun.findUnique({
    where: { id: msg.runId },
    select: { journeyId: true, state: true },
  });
  if (!run)
    throw new OperateError(
      "BAD_REQUEST",
      "This message's run no longer exists, so it cannot be rendered again: replay the message as it was.",
    );
  const version =
    (await ctx.db.prisma.journeyVersion.findFirst({
      where: { journeyId: run.journeyId, status: "LIVE" },
      select: { id: true },
    })) ??
    (await ctx.db.prisma.journeyVersion.findFirst({
      where: { journeyId: run.journeyId },
      orderBy: { version: "desc" },
      select: { id: true },
    }));
  const plan: Plan | null = version ? await loadPlan(ctx, version.id).catch(() => null) : null;
  const step = plan?.steps[msg.stepId];
  const state = run.state as RunState | null;
  if (!plan || !step || !state)
    throw new OperateError(
      "BAD_REQUEST",
      "This step is no longer in the journey, so it cannot be rendered again: replay the message as it was.",
    );
  // The step's own enter() builds its message from its config; quiet hours don't apply to a replay.
  const outcome = stepModule(step.type).enter({
    plan,
    step,
    config: step.config,
    state: structuredClone(state),
    now: ctx.now(),
    timeZone: "UTC",
    settings: { ...plan.settings, quietHours: null },
  });
  const effect: Effect | undefined = outcome.kind === "await" ? outcome.effect : undefined;
  const channelOf = (e: Effect) =>
    e.kind === "send"
      ? e.channel
      : e.kind === "issueCoupon"
        ? "coupon"
        : e.kind === "createPurl"
          ? "purl"
          : null;
  if (
    !effect ||
    (effect.kind !== "send" && effect.kind !== "issueCoupon" && effect.kind !== "createPurl") ||
    channelOf(effect) !== msg.channel
  )
    throw new OperateError(
      "BAD_REQUEST",
      "The step no longer sends this kind of message, so it cannot be rendered again: replay the message as it was.",
    );
  const out = await renderOutbox(effect, state);
  if (out.error)
    throw new OperateError(
      "BAD_REQUEST",
      `The current template still cannot be rendered: ${out.error}. Fix the step and publish, then replay.`,
    );
  return { payload: out.payload, recipient: out.recipient };
}

/**
 * Dismisses a dead, failed or uncertain message from the dead letters: a person looked at it and
 * nothing more will be done (an uncertain email that did arrive, a customer who left). Recorded in
 * its history and its run's trace; the message keeps its status.
 */
export async function dismissMessage(
  ctx: EngineContext,
  messageId: string,
  opts: { workspaceId?: string; actorId?: string | null } = {},
): Promise<{ dismissed: true }> {
  const msg = await ctx.db.prisma.message.findFirst({
    where: { id: messageId, ...(opts.workspaceId ? { workspaceId: opts.workspaceId } : {}) },
    select: { id: true, status: true, runId: true, stepId: true, error: true, attempts: true },
  });
  if (!msg) throw new OperateError("NOT_FOUND", "No message with that id in this workspace.");
  const entry: MessageHistoryEntry = {
    status: msg.status,
    error: msg.error,
    attempts: msg.attempts,
    at: new Date(ctx.now()).toISOString(),
    action: "dismiss",
    by: opts.actorId ?? null,
  };
  const updated = await ctx.db.query<{ id: string }>(
    `UPDATE "Message" SET "dismissedAt" = $3, history = history || $4::jsonb
     WHERE id = $1 AND status = $2::"MessageStatus" AND status IN ('DEAD', 'FAILED', 'UNCERTAIN')
       AND "dismissedAt" IS NULL
     RETURNING id`,
    [msg.id, msg.status, new Date(ctx.now()), JSON.stringify([entry])],
  );
  if (updated.length === 0)
    throw new OperateError(
      "CONFLICT",
      `Only dead, failed or uncertain messages can be dismissed, once; this one is ${msg.status.toLowerCase()}.`,
    );
  await ctx.db.prisma.runTrace.create({
    data: {
      runId: msg.runId,
      stepId: msg.stepId,
      kind: "message.dismissed",
      detail: { messageId: msg.id, status: msg.status, by: opts.actorId ?? null },
    },
  });
  return { dismissed: true };
}
