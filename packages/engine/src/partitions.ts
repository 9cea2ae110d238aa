// issue 15, item 6: "RunTrace" is partitioned by month of `at` (migration
// 20261205063109_runtrace_partitions): RunTrace_y2027m01 holds January 2027 (UTC), the legacy
// partition holds everything before the migration's first month, and RunTrace_default whatever no
// month holds (a test clock far in the past or future), so an insert never fails. The sweeper
// creates the current month and the next two ahead of time, and drops the months wholly past
// TRACE_RETENTION_DAYS — DETACH and DROP, no row deleted one by one.
//
// Both are safe when several processes sweep at once: creating a month another process just
// created, or dropping one it just dropped, is skipped; a lock not granted within
// PARTITION_LOCK_TIMEOUT is skipped too (the next sweep tries again) rather than queueing the
// traces' writers behind it. Neither ever fails the sweep: what goes wrong is logged.
import type { EngineContext } from "./context.ts";

export const TRACE_PARENT = "RunTrace";
export const TRACE_DEFAULT_PARTITION = "RunTrace_default";
/** Months created ahead of the current one. */
export const TRACE_MONTHS_AHEAD = 2;
/** How long creating or dropping a partition waits for its lock before leaving it to the next sweep. */
export const PARTITION_LOCK_TIMEOUT = "5s";

const DAY_MS = 24 * 3600_000;

/** One partition of RunTrace; `from`/`to` null: MINVALUE/MAXVALUE; both null when `isDefault`. */
export interface TracePartition {
  name: string;
  isDefault: boolean;
  from: Date | null;
  to: Date | null;
}

/** The first instant of the UTC month `add` months after the one holding `ms`. */
function monthStart(ms: number, add = 0): Date {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1));
}

/** RunTrace_y2027m01 for January 2027. */
export function tracePartitionName(month: Date): string {
  return `${TRACE_PARENT}_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** A timestamp literal (`at` is a timestamp without time zone holding UTC). */
function lit(d: Date): string {
  return `'${d.toISOString().slice(0, 23).replace("T", " ")}'`;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function boundValue(v: string | undefined): Date | null {
  if (v === undefined || v === "MINVALUE" || v === "MAXVALUE") return null;
  return new Date(`${v.replace(/^'|'$/g, "").replace(" ", "T")}Z`);
}

/** RunTrace's partitions with their ranges, as the catalog states them. */
export async function listTracePartitions(ctx: EngineContext): Promise<TracePartition[]> {
  const rows = await ctx.db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = '"${TRACE_PARENT}"'::regclass
      ORDER BY c.relname`,
  );
  return rows.map(({ name, bound }) => {
    if (bound === "DEFAULT") return { name, isDefault: true, from: null, to: null };
    // FOR VALUES FROM ('2027-01-01 00:00:00') TO ('2027-02-01 00:00:00'), or (MINVALUE) ...
    const m = /FROM \((.+)\) TO \((.+)\)/.exec(bound);
    return { name, isDefault: false, from: boundValue(m?.[1]), to: boundValue(m?.[2]) };
  });
}

function sqlState(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Creates the monthly partitions of the month holding `now` and the next TRACE_MONTHS_AHEAD, where
 * missing. Traces the default partition holds in such a month (written by a clock ahead of
 * time) move into it in the same transaction. A month some partition already covers (the legacy
 * one) is left as it is. Returns the partitions created.
 */
export async function ensureTracePartitions(
  ctx: EngineContext,
  now: number = ctx.now(),
): Promise<string[]> {
  const created: string[] = [];
  const existing = await listTracePartitions(ctx);
  for (let i = 0; i <= TRACE_MONTHS_AHEAD; i++) {
    const from = monthStart(now, i);
    const to = monthStart(now, i + 1);
    const name = tracePartitionName(from);
    if (
      existing.some(
        (p) => !p.isDefault && (p.from === null || p.from < to) && (p.to === null || p.to > from),
      )
    )
      continue;
    const range = `"at" >= ${lit(from)} AND "at" < ${lit(to)}`;
    try {
      const [waiting] = await ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${ident(TRACE_DEFAULT_PARTITION)} WHERE ${range}`,
      );
      // One simple query: one transaction. The new table is built on its own (its CHECK makes
      // ATTACH skip the scan) and attached, which locks the parent only in SHARE UPDATE EXCLUSIVE
      // mode (CREATE TABLE ... PARTITION OF would block every reader and writer of the traces).
      await ctx.db.exec(
        `SET LOCAL lock_timeout = '${PARTITION_LOCK_TIMEOUT}';
         CREATE TABLE ${ident(name)} (LIKE ${ident(TRACE_PARENT)} INCLUDING DEFAULTS);
         ALTER TABLE ${ident(name)} ADD CONSTRAINT ${ident(`${name}_range`)} CHECK (${range});
         WITH moved AS (DELETE FROM ${ident(TRACE_DEFAULT_PARTITION)} WHERE ${range} RETURNING *)
           INSERT INTO ${ident(name)} SELECT * FROM moved;
         ALTER TABLE ${ident(TRACE_PARENT)} ATTACH PARTITION ${ident(name)}
           FOR VALUES FROM (${lit(from)}) TO (${lit(to)});
         ALTER TABLE ${ident(name)} DROP CONSTRAINT ${ident(`${name}_range`)};`,
      );
      created.push(name);
      ctx.log.info(
        { partition: name, movedFromDefault: waiting?.n ?? 0 },
        "created a month of run traces",
      );
    } catch (err) {
      const code = sqlState(err);
      // 42P07 / 23505: another process created it meanwhile; 42P17: another partition covers it.
      if (code === "42P07" || code === "23505" || code === "42P17") continue;
      // 55P03: a lock not granted in time (a long query on the traces); the next sweep retries.
      ctx.log.warn(
        { partition: name, code, err: message(err) },
        "could not create a month of run traces; the next sweep tries again",
      );
    }
  }
  return created;
}

/**
 * Drops (DETACH, then DROP) RunTrace's partitions whose whole range ends at or before
 * now − retentionDays: every trace in them is older than the retention. 0 keeps everything. The
 * default partition is never dropped; the legacy one only once its whole range is past. Returns
 * the partitions dropped.
 */
export async function dropExpiredTracePartitions(
  ctx: EngineContext,
  now: number,
  retentionDays: number,
): Promise<string[]> {
  if (!(retentionDays > 0)) return [];
  const cutoff = now - retentionDays * DAY_MS;
  const expired = (await listTracePartitions(ctx)).filter(
    (p) => !p.isDefault && p.to !== null && p.to.getTime() <= cutoff,
  );
  const dropped: string[] = [];
  for (const p of expired) {
    try {
      await ctx.db.exec(
        `SET LOCAL lock_timeout = '${PARTITION_LOCK_TIMEOUT}';
         ALTER TABLE ${ident(TRACE_PARENT)} DETACH PARTITION ${ident(p.name)};
         DROP TABLE ${ident(p.name)};`,
      );
      dropped.push(p.name);
    } catch (err) {
      // 42P01: another process dropped it meanwhile.
      if (sqlState(err) === "42P01") continue;
      ctx.log.warn(
        { partition: p.name, code: sqlState(err), err: message(err) },
        "could not drop an expired month of run traces; the next sweep tries again",
      );
    }
  }
  if (dropped.length)
    ctx.log.info(
      { partitions: dropped, traceRetentionDays: retentionDays },
      "dropped run traces past their retention",
    );
  return dropped;
}
