import type { Prisma} from "@postpath/db";
import { type RunStatus } from "@postpath/db";
import { renderMessage, renderTemplate, TemplateError, type EmailFormat } from "@postpath/channels";
import {
  advance,
  parsePlan,
  templateContext,
  type Effect,
  type Plan,
  type RunInput,
  type RunState,
} from "@postpath/journey";
import { UnrecoverableError } from "bullmq";
import type { EngineContext } from "./context.ts";
import { asRecord } from "./customer.ts";
import { RunJob, runJobId } from "./queues.ts";

export type RunOutcome = "applied" | "stale" | "missing" | "ended";

type SendEffect = Extract<Effect, { kind: "send" }>;
type OutboxEffect = SendEffect | Extract<Effect, { kind: "issueCoupon" | "createPurl" }>;

const ENDED: RunStatus[] = ["COMPLETED", "EXITED", "FAILED"];

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

/** Renders a string-valued tree with Liquid (every string is a template). */
async function renderTree(value: unknown, vars: Record<string, unknown>, field: string): Promise<unknown> {
  if (typeof value === "string") return renderTemplate(value, vars, { field });
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => renderTree(v, vars, `${field}.${i}`)));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await renderTree(v, vars, field ? `${field}.${k}` : k);
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
  const vars = templateContext(state);
  const customer = state.customer;
  const recipient =
    effect.channel === "email" ? (customer.email ?? null) : effect.channel === "sms" ? (customer.phone ?? null) : null;
  try {
    if (effect.channel === "email") {
      const m = effect.message as { subject?: string; body?: string; format?: EmailFormat; preheader?: string; fromName?: string };
      const email = await renderMessage(
        { channel: "email", subject: m.subject ?? "", body: m.body ?? "", format: m.format ?? "text", ...(m.preheader ? { preheader: m.preheader } : {}) },
        vars,
      );
      const fromName = m.fromName ? await renderTemplate(m.fromName, vars, { field: "fromName" }) : undefined;
      return { recipient, payload: { ...email, ...(fromName ? { fromName } : {}) } };
    }
    const payload = (await renderTree(effect.message, vars, "")) as Record<string, unknown>;
    return { recipient: recipient ?? (typeof payload.to === "string" ? payload.to : null), payload };
  } catch (err) {
    const reason = err instanceof TemplateError ? err.message : `template failed: ${err instanceof Error ? err.message : String(err)}`;
    return { recipient, payload: {}, error: reason };
  }
}

async function loadInput(ctx: EngineContext, job: RunJob, state: RunState): Promise<RunInput | null> {
  const { input } = job;
  switch (input.kind) {
    case "entered":
      return { kind: "entered" };
    case "timer":
      return { kind: "timer", stepId: input.stepId };
    case "event": {
      const ev = await ctx.db.prisma.event.findUnique({ where: { id: input.eventId } });
      if (!ev) return null;
      return { kind: "event", event: { name: ev.name, properties: asRecord(ev.properties), timestamp: ev.timestamp.getTime() } };
    }
    case "result": {
      const msg = await ctx.db.prisma.message.findUnique({ where: { id: input.messageId } });
      if (!msg || msg.runId !== job.runId) return null;
      if (msg.status === "SENT" || msg.status === "SKIPPED") {
        return { kind: "result", stepId: msg.stepId, ok: true, output: { ...asRecord(msg.output), providerMessageId: msg.providerMessageId } };
      }
      if (msg.status === "FAILED" || msg.status === "DEAD") {
        return { kind: "result", stepId: msg.stepId, ok: false, error: msg.error ?? "send failed" };
      }
      void state;
      return null; // still pending: the send job will enqueue the result when it is done
    }
  }
}

/**
 * Applies one input to one run: `advance()` decides, then one Postgres transaction records the
 * transition (guarded by seq), its traces, outbox rows and attribute changes; then the follow-up
 * jobs are enqueued. A crash anywhere is safe: before the commit the job retries; after it, the
 * retry finds seq moved on and only re-enqueues the (idempotent) follow-ups.
 */
export async function processRunJob(ctx: EngineContext, data: unknown): Promise<RunOutcome> {
  const parsed = RunJob.safeParse(data);
  if (!parsed.success) {
    ctx.log.error({ issues: parsed.error.issues }, "malformed run job payload; dropping it");
    throw new UnrecoverableError(`malformed run job: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const job = parsed.data;
  const { prisma } = ctx.db;
  const run = await prisma.journeyRun.findUnique({
    where: { id: job.runId },
    select: { id: true, seq: true, status: true, state: true, workspaceId: true, customerId: true, versionId: true, version: { select: { plan: true } } },
  });
  if (!run) {
    ctx.log.warn({ runId: job.runId }, "run job for a run that no longer exists; ignoring");
    return "missing";
  }
  if (run.seq !== job.seq) {
    await ensureFollowUps(ctx, run.id);
    return "stale";
  }
  if (ENDED.includes(run.status)) return "ended";

  let plan: Plan;
  try {
    plan = parsePlan(run.version.plan);
  } catch (err) {
    await failRun(ctx, run.id, run.seq, `stored plan unreadable: ${err instanceof Error ? err.message : String(err)}`);
    return "applied";
  }
  const state = run.state as unknown as RunState;
  const input = await loadInput(ctx, job, state);
  if (!input) return "stale";

  const now = ctx.now();
  const { effects, nextState } = advance(plan, state, input, now);
  await commitTransition(ctx, { id: run.id, seq: run.seq, workspaceId: run.workspaceId, customerId: run.customerId }, effects, nextState);
  await ensureFollowUps(ctx, run.id);
  return "applied";
}

class StaleTransition extends Error {}

async function commitTransition(
  ctx: EngineContext,
  run: { id: string; seq: number; workspaceId: string; customerId: string },
  effects: Effect[],
  next: RunState,
): Promise<void> {
  const status = dbStatus(next);
  let waitingUntil: Date | null = null;
  let parkedEvent: string | null = null;
  let parkedKey: string | null = null;
  const traces: Prisma.RunTraceCreateManyInput[] = [];
  const messages: Prisma.MessageCreateManyInput[] = [];
  const attributeOps: { set: Record<string, unknown>; unset: string[] }[] = [];
  const tagOps: { add: string[]; remove: string[] }[] = [];
  let ended = false;

  for (const effect of effects) {
    switch (effect.kind) {
      case "trace":
        traces.push({ runId: run.id, stepId: effect.stepId, kind: effect.decision, detail: effect.detail as Prisma.InputJsonValue });
        break;
      case "schedule":
        waitingUntil = new Date(effect.at);
        break;
      case "park":
        parkedEvent = effect.event;
        parkedKey = effect.correlation ? JSON.stringify(effect.correlation.value ?? null) : null;
        waitingUntil = new Date(effect.until);
        break;
      case "send":
      case "issueCoupon":
      case "createPurl": {
        const { recipient, payload, error } = await renderOutbox(effect, next);
        messages.push({
          ...(error ? { status: "FAILED" as const, error } : {}),
          workspaceId: run.workspaceId,
          runId: run.id,
          stepId: effect.stepId,
          runSeq: run.seq + 1,
          channel: effect.kind === "send" ? effect.channel : effect.kind === "issueCoupon" ? "coupon" : "purl",
          idempotencyKey: `${run.id}:${run.seq}:${effect.stepId}`,
          recipient,
          payload: payload as Prisma.InputJsonValue,
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
        traces.push({ runId: run.id, stepId: effect.stepId, kind: "converted", detail: { goal: effect.goal } });
        break;
      case "exit":
      case "complete":
        ended = true;
        break;
    }
  }

  try {
    await ctx.db.prisma.$transaction(async (tx) => {
      const updated = await tx.journeyRun.updateMany({
        where: { id: run.id, seq: run.seq },
        data: {
          seq: run.seq + 1,
          status,
          state: next as unknown as Prisma.InputJsonValue,
          currentStepId: next.stepId,
          waitingUntil: status === "WAITING" ? waitingUntil : null,
          parkedEvent: next.status === "parked" ? parkedEvent : null,
          parkedKey: next.status === "parked" ? parkedKey : null,
          endedAt: ended || status === "COMPLETED" || status === "EXITED" ? new Date(ctx.now()) : null,
        },
      });
      if (updated.count === 0) throw new StaleTransition();
      if (traces.length) await tx.runTrace.createMany({ data: traces });
      if (messages.length) await tx.message.createMany({ data: messages });
      for (const op of attributeOps) {
        await tx.$executeRaw`UPDATE "Customer" SET attributes = (attributes || ${JSON.stringify(op.set)}::jsonb) - ${op.unset}::text[], "updatedAt" = now() WHERE id = ${run.customerId}`;
      }
      for (const op of tagOps) {
        await tx.$executeRaw`UPDATE "Customer" SET tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || ${op.add}::text[]) AS t WHERE NOT (t = ANY(${op.remove}::text[])) ORDER BY t), "updatedAt" = now() WHERE id = ${run.customerId}`;
      }
    });
  } catch (err) {
    if (err instanceof StaleTransition) return; // another job for this seq committed first
    throw err;
  }
}

async function failRun(ctx: EngineContext, runId: string, seq: number, reason: string): Promise<void> {
  ctx.log.error({ runId, reason }, "run failed");
  await ctx.db.prisma.$transaction(async (tx) => {
    const updated = await tx.journeyRun.updateMany({
      where: { id: runId, seq },
      data: { seq: seq + 1, status: "FAILED", endedAt: new Date(ctx.now()), waitingUntil: null },
    });
    if (updated.count > 0) await tx.runTrace.create({ data: { runId, kind: "error", detail: { reason } } });
  });
}

/**
 * Makes sure the jobs that carry a run forward exist, derived from what Postgres says (the
 * source of truth). Safe to call any number of times: job ids are derived from (run, seq).
 */
export async function ensureFollowUps(ctx: EngineContext, runId: string): Promise<void> {
  const run = await ctx.db.prisma.journeyRun.findUnique({
    where: { id: runId },
    select: { id: true, seq: true, status: true, currentStepId: true, waitingUntil: true },
  });
  if (!run || ENDED.includes(run.status)) return;
  if (run.status === "WAITING" && run.waitingUntil && run.currentStepId) {
    const job: RunJob = { runId, seq: run.seq, input: { kind: "timer", stepId: run.currentStepId } };
    await ctx.queues.runs.add("timer", job, { jobId: runJobId(job), delay: Math.max(0, run.waitingUntil.getTime() - ctx.now()) });
    return;
  }
  if (run.status === "ACTIVE") {
    const messages = await ctx.db.prisma.message.findMany({
      where: { runId, runSeq: run.seq },
      select: { id: true, status: true },
    });
    for (const m of messages) {
      if (m.status === "PENDING") {
        await ctx.queues.sends.add("send", { messageId: m.id }, { jobId: `send-${m.id}` });
      } else {
        const job: RunJob = { runId, seq: run.seq, input: { kind: "result", messageId: m.id } };
        await ctx.queues.runs.add("result", job, { jobId: runJobId(job) });
      }
    }
  }
}
