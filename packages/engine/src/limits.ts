import {
  durationMs,
  FrequencyCap,
  frequencyCapAllows,
  frequencyCapReleaseAt,
  nextAllowedSendTime,
  QuietHours,
  resolveTimeZone,
  type Plan,
} from "@postpath/journey";
import { z } from "zod";
import type { EngineContext } from "./context.ts";
import { asRecord } from "./customer.ts";

/** Workspace.settings.limits as the engine applies them (written by api routers/limits.ts). */
export interface WorkspaceLimits {
  quietHours: QuietHours | null;
  frequencyCap: FrequencyCap | null;
  maxPerMinute: number | null;
}

/** Each part is read on its own: one invalid part never disables the others. */
function parseLimits(settings: unknown): WorkspaceLimits {
  const raw = asRecord(asRecord(settings).limits);
  const qh = QuietHours.safeParse(raw.quietHours);
  const cap = FrequencyCap.safeParse(raw.frequencyCap);
  const perMinute = z.number().int().positive().safeParse(raw.maxPerMinute);
  return {
    quietHours: qh.success ? qh.data : null,
    frequencyCap: cap.success ? cap.data : null,
    maxPerMinute: perMinute.success ? perMinute.data : null,
  };
}

/** The workspace's sending limits, cached for a few seconds per process. */
const limitsCache = new Map<string, { at: number; value: WorkspaceLimits }>();
export async function workspaceLimits(
  ctx: EngineContext,
  workspaceId: string,
): Promise<WorkspaceLimits> {
  const hit = limitsCache.get(workspaceId);
  if (hit && Date.now() - hit.at < 5000) return hit.value;
  const ws = await ctx.db.prisma.workspace.findUnique({
    where: { id: workspaceId },
    select: { settings: true },
  });
  const value = parseLimits(ws?.settings);
  limitsCache.set(workspaceId, { at: Date.now(), value });
  return value;
}

// ---------------------------------------------------------------------------------------------
// Frequency caps

function describe(cap: FrequencyCap): string {
  const unit = cap.period.amount === 1 ? cap.period.unit.replace(/s$/, "") : cap.period.unit;
  return `at most ${cap.max} per ${cap.period.amount} ${unit}`;
}

export type CapDecision =
  { kind: "admitted" } | { kind: "skipped"; reason: string } | { kind: "delayed"; until: number };

/**
 * Frequency caps at send time, counted across all journeys for this customer and channel: the
 * journey's own cap (its plan's settings) and the workspace's sending limit. Counted are the
 * customer's messages on the channel SENT inside the period plus those being sent right now.
 *
 * "Being sent" is a claim: `sentAt` set on a PENDING message. It is taken here when the message
 * is admitted, kept across provider retries (a retried message is not capped again), replaced by
 * the real send time when the message is SENT and cleared when it finally fails. The check and
 * the claim run in one transaction holding a transaction-scoped advisory lock on the customer
 * (`pg_advisory_xact_lock`), so concurrent sends to one customer — from any worker process — are
 * admitted one at a time and a cap of N lets exactly N through. The lock is held for the count
 * and the claim only, never across the provider call; messages without an applicable cap never
 * take it.
 *
 * A message that is not admitted is, per the cap's `onCap`: skipped (marked SKIPPED with the
 * reason and a `frequencyCap.skipped` trace, under the lock) or delayed until enough counted
 * messages have left the period (`frequencyCap.delayed` trace; the caller re-delivers the same
 * job then). When several caps are exceeded, a cap that skips wins; else the latest release time.
 */
export async function admitUnderCaps(
  ctx: EngineContext,
  msg: {
    id: string;
    runId: string;
    stepId: string;
    customerId: string | null;
    channel: string;
    journeyId: string;
    sentAt: Date | null;
  },
  plan: Plan | null,
  limits: WorkspaceLimits,
  now: number,
): Promise<CapDecision> {
  // Already admitted (retried after a provider failure or a crash): never capped twice.
  if (msg.sentAt || !msg.customerId) return { kind: "admitted" };
  const caps: { source: "journey" | "workspace"; cap: FrequencyCap }[] = [];
  if (plan?.settings.frequencyCap)
    caps.push({ source: "journey", cap: plan.settings.frequencyCap });
  if (limits.frequencyCap) caps.push({ source: "workspace", cap: limits.frequencyCap });
  const applicable = caps.filter((c) =>
    (c.cap.channels as readonly string[]).includes(msg.channel),
  );
  if (applicable.length === 0) return { kind: "admitted" };
  const customerId = msg.customerId;
  const longest = Math.max(...applicable.map((c) => durationMs(c.cap.period)));
  return ctx.db.prisma.$transaction(async (tx): Promise<CapDecision> => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`frequencyCap:${customerId}`}, 0))`;
    const recent = await tx.message.findMany({
      where: {
        customerId,
        channel: msg.channel,
        // Being sent (PENDING with a claim, SENDING) or maybe sent (UNCERTAIN) counts as sent.
        status: { in: ["SENT", "PENDING", "SENDING", "UNCERTAIN"] },
        sentAt: { gt: new Date(now - longest) },
        id: { not: msg.id },
      },
      select: { sentAt: true },
    });
    const times = recent.flatMap((m) => (m.sentAt ? [m.sentAt.getTime()] : []));
    const exceeded = applicable.filter(
      ({ cap }) => !frequencyCapAllows(cap, msg.channel, times, now),
    );
    if (exceeded.length === 0) {
      // Zero rows when another attempt of this same message claimed it first: admitted either way.
      await tx.message.updateMany({
        where: { id: msg.id, status: "PENDING", sentAt: null },
        data: { sentAt: new Date(now) },
      });
      return { kind: "admitted" };
    }
    const ruleOf = ({ source, cap }: (typeof applicable)[number]) => ({
      rule: "frequencyCap",
      source,
      ...(source === "journey" ? { journeyId: msg.journeyId } : {}),
      channel: msg.channel,
      max: cap.max,
      period: cap.period,
      onCap: cap.onCap,
      counted: times.filter((t) => t > now - durationMs(cap.period) && t <= now).length,
      messageId: msg.id,
    });
    const skipping = exceeded.find((c) => c.cap.onCap === "skip");
    if (skipping) {
      const reason = `skipped by the ${skipping.source} frequency cap: ${describe(skipping.cap)} on ${msg.channel}`;
      const marked = await tx.message.updateMany({
        where: { id: msg.id, status: "PENDING" },
        data: { status: "SKIPPED", error: reason },
      });
      if (marked.count)
        await tx.runTrace.create({
          data: {
            runId: msg.runId,
            stepId: msg.stepId,
            kind: "frequencyCap.skipped",
            detail: { ...ruleOf(skipping), reason },
          },
        });
      return { kind: "skipped", reason };
    }
    let until = now;
    let by = exceeded[0]!;
    for (const c of exceeded) {
      const at = frequencyCapReleaseAt(c.cap, msg.channel, times, now);
      if (at > until) {
        until = at;
        by = c;
      }
    }
    await tx.runTrace.create({
      data: {
        runId: msg.runId,
        stepId: msg.stepId,
        kind: "frequencyCap.delayed",
        detail: { ...ruleOf(by), until: new Date(until).toISOString() },
      },
    });
    return { kind: "delayed", until };
  });
}

// ---------------------------------------------------------------------------------------------
// Workspace rate limit (maxPerMinute)

/** Channels the workspace rate limit counts: every one that calls a provider. */
const RATE_LIMITED = new Set(["email", "sms", "push", "webhook", "notify"]);
const MINUTE = 60_000;

/** Takes a slot unless the window is full (check and increment in one step). */
const TAKE_SLOT = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`;
const TAKE_SLOT_COMMAND = "postpathTakeSendSlot";
const defined = new WeakSet<object>();

/**
 * The workspace's `maxPerMinute`, across every worker process: a fixed one-minute window of the
 * engine clock, counted in Redis under the queue prefix by a Lua script that checks and
 * increments at once, so concurrent senders never overshoot. A message over the limit takes no
 * slot and waits for the next window (`rateLimit.delayed` trace); every provider call, a retry
 * too, takes one. Returns null when the message may go now.
 */
export async function rateLimitHold(
  ctx: EngineContext,
  msg: { id: string; runId: string; stepId: string; workspaceId: string; channel: string },
  limits: WorkspaceLimits,
  now: number,
): Promise<{ until: number } | null> {
  const max = limits.maxPerMinute;
  if (max === null || !RATE_LIMITED.has(msg.channel)) return null;
  const window = Math.floor(now / MINUTE);
  // One key per workspace and window, on the sends shard of the workspace (issue 15: a single-key
  // script runs on whichever cluster master holds that slot; every process picks the same one).
  const queue = ctx.queues.sends.shardFor(msg.workspaceId);
  const client = await queue.getBackend().client;
  if (!defined.has(client)) {
    client.defineCommand(TAKE_SLOT_COMMAND, { numberOfKeys: 1, lua: TAKE_SLOT });
    defined.add(client);
  }
  const key = queue.toKey(`rate:${msg.workspaceId}:${window}`);
  const taken = Number(await client.runCommand(TAKE_SLOT_COMMAND, [key, max, 2 * MINUTE]));
  if (taken > 0) return null;
  const until = (window + 1) * MINUTE;
  await ctx.db.prisma.runTrace.create({
    data: {
      runId: msg.runId,
      stepId: msg.stepId,
      kind: "rateLimit.delayed",
      detail: {
        rule: "rateLimit",
        source: "workspace",
        maxPerMinute: max,
        channel: msg.channel,
        messageId: msg.id,
        until: new Date(until).toISOString(),
      },
    },
  });
  return { until };
}

// ---------------------------------------------------------------------------------------------
// Quiet hours

/**
 * Workspace-wide quiet hours, applied at send time in the recipient's time zone (a journey's own
 * quiet hours are applied by the journey language before the send is requested). Returns when
 * the message may go and why, or null when it may go now. Mode "skip" is treated as "hold" here:
 * the message was already decided by the journey; holding it never loses it.
 */
export async function workspaceQuietHold(
  ctx: EngineContext,
  args: { workspaceId: string; customerId: string | null; channel: string; now: number },
): Promise<{ until: number; detail: Record<string, unknown> } | null> {
  const qh = (await workspaceLimits(ctx, args.workspaceId)).quietHours;
  if (!qh || !(qh.channels as readonly string[]).includes(args.channel)) return null;
  const customer = args.customerId
    ? await ctx.db.prisma.customer.findUnique({
        where: { id: args.customerId },
        select: { timezone: true },
      })
    : null;
  const timeZone = resolveTimeZone(customer?.timezone, "UTC");
  const until = nextAllowedSendTime(qh, timeZone, args.now);
  if (until <= args.now) return null;
  return {
    until,
    detail: {
      rule: "quietHours",
      source: "workspace",
      channel: args.channel,
      timeZone,
      quietHours: `${qh.start}–${qh.end}`,
      until: new Date(until).toISOString(),
    },
  };
}
