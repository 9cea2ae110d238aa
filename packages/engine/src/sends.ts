import { randomUUID } from "node:crypto";
import { ProviderError } from "@postpath/channels";
import type { Prisma } from "@postpath/db";
import {
  stepAttempts,
  stepDelivery,
  stepPurpose,
  type Delivery,
  type Plan,
} from "@postpath/journey";
import {
  isConsentChannel,
  MARKETING_BLOCKED_SQL,
  marketingBlock,
  unsubscribeUrl,
} from "./consent.ts"; // issue 16
import type { EngineContext } from "./context.ts";
import { asRecord } from "./customer.ts";
import { bumpCounters, singleCounter, takeShard } from "./counters.ts";
import { recordSendOutcome, withTracking } from "./engagement.ts"; // issue 17: clicks, opens
import { bumpRollup, utcDay, variantAt } from "./rollups.ts"; // issue 17
import { admitUnderCaps, rateLimitHold, workspaceLimits, workspaceQuietHold } from "./limits.ts";
import { makeOutput } from "./outputs.ts";
import { loadPlan } from "./plans.ts";
import { NoProviderError } from "./providers.ts";
import {
  parseJobData,
  SendJob,
  runJobId,
  sendJobCreatedAt,
  type RunJob,
  type SendAccepted,
} from "./queues.ts";

export type SendOutcome =
  "sent" | "already" | "skipped" | "failed" | "missing" | "uncertain" | { heldUntil: number };

export interface SendAttempt {
  /** Attempts this job made before (BullMQ's attemptsMade) and the most it may make. */
  made: number;
  max: number;
  /**
   * Keeps a provider's acceptance with the job (in Redis) when Postgres would not take the record
   * even after retrying: the next attempt records it instead of calling the provider again.
   */
  remember?: (accepted: SendAccepted) => Promise<void>;
}

/** How long the record of an accepted send is retried in process before the job hands it on. */
export const RECORD_RETRY_MS = 60_000;

type Msg = NonNullable<Awaited<ReturnType<typeof loadMessage>>>;

/** The message's createdAt as the column holds it (a UTC timestamp), for `"createdAt" = $n::timestamp`. */
function at(msg: { createdAt: Date }): string {
  return msg.createdAt.toISOString().slice(0, -1);
}

// issue 15: Message is partitioned by month (key (id, createdAt)); ids are unique, so a read by id
// alone finds at most one row, looking into each month's key index (and planning every month: ~1 ms
// with 28 partitions). The send job carries the message's createdAt when its producer knew it
// (`SendJob.createdAt`): the first read then names it too and Postgres plans and reads one month.
// Every later statement on the message also names its createdAt (`at(msg)`), which never changes:
// each compare-and-set below is exactly as strict as by id alone.
async function loadMessage(ctx: EngineContext, id: string, createdAt: Date | null) {
  const msg = await findMessage(ctx, id, createdAt);
  if (!msg) return null;
  // The run's status, version and journey: one read by primary key ("Message" has no foreign key
  // to "JourneyRun" since 20261206040000_message_no_foreign_keys; Prisma's `include` was this same
  // second query). A run that is gone (nothing deletes a run without its messages; defensive) sends
  // nothing: its PENDING message is set aside, so the sweeper stops offering it.
  const run = await ctx.db.prisma.journeyRun.findUnique({
    where: { id: msg.runId },
    select: { status: true, versionId: true, journeyId: true },
  });
  if (run) return { ...msg, run };
  await ctx.db.query(
    `UPDATE "Message" SET status = 'SKIPPED', error = 'not sent: its run no longer exists'
     WHERE id = $1 AND "createdAt" = $2::timestamp AND status = 'PENDING'`,
    [msg.id, at(msg)],
  );
  ctx.log.warn({ messageId: id, runId: msg.runId }, "send job for a message whose run is gone");
  return null;
}

async function findMessage(ctx: EngineContext, id: string, createdAt: Date | null) {
  if (createdAt) {
    const msg = await ctx.db.prisma.message.findFirst({ where: { id, createdAt } });
    if (msg) return msg;
    // Not in that month: a job whose createdAt is wrong (a producer's bug, a clock or precision
    // slip) must not drop its message — the job is what delivers it, and "missing" would leave it
    // PENDING until the sweeper's next pass or lose a replay. Ids are unique across months, so the
    // read by id alone finds the same row the job means; it costs the ~1 ms of planning every
    // month only on this path, and a message that really is gone is still reported missing.
    ctx.log.warn(
      { messageId: id, createdAt: createdAt.toISOString() },
      "send job's createdAt does not match its message; reading it by id",
    );
  }
  return ctx.db.prisma.message.findFirst({ where: { id } });
}

/**
 * Delivers one outbox message. The row (unique idempotency key) was committed with the run's
 * transition before this job existed; the key is handed to the provider so providers that
 * de-duplicate make a resend harmless.
 *
 * claim → send → record, each one round trip: the message is claimed (PENDING → SENDING with a
 * fresh token, committed) before the provider is called, and the provider's acceptance is recorded
 * (SENT, its trace and the step counter in ONE statement) only by the claim's holder. The provider's
 * answer is never confused with our bookkeeping: once it accepted, only the record is retried
 * (`RECORD_RETRY_MS`, then the acceptance travels with the job), never the send. A failure known to
 * have happened before acceptance (connection refused, an error answer) releases the claim for a
 * retry. An attempt that finds the message still SENDING knows the previous one may have reached
 * the provider and applies the step's delivery policy (`stepDelivery`): at least once → send again
 * with the same key; at most once → UNCERTAIN (not sent again, traced, counted, listed with the
 * dead letters). A provider timeout on an at-most-once step is uncertain too.
 *
 * Before the claim, in this order: workspace quiet hours (hold), frequency caps across journeys
 * (skip or delay, see `admitUnderCaps`), the workspace's messages per minute (delay). A hold or
 * delay returns `{ heldUntil }`: the worker re-delivers this same job then. A replayed dead letter
 * skips quiet hours and caps (an admin asked for it), not the rate limit. Failures retry up to the
 * step's `retries` + 1 attempts (else the engine's `sendRetry.attempts`), never beyond the job's
 * own attempts.
 */
export async function processSendJob(
  ctx: EngineContext,
  data: unknown,
  attempt: SendAttempt,
): Promise<SendOutcome> {
  const job = parseJobData(SendJob, data, "send");
  const { prisma } = ctx.db;
  const msg = await loadMessage(ctx, job.messageId, sendJobCreatedAt(job));
  if (!msg) {
    ctx.log.warn(
      { messageId: job.messageId },
      "send job for a message that no longer exists; ignoring",
    );
    return "missing";
  }
  const accepted = job.accepted;
  if (
    accepted &&
    (msg.status === "SENDING" || msg.status === "UNCERTAIN") &&
    msg.claimToken === accepted.token
  ) {
    // A previous attempt of this job was accepted but could not record it: record it now.
    await recordSent(ctx, msg, accepted, attempt);
    await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
    return "sent";
  }
  const plan = await planOf(ctx, msg);
  if (msg.status === "SENDING") return resumeInterrupted(ctx, msg, plan, attempt);
  if (msg.status !== "PENDING") {
    await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
    return "already";
  }
  const replay = job.replay === true || msg.replayedAt !== null;
  if (!replay && (msg.run.status === "EXITED" || msg.run.status === "FAILED")) {
    // The run was stopped (journey stopped) after it asked for this message: don't send it.
    const skipped = await prisma.message.updateMany({
      where: { id: msg.id, createdAt: msg.createdAt, status: "PENDING" },
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
  const limits = await workspaceLimits(ctx, msg.workspaceId);
  const now = ctx.now();
  if (!replay) {
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
  // The claim: committed before the provider hears of the message. issue 16: a marketing message
  // is claimed only while its customer is subscribed and its address not suppressed, checked in
  // the claim's own statement — the last moment before the provider call, on every path (first
  // send, retry, replay, a version in flight).
  const marketing = isMarketing(plan, msg);
  for (let tries = 0; ; tries++) {
    const token = randomUUID();
    const claimed = await ctx.db.query(
      `UPDATE "Message" m SET status = 'SENDING', "claimToken" = $2
       WHERE m.id = $1 AND m."createdAt" = $4::timestamp AND m.status = 'PENDING'
         AND NOT ($3::boolean AND ${MARKETING_BLOCKED_SQL})
       RETURNING m.id`,
      [msg.id, token, marketing, at(msg)],
    );
    if (claimed.length > 0) return deliver(ctx, msg, token, plan, attempt);
    if (!marketing) return "already"; // another attempt moved it first
    const skipped = await skipForConsent(ctx, msg, null);
    if (skipped !== null) return skipped;
    // Not blocked (any more) and not claimed: moved by another attempt, or re-subscribed meanwhile.
    const current = await prisma.message.findFirst({
      where: { id: msg.id, createdAt: msg.createdAt },
      select: { status: true },
    });
    if (current?.status !== "PENDING" || tries >= 2) return "already";
  }
}

/** issue 16: marketing unless the step says transactional; engine outputs are neither. */
export function isMarketing(plan: Plan | null, msg: { stepId: string; channel: string }): boolean {
  if (!isConsentChannel(msg.channel)) return false;
  return stepPurpose(plan?.steps[msg.stepId]?.config) === "marketing";
}

/**
 * issue 16: a marketing message its customer may not get (unsubscribed, suppressed) becomes
 * SKIPPED with a trace line saying why; the run continues as after any skipped message. `token`:
 * the claim it held (an interrupted send not sent again), null for a PENDING message. Returns null
 * when nothing blocks it (any more).
 */
async function skipForConsent(
  ctx: EngineContext,
  msg: Msg,
  token: string | null,
): Promise<SendOutcome | null> {
  const block = await marketingBlock(ctx, msg);
  if (!block) return null;
  const error = token === null ? block.line : block.line.replace(/^Not sent/, "Not sent again");
  const done = await ctx.db.query(
    `WITH m AS (
       UPDATE "Message" SET status = 'SKIPPED', error = $2, "claimToken" = NULL, "sentAt" = NULL
       WHERE id = $1 AND "createdAt" = $8::timestamp AND status = $3
         AND "claimToken" IS NOT DISTINCT FROM $4
       RETURNING id
     ), t AS (
       INSERT INTO "RunTrace" ("runId", "stepId", kind, detail)
       SELECT $5, $6, 'message.skipped', $7::jsonb FROM m
     )
     SELECT id FROM m`,
    [
      msg.id,
      error,
      token === null ? "PENDING" : "SENDING",
      token,
      msg.runId,
      msg.stepId,
      JSON.stringify({
        channel: msg.channel,
        messageId: msg.id,
        reason: block.reason,
        message: error,
        ...block.detail,
      }),
      at(msg),
    ],
  );
  if (done.length === 0) return "already";
  ctx.log.info(
    { messageId: msg.id, runId: msg.runId, channel: msg.channel, reason: block.reason },
    "marketing message not sent (consent)",
  );
  await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
  return "skipped";
}

async function planOf(ctx: EngineContext, msg: Msg): Promise<Plan | null> {
  return loadPlan(ctx, msg.run.versionId).catch((err: unknown): Plan | null => {
    ctx.log.warn(
      { messageId: msg.id, versionId: msg.run.versionId, err: String(err) },
      "send without its journey's plan: no journey frequency cap, default retries and delivery",
    );
    return null;
  });
}

/** The step's delivery policy; engine-made outputs (coupon, PURL) are idempotent: at least once. */
export function deliveryOf(plan: Plan | null, msg: { stepId: string; channel: string }): Delivery {
  if (msg.channel === "coupon" || msg.channel === "purl") return "atLeastOnce";
  return stepDelivery(plan?.steps[msg.stepId]?.config, msg.channel);
}

/**
 * The previous attempt claimed the message and stopped before recording an answer (its worker
 * died, or lost its lock): the provider may or may not have the message.
 */
async function resumeInterrupted(
  ctx: EngineContext,
  msg: Msg,
  plan: Plan | null,
  attempt: SendAttempt,
): Promise<SendOutcome> {
  const policy = deliveryOf(plan, msg);
  const reason = "the previous attempt stopped after handing the message to the provider";
  if (policy === "atMostOnce") {
    await markUncertain(ctx, msg, msg.claimToken, plan, attempt, reason);
    return "uncertain";
  }
  const token = randomUUID();
  // issue 16: sent again only while a marketing message's customer is still subscribed.
  const marketing = isMarketing(plan, msg);
  const taken = await ctx.db.query(
    `UPDATE "Message" m SET "claimToken" = $2
     WHERE m.id = $1 AND m."createdAt" = $5::timestamp AND m.status = 'SENDING'
       AND m."claimToken" IS NOT DISTINCT FROM $3 AND NOT ($4::boolean AND ${MARKETING_BLOCKED_SQL})
     RETURNING m.id`,
    [msg.id, token, msg.claimToken, marketing, at(msg)],
  );
  if (taken.length === 0)
    return (marketing ? await skipForConsent(ctx, msg, msg.claimToken) : null) ?? "already";
  await ctx.db.prisma.runTrace.create({
    data: {
      runId: msg.runId,
      stepId: msg.stepId,
      kind: "message.resending",
      detail: { channel: msg.channel, messageId: msg.id, delivery: policy, reason },
    },
  });
  ctx.log.info(
    { messageId: msg.id, channel: msg.channel },
    "outcome of an interrupted send unknown; sending again with the same idempotency key",
  );
  return deliver(ctx, msg, token, plan, attempt);
}

async function markUncertain(
  ctx: EngineContext,
  msg: Msg,
  token: string | null,
  plan: Plan | null,
  attempt: SendAttempt,
  reason: string,
): Promise<void> {
  const error = `Not sent again: ${reason}, so it may or may not have been delivered.`;
  const rows = await ctx.db.query<{ id: string }>(
    `WITH m AS (
       UPDATE "Message" SET status = 'UNCERTAIN', error = $2, attempts = attempts + 1
       WHERE id = $1 AND "createdAt" = $7::timestamp AND status = 'SENDING'
         AND "claimToken" IS NOT DISTINCT FROM $3
       RETURNING id
     ), t AS (
       INSERT INTO "RunTrace" ("runId", "stepId", kind, detail)
       SELECT $4, $5, 'message.uncertain', $6::jsonb FROM m
     )
     SELECT id FROM m`,
    [
      msg.id,
      error,
      token,
      msg.runId,
      msg.stepId,
      JSON.stringify({
        channel: msg.channel,
        messageId: msg.id,
        delivery: deliveryOf(plan, msg),
        attempt: attempt.made + 1,
        reason,
      }),
      at(msg),
    ],
  );
  if (rows.length === 0) return; // recorded or taken over meanwhile
  ctx.log.warn(
    { messageId: msg.id, runId: msg.runId, channel: msg.channel, reason },
    "send outcome uncertain: not sent again (at most once); listed with the dead letters",
  );
  await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
}

/** Calls the provider under the claim `token`, then records the answer. */
async function deliver(
  ctx: EngineContext,
  msg: Msg,
  token: string,
  plan: Plan | null,
  attempt: SendAttempt,
): Promise<SendOutcome> {
  let accepted: SendAccepted;
  try {
    accepted = await callProvider(ctx, msg, token, plan);
  } catch (err) {
    return failAttempt(ctx, msg, token, plan, attempt, err);
  }
  await recordSent(ctx, msg, accepted, attempt);
  await recordSendOutcome(ctx, msg, "sent"); // issue 17: accepted (delivery: the provider's report)
  ctx.log.info(
    {
      messageId: msg.id,
      runId: msg.runId,
      stepId: msg.stepId,
      channel: msg.channel,
      providerMessageId: accepted.providerMessageId,
    },
    "message sent",
  );
  await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
  return "sent";
}

async function callProvider(
  ctx: EngineContext,
  msg: Msg,
  token: string,
  plan: Plan | null,
): Promise<SendAccepted> {
  const payload = asRecord(msg.payload);
  if (msg.channel === "coupon" || msg.channel === "purl") {
    // Made by the engine itself (deterministic per idempotency key) — see outputs.ts.
    const output = await makeOutput(ctx, msg.channel, payload, {
      messageId: msg.id,
      idempotencyKey: msg.idempotencyKey,
      workspaceId: msg.workspaceId,
      runId: msg.runId,
      customerId: msg.customerId,
      stepId: msg.stepId,
    });
    return { token, providerMessageId: msg.idempotencyKey, response: output, output };
  }
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
  // issue 16: the recipient's unsubscribe link (footer and one-click headers when marketing).
  const unsubscribe =
    msg.channel === "email" && msg.customerId
      ? {
          unsubscribe: {
            url: unsubscribeUrl(ctx, msg.customerId, "email"),
            marketing: isMarketing(plan, msg),
          },
        }
      : {};
  const result = await provider.send(
    {
      ...(await withTracking(ctx, msg, payload)), // issue 17: links through /c/, the open pixel
      ...unsubscribe,
      to: msg.recipient ?? undefined,
      idempotencyKey: msg.idempotencyKey,
    },
    // Private hosts only when an admin allowed them (OUTBOUND_ALLOW_HOSTS).
    { outbound: ctx.outbound },
  );
  return {
    token,
    providerMessageId: result.providerMessageId,
    response: result.response ?? null,
    output: {},
  };
}

/**
 * LOCK ORDER (issue 15): every writer of a step's figures locks its "StepCounter" rows before its
 * "JourneyRollup" rows — failAttempt, move.ts and the helpers statement after statement, the run
 * commit (store.ts commitBatch) and recordSent inside one statement. Postgres runs a
 * data-modifying CTE nobody reads at the end of the statement, the last one written first; so
 * here, as in commitBatch, the rollup CTE reads the counter CTE's RETURNING (its count: all of
 * it), which makes the counter upsert run to its end first. Without it the record took the rollup
 * row first: a record and a failed send of the same step (same shard) could each hold the row the
 * other wanted ("recording an accepted send failed: deadlock detected"; test
 * issue-015-counter-rollup-lock-order).
 *
 * Records an accepted send: SENT, its trace and the step's `sent` counter in one statement, only
 * while `accepted.token` holds the claim (an UNCERTAIN mark by a later attempt is overwritten: it
 * was delivered after all). Retried on database errors for up to RECORD_RETRY_MS; after that the
 * acceptance is kept with the job and the error thrown, so the next attempt records it.
 */
async function recordSent(
  ctx: EngineContext,
  msg: Msg,
  accepted: SendAccepted,
  attempt: SendAttempt,
): Promise<void> {
  const sql = `WITH m AS (
      UPDATE "Message" SET status = 'SENT', "sentAt" = $2, "providerMessageId" = $3,
        "providerResponse" = $4::jsonb, output = $5::jsonb, attempts = attempts + 1, error = NULL,
        "claimToken" = NULL
      WHERE id = $1 AND "createdAt" = $15::timestamp AND "claimToken" = $6
        AND status IN ('SENDING', 'UNCERTAIN')
      RETURNING id
    ), t AS (
      INSERT INTO "RunTrace" ("runId", "stepId", kind, detail)
      SELECT $7, $8, 'message.sent', $9::jsonb FROM m
    ), c AS (
      INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId", sent)
      SELECT $10, $8, $11, $12, 1 FROM m
      ON CONFLICT ("versionId", "stepId", shard) DO UPDATE SET sent = "StepCounter".sent + 1
      RETURNING 1
    ), r AS (
      -- Reads c: the counter row is locked before the rollup row (see LOCK ORDER above).
      INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", sent, delivered)
      SELECT $10, $8, $13, $14::date, $11, $12, 1, 1 FROM m CROSS JOIN (SELECT count(*) FROM c) AS counted
      ON CONFLICT ("versionId", "stepId", variant, day, shard) DO UPDATE SET
        sent = "JourneyRollup".sent + 1, delivered = "JourneyRollup".delivered + 1
    )
    SELECT id FROM m`;
  // issue 17: the rollups' variant of the step (the plan is cached).
  const plan = await loadPlan(ctx, msg.run.versionId).catch(() => null);
  const params = [
    msg.id,
    new Date(ctx.now()),
    accepted.providerMessageId,
    JSON.stringify(accepted.response ?? null),
    JSON.stringify(accepted.output),
    accepted.token,
    msg.runId,
    msg.stepId,
    JSON.stringify({
      channel: msg.channel,
      messageId: msg.id,
      providerMessageId: accepted.providerMessageId,
      attempt: attempt.made + 1,
    }),
    msg.run.versionId,
    takeShard(),
    msg.run.journeyId,
    variantAt(plan, msg.runId, msg.stepId),
    utcDay(ctx.now()),
    at(msg),
  ];
  try {
    await retryBookkeeping(ctx, msg.id, "recording an accepted send", () =>
      ctx.db.query(sql, params),
    );
  } catch (err) {
    ctx.log.error(
      { messageId: msg.id, err: err instanceof Error ? err.message : String(err) },
      "provider accepted the message but the record failed; the job keeps the acceptance",
    );
    await attempt.remember?.(accepted).catch(() => undefined);
    throw err;
  }
}

/**
 * Our own bookkeeping around a provider call, retried on database errors (a pool timeout, a
 * restart) with backoff for up to RECORD_RETRY_MS: what the provider said is already known and
 * must not be lost to a hiccup, nor turned into a second call.
 */
async function retryBookkeeping<T>(
  ctx: EngineContext,
  messageId: string,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  for (let wait = 100; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() - started + wait > RECORD_RETRY_MS) throw err;
      ctx.log.warn(
        { messageId, err: err instanceof Error ? err.message : String(err), retryInMs: wait },
        `${what} failed; retrying it (never the send)`,
      );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * A provider timeout: the request left, the answer did not come back. The far side may have the
 * message (an SMTP server that accepted the DATA but whose "250" was late).
 */
function outcomeUnknown(err: unknown): boolean {
  return err instanceof ProviderError && err.status === undefined && /timed out/i.test(err.message);
}

/** A failed provider call under our claim: retry (back to PENDING), final, or uncertain. */
async function failAttempt(
  ctx: EngineContext,
  msg: Msg,
  token: string,
  plan: Plan | null,
  attempt: SendAttempt,
  err: unknown,
): Promise<SendOutcome> {
  const message = err instanceof Error ? err.message : String(err);
  if (outcomeUnknown(err) && deliveryOf(plan, msg) === "atMostOnce") {
    await markUncertain(ctx, msg, token, plan, attempt, `the provider did not answer (${message})`);
    return "uncertain";
  }
  const retryable =
    err instanceof ProviderError ? err.retryable : !(err instanceof NoProviderError);
  // The step's own retry count when it has one, never more than the job's attempts.
  const allowed = Math.min(
    attempt.max,
    stepAttempts(plan?.steps[msg.stepId]?.config) ?? ctx.sendRetry.attempts,
  );
  const last = !retryable || attempt.made + 1 >= allowed;
  const release = () =>
    ctx.db.prisma.$transaction(async (tx) => {
      const updated = await tx.message.updateMany({
        where: { id: msg.id, createdAt: msg.createdAt, status: "SENDING", claimToken: token },
        data: {
          attempts: { increment: 1 },
          error: message,
          claimToken: null,
          // Final: no longer counted by frequency caps (the claim, sentAt, is released).
          ...(last
            ? { status: retryable ? "DEAD" : "FAILED", sentAt: null }
            : { status: "PENDING" }),
          ...(err instanceof ProviderError && err.response !== undefined
            ? { providerResponse: err.response as Prisma.InputJsonValue }
            : {}),
        },
      });
      if (updated.count === 0) return false;
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
      if (last)
        await bumpRollup(
          tx,
          {
            versionId: msg.run.versionId,
            journeyId: msg.run.journeyId,
            stepId: msg.stepId,
            variant: variantAt(plan, msg.runId, msg.stepId),
            day: utcDay(ctx.now()),
          },
          { failed: 1 },
        ); // issue 17
      return true;
    });
  // Known not accepted: the claim must come back, or the next attempt would take it as uncertain.
  const released = await retryBookkeeping(ctx, msg.id, "recording a failed send", release);
  if (!released) return "already"; // another attempt took the claim over meanwhile
  ctx.log.warn(
    { messageId: msg.id, channel: msg.channel, attempt: attempt.made + 1, last, error: message },
    "send failed",
  );
  if (last) {
    await recordSendOutcome(ctx, msg, "failed"); // issue 17
    await enqueueResult(ctx, msg.runId, msg.runSeq, msg.id);
    return "failed";
  }
  throw err; // BullMQ retries with backoff
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
