import { ProviderError } from "@postpath/channels";
import type { Prisma } from "@postpath/db";
import { stepAttempts, type Plan } from "@postpath/journey";
import { UnrecoverableError } from "bullmq";
import type { EngineContext } from "./context.ts";
import { asRecord } from "./customer.ts";
import { bumpCounters, singleCounter } from "./counters.ts";
import { admitUnderCaps, rateLimitHold, workspaceLimits, workspaceQuietHold } from "./limits.ts";
import { makeOutput } from "./outputs.ts";
import { loadPlan } from "./plans.ts";
import { NoProviderError } from "./providers.ts";
import { SendJob, runJobId, type RunJob } from "./queues.ts";

/**
 * Delivers one outbox message. The row (unique idempotency key) was committed with the run's
 * transition before this job existed; a message already SENT is never sent again, and the key is
 * handed to the provider so providers that deduplicate make a crash-retry harmless too.
 *
 * Before the provider is called, in this order: workspace quiet hours (hold), frequency caps
 * across journeys (skip or delay, see `admitUnderCaps`), the workspace's messages per minute
 * (delay). A hold or delay returns `{ heldUntil }`: the worker re-delivers this same job then.
 * A replayed dead letter skips quiet hours and caps (an admin asked for it), not the rate limit.
 * Failures retry up to the step's `retries` + 1 attempts (else the engine's `sendRetry.attempts`),
 * never beyond the job's own attempts.
 */
export async function processSendJob(
  ctx: EngineContext,
  data: unknown,
  attempt: { made: number; max: number },
): Promise<"sent" | "already" | "skipped" | "failed" | "missing" | { heldUntil: number }> {
  const parsed = SendJob.safeParse(data);
  if (!parsed.success) {
    ctx.log.error({ issues: parsed.error.issues }, "malformed send job payload; dropping it");
    throw new UnrecoverableError("malformed send job payload");
  }
  const { prisma } = ctx.db;
  const msg = await prisma.message.findUnique({
    where: { id: parsed.data.messageId },
    include: { run: { select: { status: true, versionId: true, journeyId: true } } },
  });
  if (!msg) {
    ctx.log.warn(
      { messageId: parsed.data.messageId },
      "send job for a message that no longer exists; ignoring",
    );
    return "missing";
  }
  if (msg.status !== "PENDING") {
    await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
    return "already";
  }
  if (!parsed.data.replay && (msg.run.status === "EXITED" || msg.run.status === "FAILED")) {
    // The run was stopped (journey stopped) after it asked for this message: don't send it.
    const skipped = await prisma.message.updateMany({
      where: { id: msg.id, status: "PENDING" },
      data: { status: "SKIPPED", error: "not sent: the run had already ended (journey stopped)" },
    });
    if (skipped.count) {
      await prisma.runTrace.create({
        data: {
          runId: msg.runId,
          stepId: msg.stepId,
          kind: "message.skipped",
          detail: { messageId: msg.id, reason: "run ended" },
        },
      });
    }
    return "already";
  }
  const plan = await loadPlan(ctx, msg.run.versionId).catch((err: unknown): Plan | null => {
    ctx.log.warn(
      { messageId: msg.id, versionId: msg.run.versionId, err: String(err) },
      "send without its journey's plan: no journey frequency cap, default retries",
    );
    return null;
  });
  const limits = await workspaceLimits(ctx, msg.workspaceId);
  const now = ctx.now();
  if (!parsed.data.replay) {
    const hold = await workspaceQuietHold(ctx, {
      workspaceId: msg.workspaceId,
      customerId: msg.customerId,
      channel: msg.channel,
      now,
    });
    if (hold) {
      await prisma.runTrace.create({
        data: {
          runId: msg.runId,
          stepId: msg.stepId,
          kind: "quietHours.held",
          detail: { ...hold.detail, messageId: msg.id },
        },
      });
      return { heldUntil: hold.until };
    }
    const cap = await admitUnderCaps(
      ctx,
      { ...msg, journeyId: msg.run.journeyId },
      plan,
      limits,
      now,
    );
    if (cap.kind === "skipped") {
      // Like any result: the run continues (a SKIPPED message counts as done, see runner.ts).
      await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
      return "skipped";
    }
    if (cap.kind === "delayed") return { heldUntil: cap.until };
  }
  const rate = await rateLimitHold(ctx, msg, limits, now);
  if (rate) return { heldUntil: rate.until };
  const payload = asRecord(msg.payload);
  try {
    let providerMessageId: string;
    let response: unknown;
    let output: Record<string, unknown> = {};
    if (msg.channel === "coupon" || msg.channel === "purl") {
      // Made by the engine itself (deterministic per idempotency key) — see outputs.ts.
      output = await makeOutput(ctx, msg.channel, payload, {
        messageId: msg.id,
        idempotencyKey: msg.idempotencyKey,
        workspaceId: msg.workspaceId,
        runId: msg.runId,
        customerId: msg.customerId,
      });
      providerMessageId = msg.idempotencyKey;
      response = output;
    } else {
      if (
        !msg.recipient &&
        (msg.channel === "email" || msg.channel === "sms" || msg.channel === "push")
      ) {
        const what =
          msg.channel === "email"
            ? "email address"
            : msg.channel === "sms"
              ? "phone number"
              : "push token (attribute push_token)";
        throw new ProviderError(`no ${what} for this customer`, { retryable: false });
      }
      const provider = await ctx.providers(msg.workspaceId, msg.channel);
      const result = await provider.send(
        { ...payload, to: msg.recipient ?? undefined, idempotencyKey: msg.idempotencyKey },
        // Private hosts only when an admin allowed them (OUTBOUND_ALLOW_HOSTS).
        { outbound: ctx.outbound },
      );
      providerMessageId = result.providerMessageId;
      response = result.response;
    }
    await prisma.$transaction(async (tx) => {
      const marked = await tx.message.updateMany({
        where: { id: msg.id, status: "PENDING" },
        data: {
          status: "SENT",
          sentAt: new Date(ctx.now()),
          providerMessageId,
          providerResponse: (response ?? null) as Prisma.InputJsonValue,
          output: output as Prisma.InputJsonValue,
          attempts: { increment: 1 },
          error: null,
        },
      });
      if (marked.count === 0) return; // a concurrent attempt recorded it first
      await tx.runTrace.create({
        data: {
          runId: msg.runId,
          stepId: msg.stepId,
          kind: "message.sent",
          detail: {
            channel: msg.channel,
            messageId: msg.id,
            providerMessageId,
            attempt: attempt.made + 1,
          },
        },
      });
      await bumpCounters(
        tx,
        msg.run.versionId,
        msg.run.journeyId,
        singleCounter(msg.stepId, "sent"),
      );
    });
    ctx.log.info(
      {
        messageId: msg.id,
        runId: msg.runId,
        stepId: msg.stepId,
        channel: msg.channel,
        providerMessageId,
      },
      "message sent",
    );
    await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
    return "sent";
  } catch (err) {
    const retryable =
      err instanceof ProviderError ? err.retryable : !(err instanceof NoProviderError);
    const message = err instanceof Error ? err.message : String(err);
    // The step's own retry count when it has one, never more than the job's attempts.
    const allowed = Math.min(
      attempt.max,
      stepAttempts(plan?.steps[msg.stepId]?.config) ?? ctx.sendRetry.attempts,
    );
    const last = !retryable || attempt.made + 1 >= allowed;
    await prisma.$transaction(async (tx) => {
      await tx.message.update({
        where: { id: msg.id },
        data: {
          attempts: { increment: 1 },
          error: message,
          // Final: no longer counted by frequency caps (the claim, sentAt, is released).
          ...(last ? { status: retryable ? "DEAD" : "FAILED", sentAt: null } : {}),
          providerResponse:
            err instanceof ProviderError && err.response !== undefined
              ? (err.response as Prisma.InputJsonValue)
              : undefined,
        },
      });
      await tx.runTrace.create({
        data: {
          runId: msg.runId,
          stepId: msg.stepId,
          kind: last ? "message.failed" : "message.retry",
          detail: {
            channel: msg.channel,
            messageId: msg.id,
            attempt: attempt.made + 1,
            retryable,
            error: message,
            ...(last && retryable ? { deadLetter: true } : {}),
          },
        },
      });
      if (last)
        await bumpCounters(
          tx,
          msg.run.versionId,
          msg.run.journeyId,
          singleCounter(msg.stepId, "failed"),
        );
    });
    ctx.log.warn(
      { messageId: msg.id, channel: msg.channel, attempt: attempt.made + 1, last, error: message },
      "send failed",
    );
    if (last) {
      await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
      return "failed";
    }
    throw err; // BullMQ retries with backoff
  }
}

async function enqueueResult(
  ctx: EngineContext,
  runId: string,
  runSeq: number,
  messageId: string,
): Promise<void> {
  const job: RunJob = { runId, seq: runSeq, input: { kind: "result", messageId } };
  await ctx.queues.runs.add("result", job, { jobId: runJobId(job) });
}
