import { type RunStatus } from "@postpath/db";
import {
  createTemplateEngine,
  renderMessage,
  TemplateError,
  UNSUBSCRIBE_URL_PLACEHOLDER,
  type EmailFormat,
} from "@postpath/channels";
import {
  advance,
  createLiquid,
  initialState,
  TEMPLATE_LIMITS,
  templateContext,
  type Effect,
  type Plan,
  type RunInput,
  type RunState,
} from "@postpath/journey";
import { randomUUID } from "node:crypto";
import { queueAttributeCheck, recheckAfterCommit, segmentChecksApply } from "./attribute-checks.ts";
import type { EngineContext } from "./context.ts";
import { asRecord, toSnapshot } from "./customer.ts";
import { countersFromTransition } from "./counters.ts";
import { exitRuns } from "./exit.ts";
import { withMemberships } from "./memberships.ts"; // issue 16
import { loadPlan, VersionNotFoundError } from "./plans.ts";
import { addUnlessPending, parseJobData, RunJob, runJobId, sendJobOptions } from "./queues.ts";
import { scheduleTimer } from "./timers.ts";
import { enteredRollups } from "./rollups.ts"; // issue 17
import { cpuTurn } from "./turns.ts";
import { runStore, type MessageRow, type RunRow, type TraceRow, type Transition } from "./store.ts";

export type RunOutcome = "applied" | "unchanged" | "stale" | "missing" | "ended" | "paused";

type SendEffect = Extract<Effect, { kind: "send" }>;
type OutboxEffect = SendEffect | Extract<Effect, { kind: "issueCoupon" | "createPurl" }>;

export const ENDED: RunStatus[] = ["COMPLETED", "EXITED", "FAILED"];

function dbStatus(state: RunState): RunStatus {
  const status = state.status;
  switch (status) {
    case "active":
    case "awaiting":
      return "ACTIVE";
    case "waiting":
    case "parked":
      return "WAITING";
    case "completed":
      return "COMPLETED";
    case "exited":
      return "EXITED";
  }
}

/** Messages render with the one Liquid configuration of Postpath (journey's) and its limits. */
const messages = createTemplateEngine({ createLiquid, limits: TEMPLATE_LIMITS.message });

/** Renders a string-valued tree with Liquid (every string is a template). */
async function renderTree(
  value: unknown,
  vars: Record<string, unknown>,
  field: string,
): Promise<unknown> {
  if (typeof value === "string") return messages.render(value, vars, { field });
  if (Array.isArray(value))
    return Promise.all(value.map((v, i) => renderTree(v, vars, `${field}.${i}`)));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = await renderTree(v, vars, field ? `${field}.${k}` : k);
    return out;
  }
  return value;
}

export interface RenderedOutbox {
  recipient: string | null;
  payload: Record<string, unknown>;
  /** Set when the templates cannot render: the message is stored as FAILED with this reason. */
  error?: string;
}

/**
 * Renders an outbox effect into the concrete message stored in the outbox, with the channels
 * package's Liquid (HTML-escaped for HTML/MJML email, no file access) and MJML compiler.
 */
export async function renderOutbox(effect: OutboxEffect, state: RunState): Promise<RenderedOutbox> {
  if (effect.kind !== "send") return { recipient: null, payload: { ...effect } };
  await cpuTurn();
  const vars = templateContext(state);
  const customer = state.customer;
  const token =
    customer.attributes.push_token ??
    customer.attributes.pushToken ??
    customer.attributes.device_token;
  const recipient =
    effect.channel === "email"
      ? (customer.email ?? null)
      : effect.channel === "sms"
        ? (customer.phone ?? null)
        : effect.channel === "push"
          ? typeof token === "string" && token
            ? token
            : null
          : null;
  try {
    if (effect.channel === "email") {
      const m = effect.message as {
        subject?: string;
        body?: string;
        format?: EmailFormat;
        preheader?: string;
        fromName?: string;
      };
      const email = await renderMessage(
        {
          channel: "email",
          subject: m.subject ?? "",
          body: m.body ?? "",
          format: m.format ?? "text",
          ...(m.preheader ? { preheader: m.preheader } : {}),
        },
        // issue 16: the recipient's own link replaces the placeholder when it is sent (sends.ts).
        { ...vars, unsubscribe_url: UNSUBSCRIBE_URL_PLACEHOLDER },
        messages,
      );
      const fromName = m.fromName
        ? await messages.render(m.fromName, vars, { field: "fromName" })
        : undefined;
      return { recipient, payload: { ...email, ...(fromName ? { fromName } : {}) } };
    }
    const payload = (await renderTree(effect.message, vars, "")) as Record<string, unknown>;
    return {
      recipient: recipient ?? (typeof payload.to === "string" ? payload.to : null),
      payload,
    };
  } catch (err) {
    const reason =
      err instanceof TemplateError
        ? err.message
        : `template failed: ${err instanceof Error ? err.message : String(err)}`;
    return { recipient, payload: {}, error: reason };
  }
}

async function loadInput(ctx: EngineContext, job: RunJob): Promise<RunInput | null> {
  const { input } = job;
  switch (input.kind) {
    case "entered":
      return { kind: "entered" };
    case "timer":
      return { kind: "timer", stepId: input.stepId };
    case "event": {
      const ev = await ctx.db.prisma.event.findUnique({ where: { id: input.eventId } });
      if (!ev) return null;
      return {
        kind: "event",
        event: {
          id: ev.id,
          name: ev.name,
          properties: asRecord(ev.properties),
          timestamp: ev.timestamp.getTime(),
        },
      };
    }
    case "result": {
      const msg = await ctx.db.prisma.message.findFirst({
        where: { id: input.messageId, runId: job.runId },
      });
      if (!msg) return null;
      // UNCERTAIN (issue 13): at most once, not sent again, maybe delivered. The run continues as
      // after a send — what a marketer expects of the journey; the message waits for a person in
      // the dead letters (resend or dismiss), which does not rewind the run.
      if (msg.status === "SENT" || msg.status === "SKIPPED" || msg.status === "UNCERTAIN") {
        return {
          kind: "result",
          stepId: msg.stepId,
          ok: true,
          output: { ...asRecord(msg.output), providerMessageId: msg.providerMessageId },
        };
      }
      if (msg.status === "FAILED" || msg.status === "DEAD") {
        return { kind: "result", stepId: msg.stepId, ok: false, error: msg.error ?? "send failed" };
      }
      return null; // still pending or being sent: the send job enqueues the result when done
    }
  }
}

/**
 * Applies one input to one run: `advance()` decides, then one Postgres transaction records the
 * transition (guarded by seq), its traces, outbox rows, counters and attribute changes; then the
 * follow-up jobs are enqueued. A crash anywhere is safe: before the commit the job retries; after
 * it, the retry finds seq moved on and only re-enqueues the (idempotent) follow-ups.
 */
export async function processRunJob(
  ctx: EngineContext,
  data: unknown,
  /** The run's row when the caller has just read it (a timer bucket); else it is loaded. */
  loaded?: RunRow,
): Promise<RunOutcome> {
  const job = parseJobData(RunJob, data, "run");
  // The hot path reads through the batched run store (one query for all the jobs in flight).
  const row = loaded?.id === job.runId ? loaded : await runStore(ctx).load(job.runId);
  const run = row ? { ...row, journey: { status: row.journeyStatus } } : null;
  if (!run) {
    ctx.log.warn(
      { runId: job.runId, input: job.input.kind },
      "run job for a run that no longer exists (deleted version or journey); ignoring",
    );
    return "missing";
  }
  if (run.seq !== job.seq) {
    await ensureFollowUps(ctx, run.id);
    // This seq committed, maybe by this job before its segment check reached Redis.
    if (run.seq === job.seq + 1) {
      const plan = await loadPlan(ctx, run.versionId).catch(() => null);
      if (plan)
        await recheckAfterCommit(
          ctx,
          { workspaceId: run.workspaceId, customerId: run.customerId, runId: run.id, seq: job.seq },
          plan,
        );
    }
    return "stale";
  }
  if (ENDED.includes(run.status)) return "ended";
  if (run.journey.status === "STOPPED" || run.journey.status === "ARCHIVED") {
    await exitRuns(ctx, { runIds: [run.id] }, `journey ${run.journey.status.toLowerCase()}`);
    return "ended";
  }
  // Paused: hold the run where it is; the worker re-delays this job until the journey resumes.
  if (run.journey.status === "PAUSED") return "paused";

  let plan: Plan;
  try {
    plan = await loadPlan(ctx, run.versionId);
  } catch (err) {
    // A deleted version (runs have no foreign key to it) or a plan this code cannot read.
    await failRun(
      ctx,
      run.id,
      run.seq,
      err instanceof VersionNotFoundError
        ? err.message
        : `stored plan unreadable: ${err instanceof Error ? err.message : String(err)}`,
    );
    return "applied";
  }
  const stored = runState(run, plan);
  if (!stored) {
    await failRun(ctx, run.id, run.seq, "the run has no state and its customer is gone");
    return "applied";
  }
  // issue 16: splits by segment or lifecycle stage read the customer's memberships as they are now.
  const state = await withMemberships(ctx, plan, stored, run.customerId);
  const input = await loadInput(ctx, job);
  if (!input) {
    if (job.input.kind === "event")
      ctx.log.warn(
        { runId: run.id, eventId: job.input.eventId },
        "event for a run no longer exists; ignoring",
      );
    return "stale";
  }

  // advance() renders step templates synchronously: take a turn, so HTTP is served in between.
  await cpuTurn();
  const now = ctx.now();
  let result: ReturnType<typeof advance>;
  try {
    result = advance(plan, state, input, now);
  } catch (err) {
    await failRun(
      ctx,
      run.id,
      run.seq,
      `the journey could not advance: ${err instanceof Error ? err.message : String(err)}`,
    );
    return "applied";
  }
  if (result.effects.length === 0) return "unchanged"; // nothing applies (e.g. an event this run ignores)
  const committed = await commitTransition(
    ctx,
    {
      id: run.id,
      seq: run.seq,
      workspaceId: run.workspaceId,
      journeyId: run.journeyId,
      versionId: run.versionId,
      customerId: run.customerId,
    },
    plan,
    state,
    input,
    result.effects,
    result.nextState,
  );
  // What to do next is known from the transition itself; a lost race re-derives it from Postgres.
  if (committed) {
    await enqueueFollowUps(ctx, committed);
    if (result.nextState.status === "parked")
      await lookBackForEvent(ctx, run, committed.seq, plan, result.nextState);
    return "applied";
  }
  await ensureFollowUps(ctx, run.id);
  return "stale";
}

export interface RunRef {
  id: string;
  seq: number;
  workspaceId: string;
  journeyId: string;
  versionId: string;
  customerId: string;
}

function foldAttributes(
  ops: { set: Record<string, unknown>; unset: string[] }[],
): Transition["attributes"] {
  if (ops.length === 0) return null;
  const set: Record<string, unknown> = {};
  const unset = new Set<string>();
  for (const op of ops) {
    for (const [k, v] of Object.entries(op.set)) {
      set[k] = v;
      unset.delete(k);
    }
    for (const k of op.unset) {
      delete set[k];
      unset.add(k);
    }
  }
  return { set, unset: [...unset] };
}

function foldTags(ops: { add: string[]; remove: string[] }[]): Transition["tags"] {
  if (ops.length === 0) return null;
  const add = new Set<string>();
  const remove = new Set<string>();
  for (const op of ops) {
    for (const t of op.add) {
      add.add(t);
      remove.delete(t);
    }
    for (const t of op.remove) {
      remove.add(t);
      add.delete(t);
    }
  }
  return { add: [...add], remove: [...remove] };
}

async function commitTransition(
  ctx: EngineContext,
  run: RunRef,
  plan: Plan,
  prev: RunState,
  input: RunInput,
  effects: Effect[],
  next: RunState,
): Promise<FollowUps | null> {
  const status = dbStatus(next);
  let waitingUntil: number | null = null;
  let parkedEvent: string | null = null;
  let parkedKey: string | null = null;
  const traces: TraceRow[] = [];
  const messages: MessageRow[] = [];
  const attributeOps: { set: Record<string, unknown>; unset: string[] }[] = [];
  const tagOps: { add: string[]; remove: string[] }[] = [];
  let ended = false;
  const now = ctx.now();

  for (const effect of effects) {
    switch (effect.kind) {
      case "trace":
        traces.push({
          stepId: effect.stepId ?? null,
          kind: effect.decision,
          detail: effect.detail,
        });
        break;
      case "schedule":
        waitingUntil = effect.at;
        break;
      case "park":
        parkedEvent = effect.event;
        parkedKey = effect.correlation ? JSON.stringify(effect.correlation.value ?? null) : null;
        waitingUntil = effect.until;
        break;
      case "send":
      case "issueCoupon":
      case "createPurl": {
        // Frequency caps, quiet hours and rate limits apply when the message is sent (sends.ts).
        const { recipient, payload, error } = await renderOutbox(effect, next);
        messages.push({
          id: `m${randomUUID().replace(/-/g, "").slice(0, 24)}`,
          stepId: effect.stepId,
          channel:
            effect.kind === "send"
              ? effect.channel
              : effect.kind === "issueCoupon"
                ? "coupon"
                : "purl",
          idempotencyKey: `${run.id}:${run.seq}:${effect.stepId}`,
          recipient,
          payload,
          status: error ? "FAILED" : null,
          error: error ?? null,
          output: null,
        });
        break;
      }
      case "updateAttributes":
        attributeOps.push({ set: effect.set, unset: effect.unset });
        break;
      case "updateTags":
        tagOps.push({ add: effect.add, remove: effect.remove });
        break;
      case "convert":
        // Conversions are recorded as trace rows (kind "converted") for counts and "why" answers.
        traces.push({
          stepId: effect.stepId ?? prev.stepId,
          kind: "converted",
          detail: { goal: effect.goal },
        });
        break;
      case "exit":
      case "complete":
        ended = true;
        break;
    }
  }
  const waiting = status === "WAITING" ? waitingUntil : null;
  const counters = countersFromTransition(plan, prev, input, effects);
  const changed = attributeOps.length > 0 || tagOps.length > 0;
  const pendingCheck = changed && (await segmentChecksApply(ctx, run.workspaceId));
  const committed = await runStore(ctx).commit({
    runId: run.id,
    seq: run.seq,
    workspaceId: run.workspaceId,
    journeyId: run.journeyId,
    versionId: run.versionId,
    customerId: run.customerId,
    status,
    state: next,
    stepId: next.stepId,
    waitingUntil: waiting,
    parkedEvent: next.status === "parked" ? parkedEvent : null,
    parkedKey: next.status === "parked" ? parkedKey : null,
    endedAt: ended || status === "COMPLETED" || status === "EXITED" ? now : null,
    now,
    traces,
    messages,
    counters,
    rollups: enteredRollups(plan, run.id, counters, now), // issue 17: analytics rollups
    attributes: foldAttributes(attributeOps),
    tags: foldTags(tagOps),
    pendingCheck,
  });
  if (!committed) return null; // another job for this seq committed first
  if (pendingCheck)
    // The customer changed: segment-triggered journeys may now match (checked in batches; kept
    // in "PendingCheck" with the transition until a check has read the customer).
    await queueAttributeCheck(ctx, {
      workspaceId: run.workspaceId,
      customerId: run.customerId,
      runId: run.id,
      seq: run.seq,
    });
  return {
    runId: run.id,
    seq: run.seq + 1,
    status,
    stepId: next.stepId,
    waitingUntil: waiting === null ? null : new Date(waiting),
    // Stored with the transition's `now` as createdAt (store.ts): the send job names its month.
    messages: messages.map((m) => ({ id: m.id, pending: m.status === null, createdAt: now })),
  };
}

interface FollowUps {
  runId: string;
  seq: number;
  status: RunStatus;
  stepId: string;
  waitingUntil: Date | null;
  messages: { id: string; pending: boolean; createdAt: number }[];
}

async function enqueueFollowUps(ctx: EngineContext, f: FollowUps): Promise<void> {
  if (f.status === "WAITING" && f.waitingUntil) {
    await scheduleTimer(
      ctx,
      { runId: f.runId, seq: f.seq, stepId: f.stepId },
      f.waitingUntil.getTime(),
    );
    return;
  }
  if (f.status !== "ACTIVE") return;
  for (const m of f.messages) {
    if (m.pending)
      await runStore(ctx).enqueue(
        "sends",
        "send",
        { messageId: m.id, createdAt: m.createdAt },
        { jobId: `send-${m.id}`, ...sendJobOptions(ctx) },
      );
    else {
      const job: RunJob = {
        runId: f.runId,
        seq: f.seq,
        input: { kind: "result", messageId: m.id },
      };
      await runStore(ctx).enqueue("runs", "result", job, { jobId: runJobId(job) });
    }
  }
}

/**
 * The run's state; before its first job, the initial state, built from the trigger the run was
 * enrolled with and the customer's profile as it is now (enrolment writes no copy of it).
 */
function runState(run: RunRow, plan: Plan): RunState | null {
  if (run.state) return run.state as RunState;
  if (!run.customer) return null;
  const trigger = run.trigger as RunState["trigger"];
  return initialState(plan, { runId: run.id, customer: toSnapshot(run.customer), trigger });
}

async function failRun(
  ctx: EngineContext,
  runId: string,
  seq: number,
  reason: string,
): Promise<void> {
  ctx.log.error({ runId, reason }, "run failed");
  await ctx.db.prisma.$transaction(async (tx) => {
    const updated = await tx.journeyRun.updateMany({
      where: { id: runId, seq },
      data: { seq: seq + 1, status: "FAILED", endedAt: new Date(ctx.now()), waitingUntil: null },
    });
    if (updated.count > 0)
      await tx.runTrace.create({ data: { runId, kind: "error", detail: { reason } } });
  });
}

/**
 * Makes sure the jobs that carry a run forward exist, derived from what Postgres says (the
 * source of truth). Safe to call any number of times: job ids are derived from (run, seq).
 * `recover` (the sweeper, resume) also replaces a finished or failed job under the same id.
 */
export async function ensureFollowUps(
  ctx: EngineContext,
  runId: string,
  opts: { recover?: boolean } = {},
): Promise<void> {
  const run = await ctx.db.prisma.journeyRun.findUnique({
    where: { id: runId },
    select: {
      id: true,
      seq: true,
      status: true,
      currentStepId: true,
      waitingUntil: true,
      parkedEvent: true,
      state: true,
      versionId: true,
      workspaceId: true,
      customerId: true,
    },
  });
  if (!run || ENDED.includes(run.status)) return;
  const addRun = async (name: string, job: RunJob, delay?: number) => {
    const o = { jobId: runJobId(job), ...(delay !== undefined ? { delay } : {}) };
    if (opts.recover) await addUnlessPending(ctx.queues.runs, name, job, o);
    else await ctx.queues.runs.add(name, job, o);
  };
  if (run.status === "WAITING" && run.waitingUntil && run.currentStepId) {
    await addRun(
      "timer",
      { runId, seq: run.seq, input: { kind: "timer", stepId: run.currentStepId } },
      Math.max(0, run.waitingUntil.getTime() - ctx.now()),
    );
    // A park whose look-back never ran (the worker died right after the commit) runs it now.
    if (run.parkedEvent && run.state) {
      // An unreadable plan: the run job reports it.
      const plan = await loadPlan(ctx, run.versionId).catch(() => null);
      const state = run.state as RunState;
      if (plan && state.status === "parked")
        await lookBackForEvent(ctx, run, run.seq, plan, state, opts);
    }
    return;
  }
  if (run.status === "ACTIVE") {
    if (run.seq === 0) {
      await addRun("entered", { runId, seq: 0, input: { kind: "entered" } });
      return;
    }
    const messages = await ctx.db.prisma.message.findMany({
      where: { runId, runSeq: run.seq },
      select: { id: true, status: true, createdAt: true },
    });
    for (const m of messages) {
      if (m.status === "PENDING" || m.status === "SENDING") {
        if (opts.recover)
          await addUnlessPending(
            ctx.queues.sends,
            "send",
            { messageId: m.id, createdAt: m.createdAt.getTime() },
            { jobId: `send-${m.id}`, ...sendJobOptions(ctx) },
          );
        else
          await ctx.queues.sends.add(
            "send",
            { messageId: m.id, createdAt: m.createdAt.getTime() },
            { jobId: `send-${m.id}`, ...sendJobOptions(ctx) },
          );
      } else {
        await addRun("result", { runId, seq: run.seq, input: { kind: "result", messageId: m.id } });
      }
    }
  }
}

/** Events a parked run looks back over, oldest first (more than this many candidates: the rest are ignored). */
export const LOOK_BACK_LIMIT = 200;

/**
 * A run that has just parked on a wait-for-event looks back for a matching event that arrived
 * before the park — since its trigger (by timestamp, as `advance` counts "after the run began"),
 * not one it has acted on before (`consumed`) — and if one would move it, queues that event for
 * the parked seq. This closes the race between the two jobs (issue 13): a `registered` event
 * processed before the run existed, or while it was still on an earlier step, was offered to the
 * run at a seq where it meant nothing.
 *
 * Why AFTER the park commit, and not inside the park statement: an event's row is committed
 * before its job is queued, and that job reads the customer's runs only when it runs. If the
 * event's row committed before this query's snapshot, this query sees it. If it committed after,
 * the park (committed before this query started) is visible to the event job's read of the runs,
 * so that job offers the event at the parked seq itself. Either way one of them delivers it. A
 * look-back inside the park statement would read its snapshot before the park is committed, and
 * an event committed in between would be seen by neither. Both deliveries of one event use the
 * same job id (run, seq, event), and the seq guard and `consumed` make any second one a no-op.
 */
async function lookBackForEvent(
  ctx: EngineContext,
  run: { id: string; workspaceId: string; customerId: string },
  seq: number,
  plan: Plan,
  state: RunState,
  opts: { recover?: boolean } = {},
): Promise<void> {
  const event = state.parkedFor?.event;
  if (!event) return;
  const since = state.trigger?.timestamp ?? state.enteredAt ?? 0;
  const rows = await ctx.db.query<{
    id: string;
    name: string;
    properties: unknown;
    ts: number;
  }>(
    `SELECT id, name, properties, (extract(epoch FROM timestamp) * 1000)::float8 AS ts
     FROM "Event"
     WHERE "workspaceId" = $1 AND "customerId" = $2 AND name = $3 AND timestamp >= to_timestamp($4) AT TIME ZONE 'UTC'
     ORDER BY timestamp, id
     LIMIT $5`,
    [run.workspaceId, run.customerId, event, since / 1000, LOOK_BACK_LIMIT],
    { prepare: "engine.lookBack" },
  );
  const now = ctx.now();
  for (const ev of rows) {
    // `advance` decides (filters, correlation, consumed, the trigger itself), as it will in the job.
    const input: RunInput = {
      kind: "event",
      event: { id: ev.id, name: ev.name, properties: asRecord(ev.properties), timestamp: ev.ts },
    };
    if (advance(plan, state, input, now).effects.length === 0) continue;
    const job: RunJob = { runId: run.id, seq, input: { kind: "event", eventId: ev.id } };
    if (opts.recover)
      await addUnlessPending(ctx.queues.runs, "event", job, { jobId: runJobId(job) });
    else await runStore(ctx).enqueue("runs", "event", job, { jobId: runJobId(job) });
    ctx.log.debug({ runId: run.id, eventId: ev.id }, "parked run found its event already here");
    return;
  }
}
