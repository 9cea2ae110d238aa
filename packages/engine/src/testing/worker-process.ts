// A worker process for crash tests: `tsx worker-process.ts '<json config>'`. The same
// startWorkers() as apps/worker, with a webhook provider aimed at the test's recording receiver.
import { createProvider } from "@postpath/channels";
import { openDatabase } from "@postpath/db";
import { createEngineContext, startWorkers } from "../engine.ts";
import { createLogger } from "../logger.ts";
import { staticProviders } from "../providers.ts";
import { createRedis } from "../queues.ts";
import type { TimerSettings } from "../timers.ts";

/** What a worker process is started with (JSON in argv[2]); see worker-fleet.ts. */
export interface WorkerProcessConfig {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  sweepEveryMs: number;
  sweepGraceMs: number;
  timers?: Partial<TimerSettings>;
  /** An SMTP server for the email channel (issue 13 tests); else email has no provider. */
  smtpUrl?: string;
  /** A Twilio-shaped SMS API (the test's HTTP receiver) for the sms channel. */
  smsUrl?: string;
  /** Provider timeout for webhook (default 5000 ms). */
  webhookTimeoutMs?: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as WorkerProcessConfig;
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
    webhook: createProvider("webhook", {
      secret: "crash-test",
      timeoutMs: config.webhookTimeoutMs ?? 5000,
    }),
    ...(config.smtpUrl
      ? {
          email: createProvider("email", { url: config.smtpUrl, from: "Shop <shop@pp.test>" }),
          sms: createProvider("sms", {
            accountSid: "AC-crash",
            authToken: "crash-token",
            from: "+15550000000",
            baseUrl: config.smsUrl ?? "http://127.0.0.1:9",
          }),
        }
      : {}),
  }),
  sendRetry: { attempts: 10, backoffMs: 200 },
  outbound: { allowHosts: ["127.0.0.1"] }, // the test's receiver
  ...(config.timers ? { timers: config.timers } : {}),
});
const workers = startWorkers(ctx, {
  connection: redis,
  prefix: config.prefix,
  concurrency: config.concurrency,
  lockDurationMs: config.lockDurationMs,
  stalledIntervalMs: config.stalledIntervalMs,
  dateTriggerEveryMs: 0,
  sweepEveryMs: config.sweepEveryMs,
  sweepGraceMs: config.sweepGraceMs,
});
// Graceful shutdown (SIGTERM), as apps/worker does it: in-flight jobs finish, none are taken.
process.on("SIGTERM", () => {
  void workers.close().then(async () => {
    await ctx.queues.close();
    redis.disconnect();
    await db.close();
    process.exit(0);
  });
});
process.stdout.write("ready\n");
