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
export async function resumeOverdueWaits(ctx: EngineContext, pageSize = PAGE): Promise<number> {
  const { prisma } = ctx.db;
  const now = new Date(ctx.now());
  const paused = await prisma.journey.findMany({
    where: { status: "PAUSED" },
    select: { id: true },
  });
  let handled = 0;
  // Raw SQL with the status as a literal, so Postgres reads the partial index of waiting runs (a
  // status passed as a parameter, as Prisma does, cannot match its predicate). Keyset pages: the
  // due time comes back as text and goes back as it came.
  let after: { waitingUntil: string; id: string } | null = null;
  for (;;) {
    const page: {
      id: string;
      seq: number;
      currentStepId: string;
      waitingUntil: string;
    }[] = await ctx.db.query(
      `SELECT id, seq, "currentStepId", "waitingUntil"::text AS "waitingUntil" FROM "JourneyRun"
       WHERE status = 'WAITING' AND "waitingUntil" < $1::timestamp AND "currentStepId" IS NOT NULL
         AND NOT ("journeyId" = ANY($2::text[]))
         AND ($3::timestamp IS NULL OR ("waitingUntil", id) > ($3::timestamp, $4::text))
       ORDER BY "waitingUntil", id LIMIT $5`,
      [
        now.toISOString().slice(0, -1), // the column is a UTC timestamp
        paused.map((j) => j.id),
        after?.waitingUntil ?? null,
        after?.id ?? "",
        pageSize,
      ],
      { prepare: "engine.overdueWaits" },
    );
    if (page.length === 0) break;
    await ctx.queues.runs.addBulk(
      page.map((r) => {
        const data: RunJob = {
          runId: r.id,
          seq: r.seq,
          input: { kind: "timer", stepId: r.currentStepId },
        };
        return { name: "timer", data, opts: { jobId: runJobId(data) } };
      }),
    );
    handled += page.length;
    const last = page[page.length - 1]!;
    after = { waitingUntil: last.waitingUntil, id: last.id };
    if (page.length < pageSize) break;
  }
  if (handled)
    ctx.log.info({ runs: handled }, "Redis is back: re-created the timers of overdue waits");
  return handled;
}
