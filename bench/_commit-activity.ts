// What the run commits were doing while a benchmark measured: pg_stat_activity sampled on a
// connection of its own, every few milliseconds. How many commits were executing at once says
// whether Postgres was kept busy (two commits in flight per worker process) or waited for the
// workers; what each was waiting on says where a commit's time went besides the CPU (the WAL
// flush, extending a table, a lock).
import { openDatabase } from "@postpath/db";

/**
 * How the run commit statement (store.ts `commitBatch`) begins, in pg_stat_activity and in
 * pg_stat_statements alike.
 */
export const RUN_COMMIT_PREFIX = "WITH upd AS (";

export interface CommitActivity {
  /** Samples taken. */
  samples: number;
  /** `inFlight[k]`: samples in which k run commits were executing. */
  inFlight: number[];
  /** Per executing commit per sample: what it waited on ("running": on a CPU or waiting for one). */
  waits: Map<string, number>;
  /** Why sampling stopped early (a failed query), if it did. */
  error?: string;
}

export interface CommitSampler {
  /** The sampler's own backend, to leave out of the CPU of the benchmark's backends. */
  pid: number;
  start(): void;
  /** Stops sampling (again: the same answer) and returns what was seen since `start()`. */
  stop(): Promise<CommitActivity>;
}

export async function commitSampler(url: string, everyMs = 20): Promise<CommitSampler> {
  const db = await openDatabase({ url, poolSize: 1 });
  const [me] = await db.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
  const seen: CommitActivity = { samples: 0, inFlight: [], waits: new Map() };
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  let stopped: Promise<CommitActivity> | null = null;
  const sample = async () => {
    while (running) {
      let rows: { wait: string }[];
      try {
        rows = await db.query<{ wait: string }>(
          `SELECT coalesce(wait_event_type || ': ' || wait_event, 'running') AS wait
           FROM pg_stat_activity
           WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
             AND starts_with(query, $1)`,
          [RUN_COMMIT_PREFIX],
        );
      } catch (err) {
        // The figures so far stand; the line says sampling stopped rather than failing the bench.
        seen.error = err instanceof Error ? err.message : String(err);
        return;
      }
      seen.samples++;
      seen.inFlight[rows.length] = (seen.inFlight[rows.length] ?? 0) + 1;
      for (const { wait } of rows) seen.waits.set(wait, (seen.waits.get(wait) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  return {
    pid: me!.pid,
    start() {
      running = true;
      loop = sample();
    },
    stop() {
      running = false;
      stopped ??= loop.finally(() => db.close()).then(() => seen);
      return stopped;
    },
  };
}

/** One line: the share of samples with 0, 1, 2 … commits in flight, then the commits' waits. */
export function describeCommitActivity(a: CommitActivity): string {
  if (a.samples === 0) return a.error ? `no samples (${a.error})` : "no samples";
  const pct = (n: number, of: number) => `${((n / of) * 100).toFixed(0)}%`;
  const inFlight = Array.from(a.inFlight, (n, k) => `${k} ${pct(n ?? 0, a.samples)}`).join(", ");
  const total = [...a.waits.values()].reduce((x, y) => x + y, 0);
  // Waits under 1% of the samples together, as "other".
  const shown = [...a.waits].filter(([, n]) => n / total >= 0.01).sort(([, x], [, y]) => y - x);
  const other = total - shown.reduce((x, [, n]) => x + n, 0);
  const waits = [...shown, ...(other > 0 ? [["other", other] as const] : [])]
    .map(([w, n]) => `${w} ${pct(n, total)}`)
    .join(", ");
  const stopped = a.error ? ` (sampling stopped early: ${a.error})` : "";
  return `${a.samples} samples${stopped}; commits executing at once: ${inFlight}; of the executing commits' samples: ${waits || "none"}`;
}
