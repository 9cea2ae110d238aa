// After Redis comes back, the waits that fell due while it was gone must not wait for the sweeper
// (every 15 s, 60 s grace): their timer jobs are re-created at once from Postgres. A job that
// survived in Redis (AOF) makes the re-created one a no-op (job ids are derived from run and seq,
// and a transition is guarded by the run's seq).
import type { EngineContext } from "./context.ts";
import { ensureFollowUps } from "./runner.ts";

/** Runs taken per page; pages follow each other until none is left overdue. */
const PAGE = 500;

/**
 * Re-creates the follow-up job of every run whose wait ended before now (paused journeys keep
 * theirs held). Returns how many runs it handled.
 */
export async function resumeOverdueWaits(ctx: EngineContext): Promise<number> {
  const { prisma } = ctx.db;
  const now = new Date(ctx.now());
  const paused = await prisma.journey.findMany({
    where: { status: "PAUSED" },
    select: { id: true },
  });
  let handled = 0;
  let after: { waitingUntil: Date; id: string } | null = null;
  for (;;) {
    const page: { id: string; waitingUntil: Date | null }[] = await prisma.journeyRun.findMany({
      where: {
        status: "WAITING",
        waitingUntil: { lt: now },
        ...(paused.length ? { journeyId: { notIn: paused.map((j) => j.id) } } : {}),
        ...(after
          ? {
              OR: [
                { waitingUntil: { gt: after.waitingUntil } },
                { waitingUntil: after.waitingUntil, id: { gt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ waitingUntil: "asc" }, { id: "asc" }],
      select: { id: true, waitingUntil: true },
      take: PAGE,
    });
    if (page.length === 0) break;
    // A few at a time: each is a read and an add.
    for (let i = 0; i < page.length; i += 20)
      await Promise.all(
        page.slice(i, i + 20).map((r) => ensureFollowUps(ctx, r.id, { recover: true })),
      );
    handled += page.length;
    const last = page[page.length - 1]!;
    after = { waitingUntil: last.waitingUntil ?? now, id: last.id };
    if (page.length < PAGE) break;
  }
  if (handled)
    ctx.log.info({ runs: handled }, "Redis is back: re-created the timers of overdue waits");
  return handled;
}
