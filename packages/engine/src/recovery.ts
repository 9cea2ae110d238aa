// After Redis comes back, the waits that fell due while it was gone must not wait for the sweeper
// (every 15 s, 60 s grace): their timer jobs are re-created at once from Postgres, one addBulk per
// page of runs. A job that survived in Redis keeps its id, so the one re-created for it is not
// added (job ids are derived from run and seq), and a transition is guarded by the run's seq.
// A finished job under the same id (a run the timer already woke at that seq) is left alone here;
// the sweeper's addUnlessPending replaces such jobs after its grace period if the run still waits.
import type { EngineContext } from "./context.ts";
import { runJobId, type RunJob } from "./queues.ts";

/** Runs taken per page; pages follow each other until none is left overdue. */
const PAGE = 1000;

/**
 * Re-creates the timer job of every run whose wait ended before now (paused journeys keep theirs
 * held). Returns how many runs it handled.
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
    const page: {
      id: string;
      seq: number;
      currentStepId: string | null;
      waitingUntil: Date | null;
    }[] = await prisma.journeyRun.findMany({
      where: {
        status: "WAITING",
        waitingUntil: { lt: now },
        currentStepId: { not: null },
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
      select: { id: true, seq: true, currentStepId: true, waitingUntil: true },
      take: PAGE,
    });
    if (page.length === 0) break;
    await ctx.queues.runs.addBulk(
      page.map((r) => {
        const data: RunJob = {
          runId: r.id,
          seq: r.seq,
          input: { kind: "timer", stepId: r.currentStepId! },
        };
        return { name: "timer", data, opts: { jobId: runJobId(data) } };
      }),
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
