// Where the CPU went during a phase of a benchmark: this process, Postgres (every backend and
// background process) and redis-server, as a percentage of one core, read from /proc (Linux only;
// elsewhere the figures are omitted). On a shared machine "other" shows what else was running.
// A process that exits during the phase is left out (its time cannot be read any more).
import fs from "node:fs";

/** CPU seconds used so far, per process id, with the group it counts in. */
type Snapshot = Map<number, { group: string; seconds: number }>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

const WORKERS = "node (worker processes)";

function group(pid: number, comm: string, workers: readonly number[], label: string): string {
  if (pid === process.pid) return "node (bench)";
  if (workers.includes(pid)) return label;
  if (comm.startsWith("postgres")) return "postgres";
  if (comm.startsWith("redis-server")) return "redis";
  return "other";
}

/** `workers`: pids of the benchmark's child processes (counted on their own, as `label`). */
export function cpuSnapshot(workers: readonly number[] = [], label = WORKERS): Snapshot | null {
  if (!fs.existsSync("/proc/self/stat")) return null;
  const out: Snapshot = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
    out.set(Number(entry), { group: group(Number(entry), comm, workers, label), seconds });
  }
  return out;
}

/** "node (bench) 84%, postgres 48%, redis 43%, other 2%" of one core over `ms`. */
export function cpuSince(
  before: Snapshot | null,
  ms: number,
  workers: readonly number[] = [],
  label = WORKERS,
): string {
  const after = cpuSnapshot(workers, label);
  if (!before || !after) return "CPU split unavailable (no /proc)";
  const used = new Map<string, number>();
  for (const [pid, { group, seconds }] of after)
    used.set(group, (used.get(group) ?? 0) + seconds - (before.get(pid)?.seconds ?? 0));
  return ["node (bench)", ...(workers.length ? [label] : []), "postgres", "redis", "other"]
    .map((k) => `${k} ${Math.round(((used.get(k) ?? 0) / (ms / 1000)) * 100)}%`)
    .join(", ");
}
