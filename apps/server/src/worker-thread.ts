// The journey workers of `pnpm start` (RUN_WORKER=true) in a worker thread of the server process:
// their own event loop, database pool and Redis connections (worker-thread-entry.ts), so a batch
// of event or run jobs never holds up a page render or an API answer on the main thread's loop
// (bench/landing-page: max event-loop delay 64–77 ms with the workers on the server's loop).
// The embedded database (PGlite, no DATABASE_URL) lives inside the main thread's heap and cannot
// be opened a second time: in that case main.ts runs the workers on the main thread as before.
import { Worker } from "node:worker_threads";
import type { Env } from "@postpath/config";
import { StartupError } from "@postpath/engine";

export type ToWorkerThread = { type: "close" };
export type FromWorkerThread =
  { type: "ready" } | { type: "failed"; startup: boolean; message: string; stack: string };

export interface WorkerThread {
  /** Lets the jobs in flight finish, closes the workers and their connections; the thread ends. */
  close(): Promise<void>;
}

/**
 * Starts the thread and resolves once its workers consume (a StartupError when the thread could
 * not start them, as the server's own start-up says it). After that, `onCrash` is called if the
 * thread fails or ends without being asked to, or fails while closing (an uncaught error in a job handler, which would
 * have ended the process when the workers shared the main thread).
 */
export function startWorkerThread(env: Env, onCrash: (err: Error) => void): Promise<WorkerThread> {
  const thread = new Worker(new URL("./worker-thread-boot.mjs", import.meta.url), {
    name: "postpath-worker",
    workerData: { entry: new URL("./worker-thread-entry.ts", import.meta.url).href, env },
  });
  let ready = false;
  let closing = false;
  const exited = new Promise<number>((resolve) => thread.once("exit", resolve));
  return new Promise((resolve, reject) => {
    let failure: Error | null = null;
    thread.on("message", (m: FromWorkerThread) => {
      if (m.type === "ready") {
        ready = true;
        resolve({
          async close() {
            if (!closing) {
              closing = true;
              thread.postMessage({ type: "close" } satisfies ToWorkerThread);
            }
            await exited;
          },
        });
      } else if (m.type === "failed") {
        failure = m.startup
          ? new StartupError(m.message)
          : Object.assign(new Error(m.message), { stack: m.stack });
      }
    });
    thread.on("error", (err) => {
      failure ??= err; // an uncaught error: the thread ends next
    });
    void exited.then((code) => {
      const err = failure ?? new Error(`the worker thread ended (exit code ${code})`);
      if (!ready) reject(err);
      else if (!closing || code !== 0) onCrash(err);
    });
  });
}
