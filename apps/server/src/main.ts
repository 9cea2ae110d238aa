import cluster from "node:cluster";
import fs from "node:fs";
import path from "node:path";
import { seedDemo, DEMO_PASSWORD } from "@postpath/api";
import { loadEnvOrExit } from "@postpath/config";
import {
  createLogger,
  openRuntime,
  REPO_ROOT,
  startRuntimeWorkers,
  StartupError,
} from "@postpath/engine";
import { buildApp } from "./app.ts";
import { httpProcessNumber, startHttpProcesses, type HttpProcesses } from "./http-processes.ts";
import { startWorkerThread } from "./worker-thread.ts";

const env = loadEnvOrExit();
const httpProcess = httpProcessNumber();
const log = createLogger(env.LOG_LEVEL, httpProcess ? `postpath-http-${httpProcess}` : "postpath");
/** HTTP_PROCESSES > 1: this process supervises the HTTP processes instead of listening itself. */
const supervising = cluster.isPrimary && env.HTTP_PROCESSES > 1;

/** The HTTP app on a runtime (the single process's, or an HTTP process's own). */
function appFor(rt: Awaited<ReturnType<typeof openRuntime>>) {
  const webDist = path.resolve(REPO_ROOT, env.WEB_DIST ?? "apps/web/dist");
  return buildApp({
    db: rt.db,
    replica: rt.replica, // issue 15
    engine: rt.engine,
    keyring: rt.keyring,
    monitor: rt.monitor,
    log,
    webDist,
    secureCookies: env.PUBLIC_URL?.startsWith("https:") ?? false,
    ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}), // issue 12: same-origin mutations
    serveSourceMaps: env.NODE_ENV !== "production", // issue 12
    trustProxy: env.TRUST_PROXY,
    accounts: { allowSignup: env.ALLOW_SIGNUP, instanceOwnerEmails: env.INSTANCE_OWNER_EMAILS }, // issue 12
  });
}

/**
 * One of HTTP_PROCESSES: the primary has started Redis, migrated and runs the journey workers;
 * this process serves HTTP on the shared port until told to stop (or its primary is gone).
 */
async function serveHttp() {
  const rt = await openRuntime(env, log, { alongside: true, replica: true });
  const app = await appFor(rt);
  await app.listen({ host: env.HOST, port: env.PORT });
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await app.close();
    await rt.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  // The primary ended without stopping us (killed): no process supervises or runs workers.
  cluster.worker?.on("disconnect", () => void shutdown());
}

async function main() {
  if (supervising && !env.DATABASE_URL)
    throw new StartupError(
      `HTTP_PROCESSES=${env.HTTP_PROCESSES} needs DATABASE_URL: the embedded database lives in one process. Set DATABASE_URL to a PostgreSQL database, or HTTP_PROCESSES=1.`,
    );
  const rt = await openRuntime(env, log);
  // The journey workers: in a worker thread (own event loop and connections), so their job
  // batches never delay a page or an API answer; with the embedded database (PGlite lives in this
  // thread's memory and cannot be opened twice) on this thread, as before (worker-thread.ts).
  // Until the shutdown below exists, a failure of the thread is kept and handled then.
  let early: Error | null = null;
  let crashed = (err: Error) => void (early ??= err);
  const workerThread =
    env.RUN_WORKER && env.DATABASE_URL
      ? startWorkerThread(env, (err) => crashed(err))
      : Promise.resolve(null);
  workerThread.catch(() => undefined); // awaited before listening; a failure is thrown there
  const workers = env.RUN_WORKER && !env.DATABASE_URL ? startRuntimeWorkers(rt) : null;
  if (!env.DATABASE_URL && !env.RUN_WORKER)
    log.warn(
      "RUN_WORKER=false with the embedded database: no worker can reach it, journeys will not run",
    );

  // HTTP_PROCESSES > 1: the HTTP processes build their own apps; this one only supervises them.
  const app = supervising ? null : await appFor(rt);

  let seedNote = "";
  if (env.SEED_DEMO) {
    // The demo write key is stored hashed like any other; its plain text is kept for the demo
    // only, in the local data folder (owner-readable), so a restart can still print it.
    const keyFile = path.resolve(REPO_ROOT, env.POSTPATH_DATA_DIR, "demo-write-key.txt");
    const seed = await seedDemo(rt.db, rt.engine);
    if (seed.writeKey) {
      fs.mkdirSync(path.dirname(keyFile), { recursive: true });
      fs.writeFileSync(keyFile, `${seed.writeKey}\n`, { mode: 0o600 });
    }
    const writeKey = fs.existsSync(keyFile)
      ? fs.readFileSync(keyFile, "utf8").trim()
      : "(created earlier; make a new one as an admin)";
    seedNote = `\n  Demo logins: admin@postpath.local / marketer@postpath.local, password "${DEMO_PASSWORD}"\n  Demo ingest write key: ${writeKey}`;
  }

  const thread = await workerThread.catch(async (err: unknown) => {
    await app?.close();
    await rt.close();
    throw err;
  });
  let http: HttpProcesses | null = null;
  if (supervising)
    http = await startHttpProcesses(env.HTTP_PROCESSES, log).catch(async (err: unknown) => {
      await thread?.close();
      await rt.close();
      throw err;
    });
  const address = http ? http.address : await app!.listen({ host: env.HOST, port: env.PORT });
  process.stdout.write(
    `\nPostpath is running at ${env.PUBLIC_URL ?? address}${http ? ` (${env.HTTP_PROCESSES} HTTP processes)` : ""}\n  Database: ${rt.db.location}\n  Redis: ${env.REDIS_URL}${rt.redisChild ? " (started by Postpath)" : ""}\n  Worker: ${workers || thread ? "in this process" : "off (run apps/worker)"}\n  Credentials master key: ${rt.masterKey.source}${rt.masterKey.generated ? " (just generated for development: back it up; set POSTPATH_MASTER_KEY or POSTPATH_MASTER_KEY_FILE in production)" : ""}${seedNote}\n\n`,
  );

  let closing = false;
  const shutdown = async (signal: string, code = 0) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, "shutting down");
    await app?.close();
    await http?.close();
    await thread?.close();
    await workers?.close();
    await rt.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // The workers failed (an error no job handler caught): the process ends, as it did when they
  // shared this thread, so a supervisor restarts it instead of a server whose journeys stand still.
  crashed = (err) => {
    log.fatal({ err: err.stack ?? err.message }, "the worker thread failed");
    void shutdown("worker thread failed", 1);
  };
  if (early) crashed(early);
}

(cluster.isWorker ? serveHttp() : main()).catch((err: unknown) => {
  if (err instanceof StartupError) {
    process.stderr.write(`Postpath cannot start: ${err.message}\n`);
  } else {
    process.stderr.write(
      `Postpath failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
