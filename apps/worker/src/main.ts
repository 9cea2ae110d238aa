import { loadEnvOrExit } from "@postpath/config";
import { createLogger, openRuntime, startRuntimeWorkers, StartupError } from "@postpath/engine";

const env = loadEnvOrExit();
const log = createLogger(env.LOG_LEVEL, "postpath-worker");

async function main() {
  if (!env.DATABASE_URL) {
    throw new StartupError(
      "DATABASE_URL is not set. A separate worker process needs a Postgres server shared with the app server (the embedded database runs only inside the server process, which runs its own worker).",
    );
  }
  const rt = await openRuntime(env, log);
  const workers = startRuntimeWorkers(rt);
  log.info(
    {
      concurrency: env.WORKER_CONCURRENCY,
      runConcurrency: env.RUN_CONCURRENCY,
      prefix: env.QUEUE_PREFIX,
    },
    "worker running",
  );
  const shutdown = async () => {
    await workers.close();
    await rt.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Postpath worker cannot start: ${err instanceof StartupError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
