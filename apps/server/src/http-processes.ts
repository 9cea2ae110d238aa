// issue 14/15: HTTP_PROCESSES > 1 — the server's HTTP on several processes sharing HOST:PORT
// (node:cluster), so pages and the API use more than one core. The first process (the primary)
// starts Redis if needed, migrates, runs the journey workers and supervises: it forks the HTTP
// processes, waits until every one listens, replaces one that dies and stops them all on
// shutdown. An HTTP process opens its connections only (openRuntime `alongside`) and serves; what
// it keeps in memory (page documents, settings for a few seconds) is a cache, so any process may
// answer any request, as behind a proxy (README: "A deployment that scales").
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "@postpath/engine";

/** Set in an HTTP process's environment: which one it is (1…N), for its log lines. */
export const HTTP_PROCESS_ENV = "POSTPATH_HTTP_PROCESS";

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A process that served this long before dying restarts at once again (not a crash loop). */
const STABLE_MS = 60_000;

export interface HttpProcesses {
  /** The address every process listens on (as Fastify prints it). */
  address: string;
  /** SIGTERM to each (they finish their requests and close), then waits for all to exit. */
  close(): Promise<void>;
}

/**
 * Forks `count` HTTP processes (this file's caller runs as the primary) and resolves once all
 * listen. A process that exits before listening fails the start (its own stderr says why);
 * one that dies later is replaced after a pause that doubles while it keeps dying (1 s … 30 s).
 */
export function startHttpProcesses(count: number, log: Logger): Promise<HttpProcesses> {
  let closing = false;
  let started = false;
  const live = new Set<Worker>();
  const delays = new Map<number, number>(); // slot → next restart pause
  const fork = (slot: number): Worker => {
    const worker = cluster.fork({ [HTTP_PROCESS_ENV]: String(slot) });
    const bornAt = Date.now();
    live.add(worker);
    worker.once("exit", (code, signal) => {
      live.delete(worker);
      if (closing || !started) return;
      const pause =
        Date.now() - bornAt > STABLE_MS ? RESTART_MIN_MS : (delays.get(slot) ?? RESTART_MIN_MS);
      delays.set(slot, Math.min(pause * 2, RESTART_MAX_MS));
      log.error(
        { process: slot, processPid: worker.process.pid, code, signal, restartInMs: pause },
        "an HTTP process ended; starting a new one",
      );
      setTimeout(() => {
        if (!closing) fork(slot);
      }, pause).unref();
    });
    return worker;
  };

  const close = async () => {
    closing = true;
    const exits = [...live].map(
      (w) =>
        new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once("exit", () => resolve()))),
    );
    for (const w of live) w.process.kill("SIGTERM");
    await Promise.all(exits);
  };

  return new Promise((resolve, reject) => {
    let listening = 0;
    let address = "";
    const onListening = (_w: Worker, a: { address: string; port: number }) => {
      address ||= `http://${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`;
      if (++listening < count || started) return;
      started = true;
      cluster.off("exit", onEarlyExit);
      resolve({ address, close });
    };
    const onEarlyExit = (w: Worker, code: number | null, signal: string | null) => {
      if (started) return;
      cluster.off("listening", onListening);
      void close().then(() =>
        reject(
          new Error(
            `an HTTP process (pid ${w.process.pid}) ended before listening (${signal ?? `exit code ${code}`})`,
          ),
        ),
      );
    };
    cluster.on("listening", onListening);
    cluster.on("exit", onEarlyExit);
    for (let slot = 1; slot <= count; slot++) fork(slot);
  });
}

/** In an HTTP process: which one (1…N), or null in the primary or a single-process server. */
export function httpProcessNumber(): number | null {
  return cluster.isWorker ? Number(process.env[HTTP_PROCESS_ENV]) || null : null;
}
