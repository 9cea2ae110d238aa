// Redis memory per waiting customer, measured as the growth of Redis `used_memory` on a dedicated
// redis-server while N runs wait, scheduled the way the engine schedules them (`scheduleTimer`):
//   - a 3-day wait: the runs share timer bucket jobs (one delayed job per 20 ms of due time); the
//     customers' waits end 1 ms apart (they entered at 1,000 per second), then 20 ms apart (one
//     customer per bucket, the worst case);
//   - a wait under 2 s: each run has its own delayed timer job ({ runId, seq, input }; the run's
//     state lives in Postgres).
// Baseline: N delayed no-op BullMQ jobs with empty data.
//   pnpm bench engine-memory [--customers 50000]
import { newRunId, scheduleTimer } from "@postpath/engine";
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
    const { ctx } = env;
    const used = async () => usedMemory(await env.redis.info("memory"));
    await Promise.all([ctx.queues.runs.waitUntilReady(), ctx.queues.timers.waitUntilReady()]);
    const perCustomer = async (spacingMs: number, base: number) => {
      const before = await used();
      const batch: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        batch.push(
          scheduleTimer(
            ctx,
            { runId: newRunId(), seq: 1, stepId: "wait-3-days" },
            base + i * spacingMs,
          ),
        );
        if (batch.length === 2000) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);
      return ((await used()) - before) / n;
    };
    const day = 24 * 3600_000;
    const now = Date.now();
    const shared = await perCustomer(1, now + 3 * day);
    const alone = await perCustomer(ctx.timers.bucketMs, now + 4 * day);
    // Waits under directWithinMs get their own job: the same call, due within the next second.
    const own = await perCustomer(0, now + ctx.timers.directWithinMs / 2);

    const q = new Queue("raw", { connection: env.redis, prefix: env.prefix });
    await q.waitUntilReady();
    const rb = await used();
    for (let i = 0; i < n; i += 2000) {
      await q.addBulk(
        Array.from({ length: Math.min(2000, n - i) }, (_, k) => ({
          name: "t",
          data: {},
          opts: { delay: day + k },
        })),
      );
    }
    const raw = ((await used()) - rb) / n;
    await q.close();
    console.log(`engine-memory: ${fmt(n)} customers waiting (dedicated redis-server)`);
    console.log(
      `  engine, 3-day wait, waits ending 1 ms apart (timer buckets): ${fmt(shared)} bytes per waiting customer (goal ≤ 1,024)`,
    );
    console.log(
      `  engine, 3-day wait, one customer per ${ctx.timers.bucketMs} ms bucket (worst case): ${fmt(alone)} bytes`,
    );
    console.log(`  engine, wait under 2 s (own timer job): ${fmt(own)} bytes`);
    console.log(`  raw BullMQ delayed job with empty data: ${fmt(raw)} bytes`);
    console.log(
      "  plus, while runs move, completed jobs are kept for an hour up to 10,000 per queue (removeOnComplete): bounded, not per customer",
    );
  } finally {
    await env.close();
  }
}
