// issue 18: before publishing, the other live journeys a customer would enter at the same time
// (same event, or the same form sent): each sends its own messages, so the customer gets both.
import type { Prisma } from "@postpath/db";
import { parsePlan, triggerOf } from "@postpath/journey";
import type { Plan } from "@postpath/journey";

export type SameTrigger = {
  journeyId: string;
  name: string;
  /** What starts both: the event's name, or the form's. */
  on: string;
  /** False when either trigger filters the event: only customers matching both enter both. */
  certain: boolean;
};

type Trigger = { type: string; event: string | null; form: string | null; filtered: boolean };

function triggerFacts(plan: Plan): Trigger | null {
  let t;
  try {
    t = triggerOf(plan);
  } catch {
    return null;
  }
  const config = (t.config ?? {}) as { filters?: unknown; form?: unknown };
  return {
    type: t.type,
    event: t.event ?? null,
    form: t.type === "trigger.form" && typeof config.form === "string" ? config.form : null,
    filtered: Array.isArray(config.filters) && config.filters.length > 0,
  };
}

/** Live journeys of the workspace (other than `journeyId`) that `plan`'s trigger also starts. */
export async function sameTriggerJourneys(
  prisma: Prisma.TransactionClient,
  workspaceId: string,
  journeyId: string,
  plan: Plan,
): Promise<SameTrigger[]> {
  const mine = triggerFacts(plan);
  if (!mine || mine.event === null) return [];
  const others = await prisma.journeyVersion.findMany({
    where: {
      workspaceId,
      status: "LIVE",
      triggerType: mine.type,
      triggerEvent: mine.event,
      journeyId: { not: journeyId },
      journey: { status: "LIVE" },
    },
    select: { journeyId: true, plan: true, journey: { select: { name: true } } },
    orderBy: { publishedAt: "asc" },
    take: 20,
  });
  const found: SameTrigger[] = [];
  for (const other of others) {
    let theirs: Trigger | null;
    try {
      theirs = triggerFacts(parsePlan(other.plan));
    } catch {
      continue;
    }
    if (!theirs) continue;
    if (mine.type === "trigger.form" && theirs.form !== mine.form) continue;
    found.push({
      journeyId: other.journeyId,
      name: other.journey.name,
      on: mine.form !== null ? `the form “${mine.form}”` : `“${mine.event}”`,
      certain: !mine.filtered && !theirs.filtered,
    });
  }
  return found;
}
