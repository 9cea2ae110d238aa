// A second (third, ...) worker process for `engine-lateness --processes N` (not a benchmark
// itself: run.ts skips files starting with "_"). It runs the product's workers against the
// benchmark's Redis and Postgres and reports each finished timer bucket job to the parent over IPC.
//   node --import tsx _lateness-worker.ts <databaseUrl> <redisUrl> <prefix> <concurrency> <bucketMs>
//     <now | on-start: take jobs from the parent's "start" on>
import { openDatabase } from "@postpath/db";
import type { RunningWorkers } from "@postpath/engine";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { benchContext } from "./_engine.ts";
import {
  startReportingWorkers,
  type LatenessMessage,
  type LoopReport,
} from "./_lateness-report.ts";

const [databaseUrl, redisUrl, prefix, concurrency, bucketMs, when] = process.argv.slice(2);
if (!databaseUrl || !redisUrl || !prefix || !concurrency || !bucketMs || !when || !process.send)
  throw new Error(
    "usage: _lateness-worker.ts <databaseUrl> <redisUrl> <prefix> <concurrency> <bucketMs> <now|on-start> (with IPC)",
  );
const ipc = process.send.bind(process);
const send = (msg: LatenessMessage | LoopReport | "ready") => ipc(msg);
// This process's event-loop delay from the parent's "measure" (the first measured due time) on.
const loop = monitorEventLoopDelay({ resolution: 10 });

const db = await openDatabase({ url: databaseUrl });
const { ctx, redis } = await benchContext(db, redisUrl, prefix, { bucketMs: Number(bucketMs) });
let workers: RunningWorkers | null = null;
const start = () => {
  workers = startReportingWorkers(ctx, redis, prefix, Number(concurrency), send);
};
if (when === "now") start();
process.on("message", (msg) => {
  if (msg === "measure") loop.enable();
  if (msg === "start" && !workers) start();
  if (msg !== "stop") return;
  loop.disable();
  send({ loop: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 } });
  void (async () => {
    await workers?.close();
    await ctx.queues.close();
    redis.disconnect();
    await db.close();
    process.exit(0);
  })();
});
send("ready");
