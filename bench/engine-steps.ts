// Step throughput of one worker process on a wait → split → attribute-update journey, against raw
// no-op BullMQ processing of the same number of jobs at the same concurrency, same Redis.
//   pnpm bench engine-steps [--runs 50000] [--concurrency 50]
import { enrolMany, startWorkers } from "@postpath/engine";
import { Queue, Worker } from "bullmq";
import os from "node:os";
import { cpuSince, cpuSnapshot } from "./_cpu.ts";
import { arg, createCustomers, fmt, openBench, publish } from "./_engine.ts";

export default async function main(args: string[]): Promise<void> {
  const n = arg(args, "runs", 50_000);
  const concurrency = arg(args, "concurrency", 50);
  const env = await openBench();
  try {
    const { journeyId, versionId } = await publish(env, [
      { id: "t", type: "trigger.manual", next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 0, unit: "seconds" }, next: "s" },
      {
        id: "s",
        type: "split.condition",
        data: { conditions: [{ property: "tier", op: "eq", value: "gold" }] },
        next: { yes: "a", no: "b" },
      },
      { id: "a", type: "action.attribute", data: { set: { gold_welcome: true } }, next: "x" },
      { id: "b", type: "action.attribute", data: { set: { silver_welcome: true } }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    await createCustomers(env, n);
    const customers = (
      await env.db.prisma.customer.findMany({
        where: { workspaceId: env.workspaceId },
        select: { id: true },
      })
    ).map((c) => c.id);
    for (let i = 0; i < customers.length; i += 2000) {
      await enrolMany(env.ctx, {
        workspaceId: env.workspaceId,
        journeyId,
        versionId,
        customerIds: customers.slice(i, i + 2000),
        trigger: { eventId: "bench", name: "enrolled", properties: {}, timestamp: Date.now() },
      });
    }

    // Raw: the same number of jobs, a no-op processor, the same concurrency. Measured before and
    // after the engine (this machine's speed drifts); the ratio uses their mean.
    const cpu: string[] = [];
    const rawNoop = async (jobs: number, name: string): Promise<number> => {
      const q = new Queue(name, { connection: env.redis, prefix: env.prefix });
      for (let i = 0; i < jobs; i += 2000) {
        await q.addBulk(
          Array.from({ length: Math.min(2000, jobs - i) }, (_, k) => ({
            name: "noop",
            data: { runId: `r${i + k}`, seq: 0 },
            opts: { removeOnComplete: { count: 10_000 } },
          })),
        );
      }
      let processed = 0;
      const cpu0 = cpuSnapshot();
      const t1 = performance.now();
      const raw = new Worker(name, () => Promise.resolve(), {
        connection: env.redis,
        prefix: env.prefix,
        concurrency,
      });
      await new Promise<void>((resolve) =>
        raw.on("completed", () => ++processed >= jobs && resolve()),
      );
      const ms = performance.now() - t1;
      cpu.push(`raw ${name.replace("noop-", "")}: ${cpuSince(cpu0, ms)}`);
      await raw.close();
      await q.obliterate({ force: true });
      await q.close();
      return (jobs / ms) * 1000;
    };
    const rawBefore = await rawNoop(2 * n, "noop-before");

    // Ours: one worker (this process), run jobs until every run has completed.
    let runJobs = 0;
    const cpu0 = cpuSnapshot();
    const t0 = performance.now();
    const workers = startWorkers(env.ctx, {
      connection: env.redis,
      prefix: env.prefix,
      concurrency,
      dateTriggerEveryMs: 0,
      sweepEveryMs: 0,
    });
    // The clock stops at the last run job's completion (not at the poll that notices it).
    let lastDone = t0;
    workers.workers
      .find((w) => w.name === "runs")!
      .on("completed", () => {
        runJobs++;
        lastDone = performance.now();
      });
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      const done = await env.db.prisma.journeyRun.count({
        where: { journeyId, status: "COMPLETED" },
      });
      if (done >= n) break;
    }
    const oursMs = lastDone - t0;
    cpu.push(`engine: ${cpuSince(cpu0, performance.now() - t0)}`);
    await workers.close();

    // Steps executed, from the engine's own per-step counters (every step a run entered).
    const [counted] = await env.db.query<{ steps: number }>(
      `SELECT COALESCE(sum(entered), 0)::int AS steps FROM "StepCounter" WHERE "versionId" = $1`,
      [versionId],
    );
    const steps = counted?.steps ?? 0;
    const ours = (runJobs / oursMs) * 1000;
    const stepRate = (steps / oursMs) * 1000;
    const rawAfter = await rawNoop(runJobs, "noop-after");
    const base = (rawBefore + rawAfter) / 2;
    console.log(
      `engine-steps: ${fmt(n)} runs of trigger → wait → split → attribute → exit, one worker process, concurrency ${concurrency}`,
    );
    console.log(
      `  engine: ${fmt(steps)} steps in ${fmt(runJobs)} run jobs in ${fmt(oursMs / 1000, 2)} s = ${fmt(stepRate)} steps/s, ${fmt(ours)} run jobs/s (${fmt((n * 1000) / oursMs)} runs/s)`,
    );
    console.log(
      `  raw BullMQ no-op, ${fmt(runJobs)} jobs: ${fmt(rawBefore)} jobs/s before, ${fmt(rawAfter)} after; mean ${fmt(base)} jobs/s`,
    );
    console.log(
      `  step throughput: ${fmt((stepRate / base) * 100, 1)}% of raw no-op jobs/s (goal ≥ 50%); per job: ${fmt((ours / base) * 100, 1)}% (a run job here executes ${fmt(steps / runJobs, 1)} steps and adds the next job)`,
    );
    console.log(`  CPU (% of one core of ${os.availableParallelism()}): ${cpu.join("; ")}`);
  } finally {
    await env.close();
  }
}
