// A worker process for crash tests: `tsx worker-process.ts '<json config>'`. The same
// startWorkers() as apps/worker, with a webhook provider aimed at the test's recording receiver.
import { createProvider } from "@postpath/channels";
import { openDatabase } from "@postpath/db";
import { createEngineContext, startWorkers } from "../engine.ts";
import { createLogger } from "../logger.ts";
import { staticProviders } from "../providers.ts";
import { createRedis } from "../queues.ts";
import type { TimerSettings } from "../timers.ts";

interface Config {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  sweepEveryMs: number;
  sweepGraceMs: number;
  timers?: Partial<TimerSettings>;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const log = createLogger("warn", `worker-${process.pid}`);
const db = await openDatabase({ url: config.databaseUrl });
const redis = createRedis(config.redisUrl);
redis.on("error", (err) => log.warn({ err: err.message }, "redis connection error"));
await redis.connect();
const ctx = createEngineContext({
  db,
  connection: redis,
  prefix: config.prefix,
  log,
  providers: staticProviders({
    webhook: createProvider("webhook", { secret: "crash-test", timeoutMs: 5000 }),
  }),
  sendRetry: { attempts: 10, backoffMs: 200 },
  outbound: { allowHosts: ["127.0.0.1"] }, // the test's receiver
  ...(config.timers ? { timers: config.timers } : {}),
});
startWorkers(ctx, {
  connection: redis,
  prefix: config.prefix,
  concurrency: config.concurrency,
  lockDurationMs: config.lockDurationMs,
  stalledIntervalMs: config.stalledIntervalMs,
  dateTriggerEveryMs: 0,
  sweepEveryMs: config.sweepEveryMs,
  sweepGraceMs: config.sweepGraceMs,
});
process.stdout.write("ready\n");
