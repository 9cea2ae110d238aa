import type { EngineContext } from "./context.ts";
import { addUnlessPending, parseJobData, runJobId, type RunJob } from "./queues.ts";
import { ensureFollowUps, processRunJob } from "./runner.ts";
import { RUN_ROW_COLUMNS, runStore, type RunRow } from "./store.ts";
import { TimerBucketJob, timerBucketJobId } from "./timers.ts";

interface DueRow extends RunRow {
  step: string | null;
  at: string;
}

/** `YYYY-MM-DDTHH:MM:SS.mmm` for a `timestamp` (UTC) column; exact to the millisecond. */
const iso = (ms: number) => new Date(ms).toISOString().slice(0, -1);

export interface BucketOutcome {
  /** Runs of this page that were due. */
  runs: number;
  applied: number;
  /** Runs whose journey is paused: handed to their own job, which waits for the resume. */
  held: number;
  /** Set when the bucket went on in a continuation job. */
  continued?: string;
}

/**
 * Applies the timer to every run of one page of a bucket. Runs go through `processRunJob`, many at
 * once, so the run store batches their reads and commits. A run that fails leaves the page's job to
 * fail after the others are done; its retry finds only the runs still waiting, so each failed run
 * is also handed its own run job.
 */
export async function processTimerBucket(
  ctx: EngineContext,
  data: unknown,
  opts: { inFlight: number; pausePollMs: number },
): Promise<BucketOutcome> {
  const bucket = parseJobData(TimerBucketJob, data, "timer bucket");
  const { pageSize } = ctx.timers;
  const rows = await ctx.db.query<DueRow>(
    // The whole row, as the run store would load it: the runs need no second read.
    `SELECT ${RUN_ROW_COLUMNS}, r."currentStepId" AS step,
            to_char(r."waitingUntil", 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at
     FROM "JourneyRun" r JOIN "Journey" j ON j.id = r."journeyId"
     WHERE r.status = 'WAITING' AND r."waitingUntil" > $1::timestamp AND r."waitingUntil" <= $2::timestamp
       AND (r."waitingUntil", r.id) > ($3::timestamp, $4::text)
     ORDER BY r."waitingUntil", r.id
     LIMIT $5`,
    [
      iso(bucket.from),
      iso(bucket.to),
      bucket.after?.at ?? iso(bucket.from),
      bucket.after?.id ?? "",
      pageSize,
    ],
    { prepare: "engine.dueRuns" },
  );
  const outcome: BucketOutcome = { runs: rows.length, applied: 0, held: 0 };
  const last = rows.at(-1);
  if (rows.length === pageSize && last) {
    // Before this page's work, so another worker can take the next page meanwhile.
    const next: TimerBucketJob = { ...bucket, after: { at: last.at, id: last.id } };
    outcome.continued = timerBucketJobId(next);
    await runStore(ctx).enqueue("timers", "timers", next, { jobId: outcome.continued });
  }
  const failures: unknown[] = [];
  let i = 0;
  const lane = async () => {
    while (i < rows.length) {
      const row = rows[i++]!;
      if (!row.step) continue; // a waiting run always has a step
      const job: RunJob = {
        runId: row.id,
        seq: row.seq,
        input: { kind: "timer", stepId: row.step },
      };
      try {
        const result = await processRunJob(ctx, job, row);
        if (result === "applied") outcome.applied++;
        else if (result === "unchanged") {
          // Not due by this process's clock (another one fired the bucket early): its own job
          // (replacing a finished one of the same id, as recovery does).
          await ensureFollowUps(ctx, row.id, { recover: true });
        } else if (result === "paused") {
          outcome.held++;
          await addUnlessPending(ctx.queues.runs, "timer", job, {
            jobId: runJobId(job),
            delay: opts.pausePollMs,
          });
        }
      } catch (err) {
        failures.push(err);
        // Its own job too: the bucket's retry reads only the runs still waiting, so a run whose
        // transition committed before the failure (its segment check or follow-ups not queued)
        // would not be offered again. The job finds it moved on and queues what was left undone
        // (runner.ts, the stale path); a run that did not move gets its timer from whichever of
        // the job and the retry commits first (seq-guarded).
        await addUnlessPending(ctx.queues.runs, "timer", job, { jobId: runJobId(job) }).catch(
          (e: unknown) =>
            ctx.log.warn(
              { runId: row.id, err: e instanceof Error ? e.message : String(e) },
              "could not hand a failed due run its own job; the bucket's retry and the sweeper remain",
            ),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.inFlight, rows.length) }, lane));
  if (failures.length) {
    const first = failures[0];
    throw new Error(
      `${failures.length} of ${rows.length} due runs failed (retried with the bucket): ${first instanceof Error ? first.message : String(first)}`,
      { cause: first },
    );
  }
  return outcome;
}
