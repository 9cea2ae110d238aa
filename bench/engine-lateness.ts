// Lateness of scheduled steps: N runs waiting on timers that fall due at --rate per second, the
// engine's worker executing each due step (advance + commit); p50/p99/max of (step committed −
// due) and of (job started − due). Baseline: raw BullMQ delayed no-op jobs with the same due
// times on the same Redis.
//   pnpm bench engine-lateness [--rate 10000] [--seconds 1] [--concurrency 100] [--processes 1]
// --processes N runs N worker processes (this one and N − 1 children, each at --concurrency),
// as a deployment scales out: more worker processes on the same Redis and Postgres.
import type { Prisma } from "@postpath/db";
import { startWorkers, runJobId, toSnapshot, type RunJob } from "@postpath/engine";
import { advance, initialState, parsePlan } from "@postpath/journey";
import { Queue, Worker, type Job } from "bullmq";
import { spawn } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { cpuSince, cpuSnapshot } from "./_cpu.ts";
import {
  arg,
  createCustomers,
  fmt,
  openBench,
  percentile,
  publish,
  type BenchEnv,
} from "./_engine.ts";
import type { WorkerReport } from "./_lateness-worker.ts";

function summary(label: string, xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${label}: p50 ${fmt(percentile(s, 50))} ms, p99 ${fmt(percentile(s, 99))} ms, max ${fmt(s.at(-1) ?? NaN)} ms`;
}

export default async function main(args: string[]): Promise<void> {
  const rate = arg(args, "rate", 10_000);
  const seconds = arg(args, "seconds", 1);
  const concurrency = arg(args, "concurrency", 100);
  const processes = Math.max(1, arg(args, "processes", 1));
  const n = Math.round(rate * seconds);
  const env = await openBench();
  try {
    const { journeyId, versionId } = await publish(env, [
      { id: "t", type: "trigger.manual", next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "a" },
      { id: "a", type: "action.attribute", data: { set: { reminded: true } }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const v = await env.db.prisma.journeyVersion.findUniqueOrThrow({ where: { id: versionId } });
    const plan = parsePlan(v.plan);
    // Warm-up runs (not measured) fall due 3 to 2 s before the measured ones, so the worker has
    // opened its connections and prepared its statements: the figures are the steady state. (A
    // cold worker's first ~0.5 s of due timers start up to ~400 ms late.)
    const w = Math.min(1000, Math.ceil(n / 10));
    await createCustomers(env, n + w);
    const customers = (
      await env.db.prisma.customer.findMany({
        where: { workspaceId: env.workspaceId },
        orderBy: { id: "asc" },
      })
    ).map(toSnapshot);

    const lead = 13_000 + (n + w) * 0.5; // time to insert rows and jobs before the first falls due
    const t0 = Date.now() + lead;
    const dueOf = (i: number) =>
      i < w ? t0 - 3000 + Math.floor((i / w) * 1000) : t0 + Math.floor(((i - w) / rate) * 1000);
    // Runs already waiting at "w" (state made by advance() itself), rows + timer jobs.
    const rows: Prisma.JourneyRunCreateManyInput[] = customers.map((c, i) => {
      const id = `rl${i}`;
      const entered = advance(
        plan,
        initialState(plan, { runId: id, customer: c }),
        { kind: "entered" },
        dueOf(i) - 3600_000,
      ).nextState;
      return {
        id,
        workspaceId: env.workspaceId,
        journeyId,
        versionId,
        customerId: c.id,
        entryNumber: 1,
        status: "WAITING",
        seq: 1,
        currentStepId: "w",
        waitingUntil: new Date(dueOf(i)),
        state: entered as unknown as Prisma.InputJsonValue,
      };
    });
    for (let i = 0; i < rows.length; i += 2000)
      await env.db.prisma.journeyRun.createMany({ data: rows.slice(i, i + 2000) });
    const due = new Map<string, number>();
    for (let i = 0; i < rows.length; i += 2000) {
      await env.ctx.queues.runs.addBulk(
        rows.slice(i, i + 2000).map((r, k) => {
          const job: RunJob = { runId: r.id!, seq: 1, input: { kind: "timer", stepId: "w" } };
          if (i + k >= w) due.set(runJobId(job), dueOf(i + k));
          return {
            name: "timer",
            data: job,
            opts: { jobId: runJobId(job), delay: dueOf(i + k) - Date.now() },
          };
        }),
      );
    }
    const started: number[] = [];
    const finished: number[] = [];
    const record = (id: string, processedOn: number, finishedOn: number) => {
      const d = due.get(id);
      if (d === undefined) return;
      started.push(processedOn - d);
      finished.push(finishedOn - d);
    };
    const children = await Promise.all(
      Array.from({ length: processes - 1 }, () => startChild(env, concurrency, record)),
    );
    const pids = children.map((c) => c.pid);
    if (Date.now() > t0 - 3000)
      console.log(
        "  (warning: set-up overran the lead time; the warm-up overlaps the measurement)",
      );
    // The CPU split covers the measured timers only: from the first one's due time to the last
    // one's completion.
    let cpu0: ReturnType<typeof cpuSnapshot> = null;
    const atT0 = setTimeout(() => (cpu0 = cpuSnapshot(pids)), Math.max(0, t0 - Date.now()));
    const workers = startWorkers(env.ctx, {
      connection: env.redis,
      prefix: env.prefix,
      concurrency,
      dateTriggerEveryMs: 0,
      sweepEveryMs: 0,
    });
    workers.workers
      .find((w) => w.name === "runs")!
      .on("completed", (job: Job) =>
        record(job.id ?? "", job.processedOn ?? 0, job.finishedOn ?? Date.now()),
      );
    while (finished.length < n) await new Promise((r) => setTimeout(r, 20));
    const cpu = cpuSince(cpu0, Date.now() - t0, pids);
    clearTimeout(atT0);
    await workers.close();
    await Promise.all(children.map((c) => c.stop()));
    const done = await env.db.prisma.journeyRun.count({
      where: { journeyId, status: "COMPLETED" },
    });

    // Raw: delayed no-op jobs with the same due times.
    const q = new Queue("raw-delayed", { connection: env.redis, prefix: env.prefix });
    const r0 = Date.now() + lead;
    const rawDue = (i: number) => r0 + Math.floor((i / rate) * 1000);
    for (let i = 0; i < n; i += 2000) {
      await q.addBulk(
        Array.from({ length: Math.min(2000, n - i) }, (_, k) => ({
          name: "t",
          data: { i: i + k, due: rawDue(i + k) },
          opts: { delay: rawDue(i + k) - Date.now(), removeOnComplete: { count: 100_000 } },
        })),
      );
    }
    const rawLate: number[] = [];
    const raw = new Worker("raw-delayed", () => Promise.resolve(), {
      connection: env.redis,
      prefix: env.prefix,
      concurrency,
    });
    raw.on("completed", (job: Job<{ due: number }>) =>
      rawLate.push((job.finishedOn ?? Date.now()) - job.data.due),
    );
    while (rawLate.length < n) await new Promise((r) => setTimeout(r, 200));
    await raw.close();
    await q.close();

    console.log(
      `engine-lateness: ${fmt(n)} timers falling due at ${fmt(rate)}/s over ${seconds} s (after ${fmt(w)} warm-up timers), ${processes === 1 ? "one worker process" : `${processes} worker processes`}, concurrency ${concurrency}${processes === 1 ? "" : " each"}; ${fmt(done - w)} runs completed`,
    );
    console.log(`  ${summary("engine, step committed − due", finished)}`);
    console.log(`  ${summary("engine, job started − due  ", started)}`);
    console.log(`  ${summary("raw BullMQ no-op, done − due", rawLate)} (one process)`);
    console.log("  goal: p99 ≤ 150 ms, max ≤ 1 s");
    console.log(
      `  CPU while the measured timers ran (% of one core of ${os.availableParallelism()}): ${cpu}`,
    );
  } finally {
    await env.close();
  }
}

/** A child worker process on the benchmark's Redis and Postgres, reporting finished run jobs. */
async function startChild(
  env: BenchEnv,
  concurrency: number,
  record: (id: string, processedOn: number, finishedOn: number) => void,
): Promise<{ pid: number; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL("./_lateness-worker.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", script, env.db.url, env.redisUrl, env.prefix, String(concurrency)],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`worker process exited (${code})`)));
    child.on("message", (msg: WorkerReport | "ready") => {
      if (msg === "ready") resolve();
      else record(msg.id, msg.processedOn, msg.finishedOn);
    });
  });
  child.removeAllListeners("exit");
  return {
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.send("stop");
      }),
  };
}
