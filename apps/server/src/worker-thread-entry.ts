// Runs in the server's worker thread (worker-thread.ts): the BullMQ workers with their own event
// loop, database pool, Redis connections and engine context, as a separate worker process
// (apps/worker) has them. Talks to the server's main thread through parentPort only.
import { parentPort, workerData } from "node:worker_threads";
import type { Env } from "@postpath/config";
import { createLogger, openRuntime, startRuntimeWorkers, StartupError } from "@postpath/engine";
import type { FromWorkerThread, ToWorkerThread } from "./worker-thread.ts";

if (!parentPort) throw new Error("worker-thread-entry.ts runs only in a worker thread");
const port = parentPort;
const { env } = workerData as { env: Env };
const log = createLogger(env.LOG_LEVEL, "postpath-worker");
const tell = (m: FromWorkerThread) => port.postMessage(m);

async function main() {
  // The main thread has started Redis if needed and migrated the database.
  const rt = await openRuntime(env, log, { alongside: true });
  const workers = startRuntimeWorkers(rt);
  let closing = false;
  port.on("message", (m: ToWorkerThread) => {
    if (m.type !== "close" || closing) return;
    closing = true;
    void (async () => {
      // Jobs in flight finish first (BullMQ's close waits for them), as in the worker process.
      await workers.close();
      await rt.close();
      process.exit(0); // in a worker thread: ends the thread (the main thread waits for that)
    })().catch((err: unknown) => {
      tell({ type: "failed", startup: false, ...describe(err) });
      process.exit(1);
    });
  });
  tell({ type: "ready" });
}

function describe(err: unknown): { message: string; stack: string } {
  return err instanceof Error
    ? { message: err.message, stack: err.stack ?? err.message }
    : { message: String(err), stack: String(err) };
}

main().catch((err: unknown) => {
  tell({ type: "failed", startup: err instanceof StartupError, ...describe(err) });
  process.exit(1); // in a worker thread: ends the thread, not the process
});
