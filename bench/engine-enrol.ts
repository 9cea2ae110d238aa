// Bulk enrolment: N customers of a segment into a journey, through the product's bulk enrolment
// (JourneyRun rows plus the first job each, progress saved per page) — against raw BullMQ
// `addBulk` of the same number of jobs on the same Redis.
//   pnpm bench engine-enrol [--customers 100000] [--batch 2000] [--parallel 4]   (raw's batching)
// The goal is 1,000,000 in ≤ 60 s and ≥ 60% of raw; on a shared 2-core machine the
// default is scaled down and the figure extrapolated linearly (printed as such).
import {
  ENROL_BATCH,
  ENROL_PARALLEL,
  enrolmentProgress,
  newRunId,
  runEnrolment,
  runJobId,
  startEnrolment,
  type RunJob,
} from "@postpath/engine";
import { Queue } from "bullmq";
import os from "node:os";
import { cpuSince, cpuSnapshot } from "./_cpu.ts";
import { arg, createCustomers, fmt, openBench, publish } from "./_engine.ts";

export default async function main(args: string[]): Promise<void> {
  const n = arg(args, "customers", 100_000);
  const batch = arg(args, "batch", 2000);
  const parallel = arg(args, "parallel", 4);
  const env = await openBench();
  try {
    const { journeyId } = await publish(env, [
      { id: "t", type: "trigger.manual", next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    await createCustomers(env, n);

    // Raw baseline: addBulk of n jobs shaped like ours (ids of the same length), same batch size
    // and parallelism, on a queue of its own. Measured before and after ours (this machine's speed
    // drifts); the ratio uses the mean.
    const cpu: string[] = [];
    const rawAddBulk = async (name: string): Promise<number> => {
      const raw = new Queue<RunJob>(name, { connection: env.redis, prefix: env.prefix });
      const cpu0 = cpuSnapshot();
      const t = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: parallel }, async () => {
          for (;;) {
            const start = next;
            next += batch;
            if (start >= n) return;
            const jobs = Array.from({ length: Math.min(batch, n - start) }, () => {
              const job: RunJob = { runId: newRunId(), seq: 0, input: { kind: "entered" } };
              return { name: "entered", data: job, opts: { jobId: runJobId(job) } };
            });
            await raw.addBulk(jobs);
          }
        }),
      );
      const ms = performance.now() - t;
      cpu.push(`raw ${name.replace("raw-", "")}: ${cpuSince(cpu0, ms)}`);
      await raw.obliterate({ force: true });
      await raw.close();
      return ms;
    };
    const rawBeforeMs = await rawAddBulk("raw-before");

    // Ours: the product's bulk enrolment (what the API's "enrol a segment" starts): an Enrolment
    // row, then its job's work — pages of ENROL_BATCH customers, ENROL_PARALLEL at a time, each
    // page evaluated against the segment (every customer here has a tier), runs inserted, entry
    // jobs added, progress saved per page. Run here in-process, as the jobs worker would.
    const cpu0 = cpuSnapshot();
    const t = performance.now();
    const { enrolmentId } = await startEnrolment(env.ctx, {
      workspaceId: env.workspaceId,
      journeyId,
      criteria: {
        segment: { conditions: [{ property: "tier", op: "in", value: ["gold", "silver"] }] },
      },
    });
    await runEnrolment(env.ctx, enrolmentId);
    const oursMs = performance.now() - t;
    cpu.push(`enrolment: ${cpuSince(cpu0, oursMs)}`);
    const progress = await enrolmentProgress(env.ctx, env.workspaceId, enrolmentId);
    const jobs = await env.ctx.queues.runs.getJobCountByTypes("waiting", "prioritized");
    const rawAfterMs = await rawAddBulk("raw-after");
    const rawMs = (rawBeforeMs + rawAfterMs) / 2;
    const perSec = (x: number) => (n / x) * 1000;
    console.log(
      `engine-enrol: ${fmt(n)} customers; raw in batches of ${batch}, ${parallel} in parallel; the enrolment in pages of ${ENROL_BATCH}, ${ENROL_PARALLEL} in parallel`,
    );
    console.log(
      `  raw BullMQ addBulk of ${fmt(n)} jobs: ${fmt(rawBeforeMs / 1000, 2)} s before, ${fmt(rawAfterMs / 1000, 2)} s after; mean ${fmt(rawMs / 1000, 2)} s (${fmt(perSec(rawMs))} jobs/s)`,
    );
    console.log(
      `  bulk enrolment of a segment (rows + first jobs): ${fmt(oursMs / 1000, 2)} s (${fmt(perSec(oursMs))} customers/s); ${progress.status}, ${fmt(progress.done)} of ${fmt(progress.total)} done, ${fmt(progress.enrolled)} runs, ${fmt(jobs)} jobs waiting`,
    );
    console.log(`  ratio to raw: ${fmt((rawMs / oursMs) * 100, 1)}% of raw throughput`);
    console.log(`  CPU (% of one core of ${os.availableParallelism()}): ${cpu.join("; ")}`);
    if (n < 1_000_000)
      console.log(
        `  extrapolated to 1,000,000 customers (linear): ${fmt(((oursMs / n) * 1_000_000) / 1000, 0)} s (goal ≤ 60 s)`,
      );
    else console.log(`  goal for 1,000,000: ≤ 60 s and ≥ 60% of raw`);
  } finally {
    await env.close();
  }
}
