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
  const now = new Date(ctx.now());
  const detail = JSON.stringify({ reason });
  let total = 0;
  for (;;) {
    const filter =
      "journeyId" in where
        ? ctx.db.prisma.$queryRaw<{ n: bigint }[]>`
          WITH stopped AS (
            UPDATE "JourneyRun" SET status = 'EXITED', seq = seq + 1, "endedAt" = ${now}, "waitingUntil" = NULL, "parkedEvent" = NULL, "parkedKey" = NULL, "updatedAt" = ${now}
            WHERE id IN (SELECT id FROM "JourneyRun" WHERE "versionId" IN (SELECT id FROM "JourneyVersion" WHERE "journeyId" = ${where.journeyId})
                           AND status IN ('ACTIVE', 'WAITING') LIMIT 5000)
            RETURNING id, "currentStepId")
          , traced AS (INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at) SELECT id, "currentStepId", 'run.exited', ${detail}::jsonb, ${now} FROM stopped RETURNING 1)
          SELECT count(*) AS n FROM traced`
        : ctx.db.prisma.$queryRaw<{ n: bigint }[]>`
          WITH stopped AS (
            UPDATE "JourneyRun" SET status = 'EXITED', seq = seq + 1, "endedAt" = ${now}, "waitingUntil" = NULL, "parkedEvent" = NULL, "parkedKey" = NULL, "updatedAt" = ${now}
            WHERE id = ANY(${where.runIds}::text[]) AND status IN ('ACTIVE', 'WAITING')
            RETURNING id, "currentStepId")
          , traced AS (INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at) SELECT id, "currentStepId", 'run.exited', ${detail}::jsonb, ${now} FROM stopped RETURNING 1)
          SELECT count(*) AS n FROM traced`;
    const n = Number((await filter)[0]?.n ?? 0);
    total += n;
    if (n < 5000 || "runIds" in where) return total;
  }
}
