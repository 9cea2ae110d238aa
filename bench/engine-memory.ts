// Redis memory per waiting customer: N runs parked on a 1-day wait, i.e. one delayed timer job
// each (the job data is { runId, seq, input }; the run's state lives in Postgres), measured as the
// growth of Redis `used_memory` on a dedicated redis-server; baseline: N delayed no-op jobs.
//   pnpm bench engine-memory [--customers 50000]
import { newRunId, runJobId, type RunJob } from "@postpath/engine";
import { Queue } from "bullmq";
import { arg, fmt, openBench } from "./_engine.ts";

function usedMemory(info: string): number {
  const m = /used_memory:(\d+)/.exec(info);
  return m ? Number(m[1]) : NaN;
}

export default async function main(args: string[]): Promise<void> {
  const n = arg(args, "customers", 50_000);
  const env = await openBench();
  try {
    const day = 24 * 3600_000;
    await env.ctx.queues.runs.waitUntilReady();
    const before = usedMemory(await env.redis.info("memory"));
    for (let i = 0; i < n; i += 2000) {
      await env.ctx.queues.runs.addBulk(
        Array.from({ length: Math.min(2000, n - i) }, (_, k) => {
          // Real run ids (newRunId()).
          const runId = newRunId();
          const job: RunJob = { runId, seq: 1, input: { kind: "timer", stepId: "wait-3-days" } };
          return { name: "timer", data: job, opts: { jobId: runJobId(job), delay: day + k } };
        }),
      );
    }
    const after = usedMemory(await env.redis.info("memory"));

    const q = new Queue("raw", { connection: env.redis, prefix: env.prefix });
    await q.waitUntilReady();
    const rb = usedMemory(await env.redis.info("memory"));
    for (let i = 0; i < n; i += 2000) {
      await q.addBulk(
        Array.from({ length: Math.min(2000, n - i) }, (_, k) => ({
          name: "t",
          data: {},
          opts: { delay: day + k },
        })),
      );
    }
    const ra = usedMemory(await env.redis.info("memory"));
    await q.close();
    console.log(
      `engine-memory: ${fmt(n)} customers waiting on a delayed timer job each (dedicated redis-server)`,
    );
    console.log(`  engine: ${fmt((after - before) / n)} bytes per waiting customer (goal ≤ 1,024)`);
    console.log(`  raw BullMQ delayed job with empty data: ${fmt((ra - rb) / n)} bytes`);
    console.log(
      "  plus, while runs move, completed jobs are kept for an hour up to 10,000 per queue (removeOnComplete): bounded, not per customer",
    );
  } finally {
    await env.close();
  }
}
