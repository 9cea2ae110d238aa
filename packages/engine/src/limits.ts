import {
  durationMs,
  FrequencyCap,
  frequencyCapAllows,
  nextAllowedSendTime,
  QuietHours,
  resolveTimeZone,
  type Plan,
} from "@postpath/journey";
import type { EngineContext } from "./context.ts";
import { asRecord } from "./customer.ts";

function describe(cap: FrequencyCap): string {
  const unit = cap.period.amount === 1 ? cap.period.unit.replace(/s$/, "") : cap.period.unit;
  return `at most ${cap.max} per ${cap.period.amount} ${unit}`;
}

/**
 * Frequency caps, counted across all journeys for this customer and channel (messages created
 * and not failed inside the period): the journey's own cap, then the workspace's sending limit.
 * Returns why the message is skipped, or null when it may go. Two sends racing for the last slot
 * may both pass (the count is read, not locked): a cap can be exceeded by concurrent runs of
 * different journeys by at most their number.
 */
export async function capDecision(
  ctx: EngineContext,
  args: { workspaceId: string; customerId: string; channel: string; plan: Plan; now: number },
): Promise<{ reason: string; rule: Record<string, unknown> } | null> {
  const caps: { source: "journey" | "workspace"; cap: FrequencyCap }[] = [];
  if (args.plan.settings.frequencyCap)
    caps.push({ source: "journey", cap: args.plan.settings.frequencyCap });
  const ws = await ctx.db.prisma.workspace.findUnique({
    where: { id: args.workspaceId },
    select: { settings: true },
  });
  // The admin's sending limits live in Workspace.settings.limits (api routers/limits.ts).
  const wsCap = FrequencyCap.safeParse(asRecord(asRecord(ws?.settings).limits).frequencyCap);
  if (wsCap.success) caps.push({ source: "workspace", cap: wsCap.data });
  const applicable = caps.filter((c) =>
    (c.cap.channels as readonly string[]).includes(args.channel),
  );
  if (applicable.length === 0) return null;
  const longest = Math.max(...applicable.map((c) => durationMs(c.cap.period)));
  const recent = await ctx.db.prisma.message.findMany({
    where: {
      customerId: args.customerId,
      channel: args.channel,
      createdAt: { gt: new Date(args.now - longest) },
      status: { in: ["PENDING", "SENT"] },
    },
    select: { createdAt: true },
  });
  const times = recent.map((m) => m.createdAt.getTime());
  for (const { source, cap } of applicable) {
    if (!frequencyCapAllows(cap, args.channel, times, args.now)) {
      const rule = `${source} frequency cap: ${describe(cap)} on ${args.channel}`;
      return {
        reason: `skipped by the ${rule}`,
        rule: {
          rule: "frequencyCap",
          source,
          channel: args.channel,
          max: cap.max,
          period: cap.period,
          recent: times.length,
        },
      };
    }
  }
  return null;
}

/** The workspace's quiet hours (Workspace.settings.limits.quietHours), cached for a few seconds. */
const quietCache = new Map<string, { at: number; value: QuietHours | null }>();
async function workspaceQuietHours(
  ctx: EngineContext,
  workspaceId: string,
): Promise<QuietHours | null> {
  const hit = quietCache.get(workspaceId);
  if (hit && Date.now() - hit.at < 5000) return hit.value;
  const ws = await ctx.db.prisma.workspace.findUnique({
    where: { id: workspaceId },
    select: { settings: true },
  });
  const parsed = QuietHours.safeParse(asRecord(asRecord(ws?.settings).limits).quietHours);
  const value = parsed.success ? parsed.data : null;
  quietCache.set(workspaceId, { at: Date.now(), value });
  return value;
}

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
  const qh = await workspaceQuietHours(ctx, args.workspaceId);
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
