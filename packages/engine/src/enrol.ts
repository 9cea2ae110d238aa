import { Prisma } from "@postpath/db";
import { initialState, parsePlan, type CustomerSnapshot } from "@postpath/journey";
import type { EngineContext } from "./context.ts";
import { runJobId, type RunJob } from "./queues.ts";

export interface EnrolResult {
  runId: string | null;
  /** Why no run was created, in words for the trace/log. */
  skipped?: string;
}

interface EntryRules {
  mode: "once" | "afterExit" | "cooldown";
  cooldownSeconds?: number;
  maxEntries?: number | null;
}

function entryRules(settings: unknown): EntryRules {
  const s = (settings ?? {}) as { entry?: Partial<EntryRules> };
  return { mode: s.entry?.mode ?? "once", cooldownSeconds: s.entry?.cooldownSeconds, maxEntries: s.entry?.maxEntries ?? null };
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}

/**
 * Enrols one customer into one published version. Entry rules are enforced by the
 * (journey, customer, entryNumber) and (journey, customer, triggerEvent) unique constraints:
 * two racing enrolments compute the same entry number and exactly one insert wins.
 */
export async function enrol(
  ctx: EngineContext,
  args: {
    workspaceId: string;
    journeyId: string;
    versionId: string;
    plan: unknown;
    customer: CustomerSnapshot;
    trigger: { eventId: string; name: string; properties: Record<string, unknown>; timestamp: number } | null;
  },
): Promise<EnrolResult> {
  const { prisma } = ctx.db;
  const plan = parsePlan(args.plan);
  const rules = entryRules(plan.settings);

  if (args.trigger) {
    const existing = await prisma.journeyRun.findUnique({
      where: { journeyId_customerId_triggerEventId: { journeyId: args.journeyId, customerId: args.customer.id, triggerEventId: args.trigger.eventId } },
      select: { id: true },
    });
    if (existing) return { runId: existing.id, skipped: "already enrolled by this event" };
  }

  const previous = await prisma.journeyRun.findFirst({
    where: { journeyId: args.journeyId, customerId: args.customer.id },
    orderBy: { entryNumber: "desc" },
    select: { entryNumber: true, status: true, endedAt: true },
  });
  if (previous) {
    if (rules.mode === "once") return { runId: null, skipped: "entry rule: enters once" };
    if (previous.status === "ACTIVE" || previous.status === "WAITING") return { runId: null, skipped: "entry rule: already in this journey" };
    if (rules.maxEntries && previous.entryNumber >= rules.maxEntries) return { runId: null, skipped: `entry rule: at most ${rules.maxEntries} entries` };
    if (rules.mode === "cooldown" && previous.endedAt && rules.cooldownSeconds) {
      const readyAt = previous.endedAt.getTime() + rules.cooldownSeconds * 1000;
      if (ctx.now() < readyAt) return { runId: null, skipped: `entry rule: cooling down until ${new Date(readyAt).toISOString()}` };
    }
  }
  const entryNumber = (previous?.entryNumber ?? 0) + 1;
  const runId = newRunId();
  const state = initialState(plan, {
    runId,
    customer: args.customer,
    trigger: args.trigger ? { name: args.trigger.name, properties: args.trigger.properties, timestamp: args.trigger.timestamp } : null,
  });
  try {
    await prisma.journeyRun.create({
      data: {
        id: runId,
        workspaceId: args.workspaceId,
        journeyId: args.journeyId,
        versionId: args.versionId,
        customerId: args.customer.id,
        entryNumber,
        status: "ACTIVE",
        currentStepId: plan.triggerStepId,
        state: state as unknown as Prisma.InputJsonValue,
        triggerEventId: args.trigger?.eventId ?? null,
      },
    });
  } catch (err) {
    if (isUniqueViolation(err)) return { runId: null, skipped: "entry rule: a concurrent enrolment won" };
    throw err;
  }
  const job: RunJob = { runId, seq: 0, input: { kind: "entered" } };
  await ctx.queues.runs.add("entered", job, { jobId: runJobId(job) });
  return { runId };
}

/** Run ids are made here (not by Postgres) so the initial state can carry its own id. */
export function newRunId(): string {
  return `r${Date.now().toString(36)}${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
}
