// Resume after Redis is lost (issue 13, item 4): N runs wait on timers (20 s); the benchmark's own
// redis-server (no persistence) is SIGKILLed, the waits fall due while it is gone, and a fresh,
// empty redis-server starts on the same port. Printed: how long after the restart each run's
// wait was applied (p50/p99/max) and when the last one was, for
//   - the product: workers with the DependencyMonitor (overdue waits re-created when Redis is back)
//   - the baseline, in the same run: the same workers without it, where only the sweeper (every
//     15 s, 60 s grace — the product's defaults) re-creates lost timers.
//   pnpm bench outage-resume [--customers 2000] [--down 4]
import { spawn, type ChildProcess } from "node:child_process";
import { DependencyMonitor, enrolMany, startWorkers } from "@postpath/engine";
import {
  arg,
  benchContext,
  createCustomers,
  fmt,
  openBench,
  percentile,
  publish,
  startRedisServer,
  type BenchEnv,
} from "./_engine.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startOnPort(port: string): ChildProcess {
  return spawn(
    "redis-server",
    ["--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--hz", "100"],
    { stdio: "ignore" },
  );
}

async function scenario(
  label: string,
  customers: number,
  downSeconds: number,
  withMonitor: boolean,
): Promise<void> {
  // openBench starts a redis-server of its own; this scenario replaces it with one it can kill.
  const env: BenchEnv = await openBench();
  let redis: ChildProcess | null = null;
  try {
    const server = await startRedisServer();
    redis = server.child;
    const port = new URL(server.url).port;
    const { ctx, redis: conn } = await benchContext(env.db, server.url, "resume");
    const { journeyId, versionId } = await publish(env, [
      { id: "t", type: "trigger.manual", next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 20, unit: "seconds" }, next: "a" },
      { id: "a", type: "action.attribute", data: { set: { reminded: true } }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    await createCustomers(env, customers);
    const ids = (
      await env.db.prisma.customer.findMany({
        where: { workspaceId: env.workspaceId },
        select: { id: true },
      })
    ).map((c) => c.id);
    const monitor = withMonitor
      ? new DependencyMonitor({ db: env.db, redis: conn, log: ctx.log }).start()
      : undefined;
    const workers = startWorkers(ctx, {
      connection: conn,
      prefix: "resume",
      concurrency: 50,
      runConcurrency: 200,
      ...(monitor ? { monitor } : {}),
    });
    for (let i = 0; i < ids.length; i += 2000)
      await enrolMany(ctx, {
        workspaceId: env.workspaceId,
        journeyId,
        versionId,
        customerIds: ids.slice(i, i + 2000),
        trigger: { eventId: "bench", name: "enrolled", properties: {}, timestamp: Date.now() },
      });
    const waiting = () =>
      env.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } });
    process.stderr.write(`${label}: enrolled, waiting for every run to wait\n`);
    while ((await waiting()) < customers) await sleep(100);
    process.stderr.write(`${label}: all waiting; killing Redis\n`);

    redis.kill("SIGKILL");
    await new Promise((r) => redis!.once("exit", r));
    // Down for --down seconds, and at least until every wait has fallen due.
    const due = await env.db.prisma.journeyRun.aggregate({
      where: { journeyId },
      _max: { waitingUntil: true },
    });
    const lastDue = due._max.waitingUntil?.getTime() ?? 0;
    await sleep(Math.max(downSeconds * 1000, lastDue + 500 - Date.now()));
    redis = startOnPort(port);
    const restartedAt = Date.now();

    const done = () =>
      env.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } });
    let last = -1;
    let movedAt = Date.now();
    for (;;) {
      const n = await done();
      if (n === customers) break;
      if (n !== last) [last, movedAt] = [n, Date.now()];
      if (Date.now() - movedAt > 180_000) {
        console.log(`${label}: stuck at ${n} of ${customers} completed for 3 min; giving up`);
        break;
      }
      await sleep(200);
    }
    // The wait's end, the attribute step and the exit commit together: the run's end time.
    const rows = await env.db.prisma.journeyRun.findMany({
      where: { journeyId, status: "COMPLETED" },
      select: { endedAt: true },
    });
    const after = rows
      .map((r) => (r.endedAt?.getTime() ?? NaN) - restartedAt)
      .sort((a, b) => a - b);
    console.log(
      `${label}: ${fmt(after.length)} of ${fmt(customers)} resumed; after the restart p50 ${fmt(percentile(after, 50) / 1000, 1)} s, p99 ${fmt(percentile(after, 99) / 1000, 1)} s, last ${fmt((after.at(-1) ?? NaN) / 1000, 1)} s`,
    );
    monitor?.stop();
    await workers.close();
    await ctx.queues.close();
    conn.disconnect();
  } finally {
    redis?.kill("SIGKILL");
    await env.close();
  }
}

export default async function main(args: string[]): Promise<void> {
  const customers = arg(args, "customers", 2000);
  const down = arg(args, "down", 4);
  console.log(
    `${fmt(customers)} runs waiting 20 s; Redis SIGKILLed for ${down} s (at least until every wait is due) and restarted empty (every timer lost)`,
  );
  await scenario("product (monitor re-creates overdue timers)", customers, down, true);
  await scenario("baseline (sweeper only: every 15 s, 60 s grace)", customers, down, false);
}
