import { retriedOnConflict } from "./conflicts.ts";
import type { EngineContext } from "./context.ts";

/**
 * Exits runs in flight (batches of 5,000; a journey's runs are found through its versions, on the
 * (versionId, status, step) index): bumping `seq` makes any job already holding the old seq a
 * no-op, and pending outbox rows are skipped by the send worker.
 */
export async function exitRuns(
  ctx: EngineContext,
  where: { journeyId: string } | { runIds: string[] },
  reason: string,
): Promise<number> {
  const at = ctx.now() / 1000;
  const detail = JSON.stringify({ reason });
  const byJourney = "journeyId" in where;
  let total = 0;
  for (;;) {
    // A journey's runs are updated in whatever order the plan finds them, and a run commit of a
    // timer bucket (store.ts) updates up to 200 of them in its own: stopping a busy journey could
    // deadlock with it, and Postgres aborts one of the two. The commit retries its runs one by
    // one; this statement is tried again too, after a short pause, instead of failing the stop
    // (test issue-015-stop-retried).
    const [row] = await retriedOnConflict(
      () =>
        ctx.db.query<{ n: number }>(
          `WITH stopped AS (
           UPDATE "JourneyRun" SET status = 'EXITED', seq = seq + 1,
             "endedAt" = to_timestamp($2::float8) AT TIME ZONE 'UTC', "waitingUntil" = NULL,
             "parkedEvent" = NULL, "parkedKey" = NULL, "updatedAt" = to_timestamp($2::float8) AT TIME ZONE 'UTC'
           WHERE ${
             byJourney
               ? `id IN (SELECT id FROM "JourneyRun" WHERE "versionId" IN (SELECT id FROM "JourneyVersion" WHERE "journeyId" = $1)
                           AND status IN ('ACTIVE', 'WAITING') LIMIT 5000)`
               : `id = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING')`
           }
           RETURNING id, "currentStepId"
         ), traced AS (
           INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
           SELECT id, "currentStepId", 'run.exited', $3::jsonb, to_timestamp($2::float8) AT TIME ZONE 'UTC'
           FROM stopped RETURNING 1
         )
         SELECT count(*)::int AS n FROM traced`,
          [byJourney ? where.journeyId : where.runIds, at, detail],
        ),
      5,
      10,
    );
    const n = row?.n ?? 0;
    total += n;
    if (n < 5000 || !byJourney) return total;
  }
}
