// Worker processes for the crash tests: the same startWorkers() as apps/worker, each a `node`
// process of its own (not the tsx wrapper, so a SIGKILL hits the process doing the work), with the
// settings the SIGKILL tests share: short locks and stall checks, and a sweeper that re-queues
// lost work after 20 s.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { WorkerProcessConfig } from "./worker-process.ts";

const ENTRY = path.join(import.meta.dirname, "worker-process.ts");
const PACKAGE_DIR = path.join(import.meta.dirname, "..", "..");

export interface WorkerFleet {
  /** Starts one more worker process. */
  spawn(extra?: Partial<WorkerProcessConfig>): ChildProcess;
  /** The processes still running. */
  readonly running: ReadonlySet<ChildProcess>;
  /** SIGKILLs every running process (also what the tests' afterAll does). */
  killAll(): void;
}

export function workerFleet(
  base: Pick<WorkerProcessConfig, "databaseUrl" | "prefix"> & Partial<WorkerProcessConfig>,
  opts: { stdout?: "inherit" | "ignore" } = {},
): WorkerFleet {
  const running = new Set<ChildProcess>();
  return {
    running,
    spawn(extra = {}) {
      const config: WorkerProcessConfig = {
        redisUrl: "redis://127.0.0.1:6379",
        concurrency: 25,
        lockDurationMs: 4000,
        stalledIntervalMs: 2000,
        sweepEveryMs: 5000,
        sweepGraceMs: 20_000,
        ...base,
        ...extra,
      };
      const child = spawn(process.execPath, ["--import", "tsx", ENTRY, JSON.stringify(config)], {
        cwd: PACKAGE_DIR,
        stdio: ["ignore", opts.stdout ?? "inherit", "inherit"],
      });
      running.add(child);
      child.on("exit", () => running.delete(child));
      return child;
    },
    killAll() {
      for (const c of [...running]) c.kill("SIGKILL");
    },
  };
}
