// Lateness of scheduled steps: N runs waiting on timers that fall due at --rate per second, the
// engine's worker executing each due step (advance + commit). The waits are scheduled the way the
// engine schedules them (`scheduleTimer`: one delayed job per timer bucket of --bucket ms) and
// woken by the product's workers. p50/p99/max of (step committed − due), from the step's trace
// time, and of (the bucket's last job finished − due), an upper bound for each run. Baseline:
// raw BullMQ delayed no-op jobs, one per timer, with the same due times on the same Redis.
//   pnpm bench engine-lateness [--rate 10000] [--seconds 1] [--concurrency 200] [--processes 1]
//                              [--bucket 50]
// --processes N runs N worker processes (this one and N − 1 children, each at --concurrency),
// as a deployment scales out: more worker processes on the same Redis and Postgres.
import type { Prisma } from "@postpath/db";
import {
  DEFAULT_TIMERS,
  scheduleTimer,
  startWorkers,
  timerBucket,
  toSnapshot,
  type BucketOutcome,
  type TimerBucketJob,
} from "@postpath/engine";
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
import { report, type WorkerReport } from "./_lateness-report.ts";

/**
 * The run commit statement's totals in this database so far (pg_stat_statements, every worker
 * process's commits): calls, runs moved (rows answered) and Postgres execution time (ms; the
 * commit's WAL flush and the round trip come on top). Null where the extension is not loaded.
 */
async function commitStatements(
  env: BenchEnv,
): Promise<{ calls: number; rows: number; ms: number } | null> {
  try {
    const [r] = await env.db.query<{ calls: number; rows: number; ms: number }>(
      `SELECT coalesce(sum(calls), 0)::float8 AS calls, coalesce(sum(rows), 0)::float8 AS rows,
              coalesce(sum(total_exec_time), 0)::float8 AS ms
       FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND query LIKE 'WITH upd AS%' AND query LIKE '%INSERT INTO "RunTrace"%'`,
    );
    return r ?? null;
  } catch {
    return null;
  }
}

function summary(label: string, xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${label}: p50 ${fmt(percentile(s, 50))} ms, p99 ${fmt(percentile(s, 99))} ms, max ${fmt(s.at(-1) ?? NaN)} ms`;
}

export default async function main(args: string[]): Promise<void> {
  const rate = arg(args, "rate", 10_000);
  const seconds = arg(args, "seconds", 1);
  const concurrency = arg(args, "concurrency", 200);
  const processes = Math.max(1, arg(args, "processes", 1));
  const bucketMs = arg(args, "bucket", DEFAULT_TIMERS.bucketMs);
  const n = Math.round(rate * seconds);
  const env = await openBench({ bucketMs });
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
    // `t0` moves later when the set-up overruns the lead (a loaded machine): a timer scheduled
    // less than `directWithinMs` ahead would get a run job of its own instead of a bucket.
    let t0 = Date.now() + lead;
    const dueOf = (i: number) =>
      i < w ? t0 - 3000 + Math.floor((i / w) * 1000) : t0 + Math.floor(((i - w) / rate) * 1000);
    // Runs already waiting at "w" (state made by advance() itself): rows, then their timers.
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
    // Room for the vacuum and the scheduling below before the warm-up's first bucket (due t0 − 3 s)
    // must be at least `directWithinMs` ahead: else every due time moves later (the states keep
    // the earlier time; a wait past its due time is applied all the same).
    const latest = Date.now() + 8000 + (n + w) * 0.05;
    if (latest > t0) {
      const shift = Math.ceil(latest - t0);
      await env.db.query(
        `UPDATE "JourneyRun" SET "waitingUntil" = "waitingUntil" + make_interval(secs => $1::float8 / 1000) WHERE "journeyId" = $2`,
        [shift, journeyId],
      );
      t0 += shift;
      console.log(`  (set-up overran the lead time: due times moved ${fmt(shift)} ms later)`);
    }
    // The tables were bulk-loaded just now: vacuum and analyze them here, as autovacuum would
    // within the minute, rather than have it start during the measured second.
    await env.db.exec(`VACUUM ANALYZE "JourneyRun", "Customer"`);
    for (let i = 0; i < rows.length; i++)
      await scheduleTimer(env.ctx, { runId: rows[i]!.id!, seq: 1, stepId: "w" }, dueOf(i));
    // Per bucket: when its first job started and its last one finished, and the runs it woke.
    const buckets = new Map<string, { start: number; finish: number; applied: number }>();
    let applied = 0;
    const record = (r: WorkerReport) => {
      const key = `${r.bucket.from}-${r.bucket.to}`;
      const b = buckets.get(key) ?? { start: Infinity, finish: 0, applied: 0 };
      b.start = Math.min(b.start, r.processedOn);
      b.finish = Math.max(b.finish, r.finishedOn);
      b.applied += r.applied;
      buckets.set(key, b);
      applied += r.applied;
    };
    const children = await Promise.all(
      Array.from({ length: processes - 1 }, () => startChild(env, concurrency, bucketMs, record)),
    );
    const pids = children.map((c) => c.pid);
    if (Date.now() > t0 - 3000)
      console.log(
        "  (warning: set-up overran the lead time; the warm-up overlaps the measurement)",
      );
    // The CPU split covers the measured timers only: from the first one's due time to the last
    // one's completion.
    // The commit statement's figures likewise (pg_stat_statements, when the server loads it).
    const statements = await env.db
      .exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
      .then(() => commitStatements(env))
      .catch(() => null);
    let cpu0: ReturnType<typeof cpuSnapshot> = null;
    let stmts0: Promise<Awaited<ReturnType<typeof commitStatements>>> = Promise.resolve(null);
    const atT0 = setTimeout(
      () => {
        cpu0 = cpuSnapshot(pids);
        if (statements) stmts0 = commitStatements(env);
      },
      Math.max(0, t0 - Date.now()),
    );
    const workers = startWorkers(env.ctx, {
      connection: env.redis,
      prefix: env.prefix,
      concurrency,
      dateTriggerEveryMs: 0,
      sweepEveryMs: 0,
    });
    workers.workers
      .find((w) => w.name === "timers")!
      .on("completed", (job: Job<TimerBucketJob, BucketOutcome>) => record(report(job)));
    while (applied < n + w) await new Promise((r) => setTimeout(r, 20));
    const cpu = cpuSince(cpu0, Date.now() - t0, pids);
    const measuredMs = Date.now() - t0;
    clearTimeout(atT0);
    const [s0, s1] = await Promise.all([stmts0, commitStatements(env)]);
    await workers.close();
    await Promise.all(children.map((c) => c.stop()));
    const done = await env.db.prisma.journeyRun.count({
      where: { journeyId, status: "COMPLETED" },
    });
    // Each measured run: its step's commit (the trace's time: the committing transaction's start)
    // and its bucket's last job finishing, against its due time.
    const traced = await env.db.query<{ runId: string; at: number }>(
      `SELECT "runId", extract(epoch FROM at)::float8 * 1000 AS at FROM "RunTrace" WHERE "stepId" = 'a'`,
    );
    const tracedAt = new Map(traced.map((t) => [t.runId, t.at]));
    const committed: number[] = [];
    const finished: number[] = [];
    const started: number[] = [];
    for (let i = w; i < rows.length; i++) {
      const due = dueOf(i);
      const b = timerBucket(due, bucketMs);
      const stats = buckets.get(`${b.from}-${b.to}`);
      const at = tracedAt.get(rows[i]!.id!);
      if (!stats || at === undefined) throw new Error(`run ${rows[i]!.id} was not woken`);
      committed.push(at - due);
      finished.push(stats.finish - due);
      started.push(stats.start - due);
    }

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
      `engine-lateness: ${fmt(n)} timers falling due at ${fmt(rate)}/s over ${seconds} s (after ${fmt(w)} warm-up timers), ${processes === 1 ? "one worker process" : `${processes} worker processes`}, concurrency ${concurrency}${processes === 1 ? "" : " each"}, buckets of ${bucketMs} ms (${fmt(buckets.size)} bucket jobs); ${fmt(done - w)} runs completed`,
    );
    console.log(`  ${summary("engine, step committed − due       ", committed)}`);
    console.log(`  ${summary("engine, bucket's jobs finished − due", finished)}`);
    console.log(`  ${summary("engine, bucket's job started − due ", started)}`);
    console.log(`  ${summary("raw BullMQ no-op, done − due", rawLate)} (one process)`);
    console.log("  goal: p99 ≤ 150 ms, max ≤ 1 s");
    console.log(
      `  CPU while the measured timers ran (% of one core of ${os.availableParallelism()}): ${cpu}`,
    );
    if (s0 && s1 && s1.calls > s0.calls) {
      const calls = s1.calls - s0.calls;
      const moved = s1.rows - s0.rows;
      const ms = s1.ms - s0.ms;
      console.log(
        `  run commit statement while the measured timers ran: ${fmt(calls)} commits, ${fmt(moved / calls, 1)} runs per commit, ${fmt(ms / calls, 2)} ms of Postgres execution per commit (${fmt((ms / moved) * 1000, 0)} µs per run), ${fmt((ms / measuredMs) * 100)}% of one core`,
      );
    } else console.log("  run commit statement: unavailable (pg_stat_statements not loaded)");
  } finally {
    await env.close();
  }
}

/** A child worker process on the benchmark's Redis and Postgres, reporting finished bucket jobs. */
async function startChild(
  env: BenchEnv,
  concurrency: number,
  bucketMs: number,
  record: (r: WorkerReport) => void,
): Promise<{ pid: number; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL("./_lateness-worker.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      script,
      env.db.url,
      env.redisUrl,
      env.prefix,
      String(concurrency),
      String(bucketMs),
    ],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`worker process exited (${code})`)));
    child.on("message", (msg: WorkerReport | "ready") => {
      if (msg === "ready") resolve();
      else record(msg);
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
