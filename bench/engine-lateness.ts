// Lateness of scheduled steps: N runs waiting on timers that fall due at --rate per second, the
// engine's worker executing each due step (advance + commit). The waits are scheduled the way the
// engine schedules them (`scheduleTimer`: one delayed job per timer bucket of --bucket ms) and
// woken by the product's workers. p50/p99/max of (step committed − due), from the step's trace
// time, and of (the bucket's last job finished − due), an upper bound for each run. Baseline:
// raw BullMQ delayed no-op jobs, one per timer, with the same due times on the same Redis.
//   pnpm bench engine-lateness [--rate 10000] [--seconds 1] [--concurrency 200] [--processes 1]
//                              [--bucket 50] [--warmup 5] [--join 0]
// --processes N runs N worker processes (this one and N − 1 children, each at --concurrency),
// as a deployment scales out: more worker processes on the same Redis and Postgres.
// --join S: the children (started and connected beforehand) start taking jobs S seconds into the
// measured window, as a worker process added under load does.
// BENCH_CHILD_FLAGS (environment): more node flags for the children, e.g. "--cpu-prof
// --cpu-prof-dir=/tmp/prof" for CPU profiles of their first seconds.
import type { Prisma } from "@postpath/db";
import { DEFAULT_TIMERS, scheduleTimer, timerBucket, toSnapshot } from "@postpath/engine";
import { advance, initialState, parsePlan } from "@postpath/journey";
import { Queue, Worker, type Job } from "bullmq";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  commitSampler,
  describeCommitActivity,
  RUN_COMMIT_PREFIX,
  type CommitSampler,
} from "./_commit-activity.ts";
import { cpuSince, cpuSnapshot } from "./_cpu.ts";
import {
  arg,
  createCustomers,
  fmt,
  openBench,
  percentile,
  PRODUCT_NODE_FLAGS,
  publish,
  type BenchEnv,
} from "./_engine.ts";
import {
  startReportingWorkers,
  type LatenessMessage,
  type LoopReport,
} from "./_lateness-report.ts";

/** One statement's totals so far in this database (pg_stat_statements, every worker process). */
interface StatementTotals {
  query: string;
  calls: number;
  rows: number;
  ms: number;
}

/**
 * Every statement's totals in this database so far, by query id: calls, rows answered and Postgres
 * execution time (ms; the commit's WAL flush and the round trip come on top). Null where the
 * extension is not loaded.
 */
async function statementTotals(env: BenchEnv): Promise<Map<string, StatementTotals> | null> {
  try {
    const rows = await env.db.query<StatementTotals & { id: string }>(
      `SELECT queryid::text AS id, min(query) AS query, sum(calls)::float8 AS calls,
              sum(rows)::float8 AS rows, sum(total_exec_time)::float8 AS ms
       FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       GROUP BY queryid`,
    );
    return new Map(rows.map(({ id, ...t }) => [id, t]));
  } catch {
    return null;
  }
}

/** The whole server's WAL and checkpoints so far (pg_stat_wal, pg_stat_bgwriter). */
interface WalTotals {
  bytes: number;
  fpi: number;
  records: number;
  checkpoints: number;
  requested: number;
  /** Times a backend wrote WAL itself because `wal_buffers` were full (waits behind the write). */
  full: number;
}

async function walTotals(env: BenchEnv): Promise<WalTotals | null> {
  try {
    const [row] = await env.db.query<WalTotals>(
      `SELECT w.wal_bytes::float8 AS bytes, w.wal_fpi::float8 AS fpi, w.wal_records::float8 AS records,
              (b.checkpoints_timed + b.checkpoints_req)::float8 AS checkpoints,
              b.checkpoints_req::float8 AS requested, w.wal_buffers_full::float8 AS full
       FROM pg_stat_wal w, pg_stat_bgwriter b`,
    );
    return row ?? null;
  } catch {
    return null;
  }
}

/** What each statement did between two snapshots, most Postgres time first. */
function statementsSince(
  before: Map<string, StatementTotals>,
  after: Map<string, StatementTotals>,
): StatementTotals[] {
  const out: StatementTotals[] = [];
  for (const [id, a] of after) {
    const b = before.get(id) ?? { calls: 0, rows: 0, ms: 0 };
    if (a.calls > b.calls)
      out.push({
        query: a.query,
        calls: a.calls - b.calls,
        rows: a.rows - b.rows,
        ms: a.ms - b.ms,
      });
  }
  return out.sort((x, y) => y.ms - x.ms);
}

/** The run commit statement among them (a batch of runs' transitions). */
const isRunCommit = (query: string) =>
  query.startsWith(RUN_COMMIT_PREFIX) && query.includes('INSERT INTO "RunTrace"');

/**
 * CPU time (ms) used so far by the Postgres backends of this database (every connection of every
 * worker process), from /proc/<pid>/schedstat (nanoseconds on a CPU), minus `since`'s at its pids;
 * a backend that has exited meanwhile is left out. Other databases' backends on the same server
 * (another session's tests) and autovacuum workers (which may start on the fresh tables during a
 * run) do not count, nor does `skip` (the commit sampler's own backend). Nothing is counted
 * without /proc or a local server.
 */
type BackendCpu = Map<number, number>;
async function backendCpu(env: BenchEnv, skip: number): Promise<BackendCpu>;
async function backendCpu(env: BenchEnv, skip: number, since: BackendCpu): Promise<number>;
async function backendCpu(
  env: BenchEnv,
  skip: number,
  since?: BackendCpu,
): Promise<BackendCpu | number> {
  const pids = await env.db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> $1`,
    [skip],
  );
  const now: BackendCpu = new Map();
  for (const { pid } of pids) {
    try {
      now.set(pid, Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6);
    } catch {
      // exited meanwhile, or not on this machine
    }
  }
  if (!since) return now;
  let ms = 0;
  for (const [pid, at] of now) ms += at - (since.get(pid) ?? 0);
  return ms;
}

function summary(label: string, xs: number[]): string {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return `${label}: p50 ${fmt(percentile(s, 50))} ms, p99 ${fmt(percentile(s, 99))} ms, max ${fmt(s.at(-1) ?? NaN)} ms`;
}

/**
 * The p99 of each consecutive `per` values of `xs` (one value per timer, in due order: `per` = a
 * window of due time; NaN for a timer with no figure). A tail spread over the whole run is a
 * steady state, one confined to a window a stall.
 */
function windows(xs: number[], per: number): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length; i += per)
    parts.push(
      fmt(
        percentile(
          xs
            .slice(i, i + per)
            .filter(Number.isFinite)
            .sort((a, b) => a - b),
          99,
        ),
      ),
    );
  return parts.join(" / ");
}

export default async function main(args: string[]): Promise<void> {
  const rate = arg(args, "rate", 10_000);
  const seconds = arg(args, "seconds", 1);
  const concurrency = arg(args, "concurrency", 200);
  const processes = Math.max(1, arg(args, "processes", 1));
  const bucketMs = arg(args, "bucket", DEFAULT_TIMERS.bucketMs);
  const joinS = arg(args, "join", 0);
  const n = Math.round(rate * seconds);
  const env = await openBench({ bucketMs });
  // Child worker processes still running when this one fails: stopped in `finally` (a child left
  // behind would hold the terminal and the benchmark's database).
  const running = new Set<ChildProcess>();
  let sampler: CommitSampler | null = null;
  try {
    const { journeyId, versionId } = await publish(env, [
      { id: "t", type: "trigger.manual", next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "a" },
      { id: "a", type: "action.attribute", data: { set: { reminded: true } }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const v = await env.db.prisma.journeyVersion.findUniqueOrThrow({ where: { id: versionId } });
    const plan = parsePlan(v.plan);
    // Warm-up runs (not measured) fall due at the same rate in the --warmup seconds just before
    // the measured ones, so the figures are running workers' steady state: their connections
    // opened, statements prepared, code optimised by V8 for this load, batches at their size.
    // (Before, 1,000 warm-up timers fell due 3 to 2 s ahead; the worker then sat idle for 2 s and
    // met the full rate cold: at 10,000/s the first 2 s of 60 had a p99 of 237-314 ms and the
    // other seconds 39-65 ms, bucket jobs starting up to 270 ms late. Then 2 s: enough for one
    // process, but a second one's first buckets took 1.0-1.5 s, and the backlog that left took
    // 4-15 s to drain, into the measured window. 5 s covered it in a 20 s run and not in a 60 s
    // one (bench/README.md, 2026-12-06 16:20): the warm-up's own figures are printed, so a
    // window that starts behind shows it.)
    const w = Math.min(Math.round(arg(args, "warmup", 5) * rate), n);
    const total = n + w;
    await createCustomers(env, total);
    const runId = (i: number) => `rl${i}`;
    const enrolmentId = "cmbenchenrolment000000001"; // one bulk enrolment made every run

    const lead = 13_000 + total * 0.5; // time to insert rows and jobs before the first falls due
    // `t0` moves later when the set-up overruns the lead (a loaded machine): a timer scheduled
    // less than `directWithinMs` ahead would get a run job of its own instead of a bucket.
    let t0 = Date.now() + lead;
    const dueOf = (i: number) => t0 + Math.floor(((i - w) / rate) * 1000);
    // Every timer must be scheduled at least `directWithinMs` before its due time, or it gets a run
    // job of its own instead of joining a bucket: the bucket reports, which this benchmark counts,
    // would then never cover it. The vacuum, the child processes' start and the scheduling below
    // come first; when the set-up has overrun its lead (a loaded machine) every due time moves
    // later (the states keep the earlier time; a wait past its due time is applied all the same),
    // and the moved rows are vacuumed again. Checked again once those are done.
    const { directWithinMs } = env.ctx.timers;
    const scheduleMs = 1000 + total * 0.02; // room for scheduleTimer over every run
    let shifted = 0;
    // The vacuum after a move: a shift makes room for it (and the move's own update) as well.
    const vacuumMs = 3000 + total * 0.03;
    const shiftIfLate = async (roomMs: number): Promise<boolean> => {
      const latest = Date.now() + roomMs + scheduleMs + directWithinMs;
      if (latest <= dueOf(0)) return false;
      const shift = Math.ceil(latest + vacuumMs - dueOf(0));
      await env.db.query(
        `UPDATE "JourneyRun" SET "waitingUntil" = "waitingUntil" + make_interval(secs => $1::float8 / 1000) WHERE "journeyId" = $2`,
        [shift, journeyId],
      );
      t0 += shift;
      shifted += shift;
      return true;
    };
    // Runs already waiting at "w" (state made by advance() itself), made and inserted a page of
    // customers at a time. The first worker shares this process: holding every customer and run
    // state (600,000 at 10,000/s for 60 s) left it a heap of over a gigabyte, which no worker
    // process has, and whose garbage collection took CPU from the measured timers.
    let after = "";
    let moved = 0;
    let pages = 0;
    let secondPage = 0; // when the second page began
    let firstPageRuns = 0;
    for (let i = 0; i < total;) {
      const customers = (
        await env.db.prisma.customer.findMany({
          where: { workspaceId: env.workspaceId, id: { gt: after } },
          orderBy: { id: "asc" },
          take: 2000,
        })
      ).map(toSnapshot);
      after = customers.at(-1)!.id;
      await env.db.prisma.journeyRun.createMany({
        data: customers.map((c, k): Prisma.JourneyRunCreateManyInput => {
          const id = runId(i + k);
          // As a bulk enrolment leaves a run (maintenance.ts): with its trigger, in the row and in
          // the state (so each commit's document carries a real run's state), and the trigger's id.
          const trigger = { name: "enrolled", properties: {}, timestamp: dueOf(i + k) - 3600_000 };
          const entered = advance(
            plan,
            initialState(plan, { runId: id, customer: c, trigger }),
            { kind: "entered" },
            trigger.timestamp,
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
            waitingUntil: new Date(dueOf(i + k)),
            state: entered as unknown as Prisma.InputJsonValue,
            trigger,
            triggerEventId: `enrol-${enrolmentId}`,
          };
        }),
      });
      i += customers.length;
      pages++;
      if (pages === 1) {
        secondPage = Date.now();
        firstPageRuns = i;
      } else if (pages === 3) {
        // The lead above is a guess; the second and third pages (the first one runs cold) say how
        // long this machine takes to make the rest. Moved now, while three pages are inserted,
        // rather than every run once all are: that update rewrites every run and its index
        // entries just before the measured window.
        const perRun = (Date.now() - secondPage) / (i - firstPageRuns);
        await shiftIfLate(perRun * (total - i) * 1.2 + vacuumMs);
        moved = shifted;
        shifted = 0;
      }
    }
    if (moved)
      console.log(
        `  (the lead, measured on the set-up's second and third pages: due times moved ${fmt(moved)} ms later before the rest were made)`,
      );
    // Per bucket: when its first job started and its last one finished, and the runs it woke.
    const buckets = new Map<
      string,
      { start: number; finish: number; applied: number; pid: number }
    >();
    let applied = 0;
    let lastReport = Date.now();
    const failures: string[] = [];
    const record = (m: LatenessMessage) => {
      lastReport = Date.now();
      if ("failed" in m) {
        failures.push(m.failed);
        return;
      }
      const key = `${m.bucket.from}-${m.bucket.to}`;
      const b = buckets.get(key) ?? { start: Infinity, finish: 0, applied: 0, pid: m.pid };
      if (m.processedOn < b.start) b.pid = m.pid;
      b.start = Math.min(b.start, m.processedOn);
      b.finish = Math.max(b.finish, m.finishedOn);
      b.applied += m.applied;
      buckets.set(key, b);
      applied += m.applied;
    };
    // The tables were bulk-loaded just now: vacuum and analyze them here, as autovacuum would
    // within the minute, rather than have it start during the measured second.
    await shiftIfLate(vacuumMs);
    await env.db.exec(`VACUUM ANALYZE "JourneyRun", "Customer"`);
    const children = await Promise.all(
      Array.from({ length: processes - 1 }, () =>
        startChild(env, { concurrency, bucketMs, join: joinS > 0 }, record, running),
      ),
    );
    const pids = children.map((c) => c.pid);
    for (let tries = 0; ; tries++) {
      // The bulk load's pages (and a move's) written out now: otherwise a checkpoint their WAL
      // started was still writing them when the timers fell due, and every page the timers then
      // touched first was logged whole. After the last move, not before it: a move rewrites every
      // run (on a slow machine, 2026-12-06 13:30, a move after the CHECKPOINT left one in the
      // measured window of a 10 s run).
      await env.db.exec(`CHECKPOINT`);
      if (!(await shiftIfLate(0))) break;
      if (tries === 3)
        throw new Error(
          `set-up keeps overrunning its lead (due times moved ${fmt(shifted)} ms so far): the machine is too loaded to schedule ${fmt(total)} timers as buckets`,
        );
      await env.db.exec(`VACUUM ANALYZE "JourneyRun"`);
    }
    if (shifted)
      console.log(`  (set-up overran the lead time: due times moved ${fmt(shifted)} ms later)`);
    const scheduling = Date.now();
    for (let i = 0; i < total; i++) {
      // scheduleTimer would give this timer a run job of its own: fail rather than wait forever.
      const ahead = dueOf(i) - Date.now();
      if (ahead < directWithinMs + 100)
        throw new Error(
          `set-up overran its lead: timer ${i} of ${total} would be scheduled ${fmt(ahead)} ms before it falls due, under the ${fmt(directWithinMs)} ms that a timer bucket needs (it would get a run job of its own, which this benchmark does not count); scheduling had taken ${fmt(Date.now() - scheduling)} ms`,
        );
      await scheduleTimer(env.ctx, { runId: runId(i), seq: 1, stepId: "w" }, dueOf(i));
    }
    // The CPU split covers the measured timers only: from the first one's due time to the last
    // one's completion.
    // The commit statement's figures likewise (pg_stat_statements, when the server loads it).
    const statements = await env.db
      .exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
      .then(() => statementTotals(env))
      .catch(() => null);
    let cpu0: ReturnType<typeof cpuSnapshot> = null;
    let stmts0: Promise<Map<string, StatementTotals> | null> = Promise.resolve(null);
    let pg0: Promise<BackendCpu> = Promise.resolve(new Map<number, number>());
    let wal0: Promise<WalTotals | null> = Promise.resolve(null);
    // What the run commits were doing, sampled on a connection of its own.
    sampler = await commitSampler(env.db.url);
    // Whether this process (the bench and the first worker) stalled while the timers ran.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    const atT0 = setTimeout(
      () => {
        loopDelay.enable();
        for (const c of children) c.measure();
        if (joinS > 0)
          setTimeout(() => {
            for (const c of children) c.start();
          }, joinS * 1000).unref();
        cpu0 = cpuSnapshot(pids);
        pg0 = backendCpu(env, sampler!.pid);
        sampler!.start();
        wal0 = walTotals(env);
        if (statements) stmts0 = statementTotals(env);
      },
      Math.max(0, t0 - Date.now()),
    );
    console.log(`  (the measured timers fall due from ${new Date(t0).toISOString()})`);
    const workers = startReportingWorkers(env.ctx, env.redis, env.prefix, concurrency, record);
    // Until every run is reported applied by a bucket job. Should reports stop short (a run woken
    // by a job of its own, a bucket attempt that failed after applying some of its runs), Postgres
    // says whether runs are still waiting: the benchmark goes on when none is, and fails with what
    // it knows when nothing has moved for a while, instead of waiting forever.
    const lastDue = dueOf(total - 1);
    let unreported = "";
    while (applied < total) {
      await new Promise((r) => setTimeout(r, 20));
      if (Date.now() - Math.max(lastReport, lastDue) < 10_000) continue;
      const [left] = await env.db.query<{ waiting: number; completed: number }>(
        `SELECT count(*) FILTER (WHERE status <> 'COMPLETED')::int AS waiting,
                count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed
         FROM "JourneyRun" WHERE "journeyId" = $1`,
        [journeyId],
      );
      const what = `${fmt(total - applied)} of ${fmt(total)} runs not reported by a bucket job; in Postgres ${fmt(left?.completed ?? 0)} completed, ${fmt(left?.waiting ?? 0)} not; ${failures.length} bucket job attempts failed${failures[0] ? ` (first: ${failures[0]})` : ""}`;
      if (left?.waiting === 0) {
        unreported = what;
        break;
      }
      if (Date.now() - Math.max(lastReport, lastDue) > 60_000)
        throw new Error(`no bucket job finished for 60 s after the last due time: ${what}`);
    }
    if (unreported) console.log(`  (warning: ${unreported})`);
    loopDelay.disable();
    const activity = await sampler.stop();
    const cpu = cpuSince(cpu0, Date.now() - t0, pids);
    const pgMs = await backendCpu(env, sampler.pid, await pg0);
    const measuredMs = Date.now() - t0;
    clearTimeout(atT0);
    const [s0, s1, w0, w1] = await Promise.all([
      stmts0,
      statementTotals(env),
      wal0,
      walTotals(env),
    ]);
    await workers.close();
    const childLoops = await Promise.all(children.map((c) => c.stop()));
    const done = await env.db.prisma.journeyRun.count({
      where: { journeyId, status: "COMPLETED" },
    });
    // Each measured run: its step's commit (the trace's time: the committing transaction's start)
    // and its bucket's last job finishing, against its due time.
    const traced = await env.db.query<{ runId: string; at: number }>(
      `SELECT "runId", extract(epoch FROM at)::float8 * 1000 AS at FROM "RunTrace" WHERE "stepId" = 'a'`,
    );
    const tracedAt = new Map(traced.map((t) => [t.runId, t.at]));
    // One value per measured run, in due order (NaN: woken without a bucket report, warned
    // above), so that a slice of each is the same window of due time.
    const committed: number[] = [];
    const finished: number[] = [];
    const started: number[] = [];
    // The same per worker process (NaN where another process started the run's bucket).
    const byProcess = new Map(
      [process.pid, ...pids].map((pid) => [
        pid,
        { started: [] as number[], committed: [] as number[] },
      ]),
    );
    // The warm-up's (not measured): where a stall at the start of the measured timers began.
    const warmCommitted: number[] = [];
    const warmStarted: number[] = [];
    for (let i = 0; i < total; i++) {
      const due = dueOf(i);
      const b = timerBucket(due, bucketMs);
      const stats = buckets.get(`${b.from}-${b.to}`);
      const at = tracedAt.get(runId(i));
      if (at === undefined) throw new Error(`run ${runId(i)} was not woken`);
      if (i < w) {
        warmCommitted.push(at - due);
        warmStarted.push(stats ? stats.start - due : NaN);
        continue;
      }
      committed.push(at - due);
      finished.push(stats ? stats.finish - due : NaN);
      started.push(stats ? stats.start - due : NaN);
      for (const [pid, mine] of byProcess) {
        mine.started.push(stats?.pid === pid ? stats.start - due : NaN);
        mine.committed.push(stats?.pid === pid ? at - due : NaN);
      }
    }

    // Raw: delayed no-op jobs with the same due times.
    const q = new Queue("raw-delayed", { connection: env.redis, prefix: env.prefix });
    // Lead: time for addBulk (~17,000 jobs/s here) with room to spare; checked below.
    const r0 = Date.now() + 5000 + n * 0.1;
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
    if (Date.now() > r0 - 1000)
      console.log(
        `  (warning: the raw jobs were added ${fmt(Date.now() - r0)} ms after the first one's due time: the raw figures include that)`,
      );
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
    console.log(
      `  engine, step committed − due, p99 of each 10 s: ${windows(committed, rate * 10)} ms`,
    );
    // A stall early in a run shows here: the first 10 s, second by second, after the warm-up's.
    console.log(
      `  warm-up (not measured), p99 of each second: step committed − due ${windows(warmCommitted, rate)} ms, bucket's job started − due ${windows(warmStarted, rate)} ms`,
    );
    console.log(
      `  engine, step committed − due, p99 of each second of the first 10 s: ${windows(committed.slice(0, rate * 10), rate)} ms`,
    );
    console.log(
      `  engine, bucket's job started − due, p99 of each second of the first 10 s: ${windows(started.slice(0, rate * 10), rate)} ms`,
    );
    // Per process: the runs of the buckets it started (a joining process's first seconds show here).
    if (processes > 1)
      [...byProcess.values()].forEach((mine, k) =>
        console.log(
          `    in worker process ${k + 1}${k === 0 ? " (this one)" : joinS > 0 ? `, taking jobs from ${joinS} s on` : ""}: bucket's job started − due ${windows(mine.started.slice(0, rate * 10), rate)} ms; step committed − due ${windows(mine.committed.slice(0, rate * 10), rate)} ms`,
        ),
      );
    console.log(`  ${summary("engine, bucket's jobs finished − due", finished)}`);
    console.log(`  ${summary("engine, bucket's job started − due ", started)}`);
    console.log(`  ${summary("raw BullMQ no-op, done − due", rawLate)} (one process)`);
    console.log("  goal: p99 ≤ 150 ms, max ≤ 1 s");
    console.log(
      `  CPU while the measured timers ran (% of one core of ${os.availableParallelism()}): ${cpu}`,
    );
    console.log(
      `  event loop of this process (the first worker) while the measured timers ran: delay p99 ${fmt(loopDelay.percentile(99) / 1e6)} ms, max ${fmt(loopDelay.max / 1e6)} ms`,
    );
    childLoops.forEach((l, k) =>
      console.log(
        `  event loop of worker process ${k + 2}: ${l ? `delay p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms` : "not reported"}`,
      ),
    );
    console.log(
      `  Postgres backends of this database while the measured timers ran: ${fmt(pgMs)} ms of CPU, ${fmt((pgMs / (done - w)) * 1000, 0)} µs per run, ${fmt((pgMs / measuredMs) * 100)}% of one core (every statement of every worker process; autovacuum, WAL writer and checkpointer not included)`,
    );
    if (w0 && w1) {
      const runs = done - w;
      const fpi = w1.fpi - w0.fpi;
      const [walBuffers, maxWal] = await env.db
        .query<{ b: string; m: string }>(
          `SELECT current_setting('wal_buffers') AS b, current_setting('max_wal_size') AS m`,
        )
        .then((r) => [r[0]?.b ?? "?", r[0]?.m ?? "?"]);
      console.log(
        `  WAL while the measured timers ran (whole server): ${fmt((w1.bytes - w0.bytes) / runs, 0)} bytes per run (${fmt((w1.records - w0.records) / runs, 1)} records, ${fmt(fpi / runs, 2)} full-page images; a backend found the WAL buffers full ${fmt(w1.full - w0.full)} times: wal_buffers ${walBuffers}), ${fmt(w1.checkpoints - w0.checkpoints)} checkpoints (${fmt(w1.requested - w0.requested)} requested by WAL volume: max_wal_size ${maxWal})`,
      );
    }
    const stmts = s0 && s1 ? statementsSince(s0, s1) : [];
    const commits = stmts.filter((t) => isRunCommit(t.query));
    if (commits.length) {
      const calls = commits.reduce((a, t) => a + t.calls, 0);
      const moved = commits.reduce((a, t) => a + t.rows, 0);
      const ms = commits.reduce((a, t) => a + t.ms, 0);
      console.log(
        `  run commit statement while the measured timers ran: ${fmt(calls)} commits, ${fmt(moved / calls, 1)} runs per commit, ${fmt(ms / calls, 2)} ms of Postgres execution per commit (${fmt((ms / moved) * 1000, 0)} µs per run), ${fmt((ms / measuredMs) * 100)}% of one core`,
      );
      // Whether the commits kept Postgres busy, and what they waited on besides a CPU.
      console.log(
        `  run commits while the measured timers ran (pg_stat_activity every 20 ms): ${describeCommitActivity(activity)}`,
      );
      // Where Postgres's time went: every statement's execution time per run woken.
      const perRun = (ms: number) => `${fmt((ms / (done - w)) * 1000, 1)} µs/run`;
      console.log(
        `  statements while the measured timers ran (execution only, ${perRun(stmts.reduce((a, t) => a + t.ms, 0))} in all):`,
      );
      for (const t of stmts.slice(0, 8))
        console.log(
          `    ${perRun(t.ms).padStart(14)}  ${fmt(t.calls).padStart(7)} calls  ${t.query.replace(/\s+/g, " ").slice(0, 90)}`,
        );
    } else console.log("  run commit statement: unavailable (pg_stat_statements not loaded)");
  } finally {
    for (const child of running) child.kill("SIGKILL");
    await sampler?.stop();
    await env.close();
  }
}

/** A child worker process on the benchmark's Redis and Postgres, reporting finished bucket jobs. */
async function startChild(
  env: BenchEnv,
  opts: { concurrency: number; bucketMs: number; join: boolean },
  record: (m: LatenessMessage) => void,
  running: Set<ChildProcess>,
): Promise<{
  pid: number;
  measure(): void;
  start(): void;
  stop(): Promise<LoopReport["loop"] | null>;
}> {
  const script = fileURLToPath(new URL("./_lateness-worker.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      ...PRODUCT_NODE_FLAGS,
      ...(process.env.BENCH_CHILD_FLAGS?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      script,
      env.db.url,
      env.redisUrl,
      env.prefix,
      String(opts.concurrency),
      String(opts.bucketMs),
      opts.join ? "on-start" : "now",
    ],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  running.add(child);
  child.on("exit", () => running.delete(child));
  let loop: LoopReport["loop"] | null = null;
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`worker process exited (${code})`)));
    child.on("message", (msg: LatenessMessage | LoopReport | "ready") => {
      if (msg === "ready") resolve();
      else if ("loop" in msg) loop = msg.loop;
      else record(msg);
    });
  });
  child.removeAllListeners("exit");
  child.on("exit", () => running.delete(child));
  return {
    pid: child.pid ?? 0,
    measure: () => child.send("measure"),
    start: () => child.send("start"),
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve(loop));
        child.send("stop");
      }),
  };
}
