// issue 15, item 6: tables partitioned by month (declarative RANGE partitioning), one partition
// per UTC month of a timestamp column, plus a legacy partition (the table as it was before its
// migration: everything before the migration's first month) and a default one taking whatever no
// month holds (a test clock far in the past or future), so an insert never fails:
//   "RunTrace" by `at`         (migration 20261205063109_runtrace_partitions): RunTrace_y2027m01 ...
//   "Event"    by `receivedAt` (migration 20261205200000_event_partitions):    Event_y2027m01 ...
// The sweeper creates the current month and the next two ahead of time, and drops the months
// wholly past the table's retention — DETACH and DROP, no row deleted one by one (maintenance.ts
// decides which months of events may go: none holding an unprocessed event).
//
// Both are safe when several processes sweep at once: creating a month another process just
// created, or dropping one it just dropped, is skipped; a lock not granted within the table's lock
// timeout is skipped too (the next sweep tries again) rather than queueing the table's writers
// behind it. Neither ever fails the sweep: what goes wrong is logged.
import type { EngineContext } from "./context.ts";

/** A table partitioned by month of one timestamp column. */
export interface MonthlyTable {
  /** The partitioned parent, e.g. "RunTrace"; its months are `<parent>_y2027m01`. */
  parent: string;
  /** The partition column (a timestamp without time zone holding UTC). */
  column: string;
  /** The partition taking what no month holds; never dropped. */
  defaultPartition: string;
  /** What a row is called in the log ("run traces", "events"). */
  rows: string;
  /**
   * How long creating or dropping a partition waits for each lock before leaving it to the next
   * sweep (other sessions queue behind a lock being waited for).
   */
  lockTimeout: string;
}

/** How long creating or dropping a month of run traces waits for its lock. */
export const PARTITION_LOCK_TIMEOUT = "5s";

export const TRACES: MonthlyTable = {
  parent: "RunTrace",
  column: "at",
  defaultPartition: "RunTrace_default",
  rows: "run traces",
  lockTimeout: PARTITION_LOCK_TIMEOUT,
};

/**
 * Dropping a month of events detaches it, which takes the ACCESS EXCLUSIVE lock of "Event" itself
 * for a moment: a shorter wait, so ingest and the requests reading events queue behind it for at
 * most this long (the next sweep tries again). "Event" has no foreign keys (migration
 * 20261205230000_event_no_foreign_keys), so neither creating nor dropping a month locks "Customer"
 * or "Workspace".
 */
export const EVENTS: MonthlyTable = {
  parent: "Event",
  column: "receivedAt",
  defaultPartition: "Event_default",
  rows: "events",
  lockTimeout: "1s",
};

export const TRACE_PARENT = TRACES.parent;
export const TRACE_DEFAULT_PARTITION = TRACES.defaultPartition;
export const EVENT_DEFAULT_PARTITION = EVENTS.defaultPartition;
/** Months created ahead of the current one. */
export const MONTHS_AHEAD = 2;
export const TRACE_MONTHS_AHEAD = MONTHS_AHEAD;

const DAY_MS = 24 * 3600_000;

/** One partition; `from`/`to` null: MINVALUE/MAXVALUE; both null when `isDefault`. */
export interface MonthPartition {
  name: string;
  isDefault: boolean;
  from: Date | null;
  to: Date | null;
}
export type TracePartition = MonthPartition;

/** The first instant of the UTC month `add` months after the one holding `ms`. */
function monthStart(ms: number, add = 0): Date {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1));
}

/** RunTrace_y2027m01 for January 2027 (Event_y2027m01 for events). */
export function monthPartitionName(table: MonthlyTable, month: Date): string {
  return `${table.parent}_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, "0")}`;
}

export function tracePartitionName(month: Date): string {
  return monthPartitionName(TRACES, month);
}

/** A timestamp literal (the columns are timestamps without time zone holding UTC). */
export function lit(d: Date): string {
  return `'${d.toISOString().slice(0, 23).replace("T", " ")}'`;
}

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The SQL condition a partition's rows meet (`from`/`to` null: unbounded on that side). */
export function rangeOf(table: MonthlyTable, p: Pick<MonthPartition, "from" | "to">): string {
  const col = ident(table.column);
  const parts = [
    ...(p.from ? [`${col} >= ${lit(p.from)}`] : []),
    ...(p.to ? [`${col} < ${lit(p.to)}`] : []),
  ];
  return parts.length ? parts.join(" AND ") : "true";
}

function boundValue(v: string | undefined): Date | null {
  if (v === undefined || v === "MINVALUE" || v === "MAXVALUE") return null;
  return new Date(`${v.replace(/^'|'$/g, "").replace(" ", "T")}Z`);
}

/** A table's partitions with their ranges, as the catalog states them. */
export async function listMonthPartitions(
  ctx: EngineContext,
  table: MonthlyTable,
): Promise<MonthPartition[]> {
  const rows = await ctx.db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass
      ORDER BY c.relname`,
    [ident(table.parent)],
  );
  return rows.map(({ name, bound }) => {
    if (bound === "DEFAULT") return { name, isDefault: true, from: null, to: null };
    // FOR VALUES FROM ('2027-01-01 00:00:00') TO ('2027-02-01 00:00:00'), or (MINVALUE) ...
    const m = /FROM \((.+)\) TO \((.+)\)/.exec(bound);
    return { name, isDefault: false, from: boundValue(m?.[1]), to: boundValue(m?.[2]) };
  });
}

/** RunTrace's partitions with their ranges. */
export function listTracePartitions(ctx: EngineContext): Promise<MonthPartition[]> {
  return listMonthPartitions(ctx, TRACES);
}

export function sqlState(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Creates the monthly partitions of the month holding `now` and the next MONTHS_AHEAD, where
 * missing. Rows the default partition holds in such a month (written by a clock ahead of time)
 * move into it in the same transaction. A month some partition already covers (the legacy one) is
 * left as it is. Returns the partitions created.
 */
export async function ensureMonthPartitions(
  ctx: EngineContext,
  table: MonthlyTable,
  now: number = ctx.now(),
): Promise<string[]> {
  const created: string[] = [];
  const existing = await listMonthPartitions(ctx, table);
  for (let i = 0; i <= MONTHS_AHEAD; i++) {
    const from = monthStart(now, i);
    const to = monthStart(now, i + 1);
    const name = monthPartitionName(table, from);
    if (
      existing.some(
        (p) => !p.isDefault && (p.from === null || p.from < to) && (p.to === null || p.to > from),
      )
    )
      continue;
    const range = rangeOf(table, { from, to });
    try {
      const [waiting] = await ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${ident(table.defaultPartition)} WHERE ${range}`,
      );
      // One simple query: one transaction. The new table is built on its own (its CHECK makes
      // ATTACH skip the scan) and attached, which locks the parent only in SHARE UPDATE EXCLUSIVE
      // mode (CREATE TABLE ... PARTITION OF would block every reader and writer of the table).
      await ctx.db.exec(
        `SET LOCAL lock_timeout = '${table.lockTimeout}';
         CREATE TABLE ${ident(name)} (LIKE ${ident(table.parent)} INCLUDING DEFAULTS);
         ALTER TABLE ${ident(name)} ADD CONSTRAINT ${ident(`${name}_range`)} CHECK (${range});
         WITH moved AS (DELETE FROM ${ident(table.defaultPartition)} WHERE ${range} RETURNING *)
           INSERT INTO ${ident(name)} SELECT * FROM moved;
         ALTER TABLE ${ident(table.parent)} ATTACH PARTITION ${ident(name)}
           FOR VALUES FROM (${lit(from)}) TO (${lit(to)});
         ALTER TABLE ${ident(name)} DROP CONSTRAINT ${ident(`${name}_range`)};`,
      );
      created.push(name);
      ctx.log.info(
        { partition: name, movedFromDefault: waiting?.n ?? 0 },
        `created a month of ${table.rows}`,
      );
    } catch (err) {
      const code = sqlState(err);
      // 42P07 / 23505: another process created it meanwhile; 42P17: another partition covers it.
      if (code === "42P07" || code === "23505" || code === "42P17") continue;
      // 55P03: a lock not granted in time (a long query on the table); the next sweep retries.
      ctx.log.warn(
        { partition: name, code, err: message(err) },
        `could not create a month of ${table.rows}; the next sweep tries again`,
      );
    }
  }
  return created;
}

export function ensureTracePartitions(
  ctx: EngineContext,
  now: number = ctx.now(),
): Promise<string[]> {
  return ensureMonthPartitions(ctx, TRACES, now);
}

/** A table's partitions (not the default one) whose whole range ends at or before `cutoff`. */
export async function expiredMonthPartitions(
  ctx: EngineContext,
  table: MonthlyTable,
  cutoff: number,
): Promise<MonthPartition[]> {
  return (await listMonthPartitions(ctx, table)).filter(
    (p) => !p.isDefault && p.to !== null && p.to.getTime() <= cutoff,
  );
}

/**
 * Detaches and drops one partition; false when it could not be (logged: the next sweep tries
 * again) or another process dropped it first.
 */
export async function dropMonthPartition(
  ctx: EngineContext,
  table: MonthlyTable,
  name: string,
): Promise<boolean> {
  try {
    await ctx.db.exec(
      `SET LOCAL lock_timeout = '${table.lockTimeout}';
       ALTER TABLE ${ident(table.parent)} DETACH PARTITION ${ident(name)};
       DROP TABLE ${ident(name)};`,
    );
    return true;
  } catch (err) {
    // 42P01: another process dropped it meanwhile.
    if (sqlState(err) === "42P01") return false;
    ctx.log.warn(
      { partition: name, code: sqlState(err), err: message(err) },
      `could not drop an expired month of ${table.rows}; the next sweep tries again`,
    );
    return false;
  }
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
  const expired = await expiredMonthPartitions(ctx, TRACES, now - retentionDays * DAY_MS);
  const dropped: string[] = [];
  for (const p of expired) if (await dropMonthPartition(ctx, TRACES, p.name)) dropped.push(p.name);
  if (dropped.length)
    ctx.log.info(
      { partitions: dropped, traceRetentionDays: retentionDays },
      "dropped run traces past their retention",
    );
  return dropped;
}
