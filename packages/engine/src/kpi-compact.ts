// issue 15: folds the KPI rollups' shards (kpi-rollups.ts) of days that are over into shard 0, as
// compactRollups does for the journey rollups (rollups.ts). Sharding only spares concurrent order
// batches of today's rows; a dashboard range in the past otherwise sums up to 8 rows per key
// (90 days ending 182 days ago, 584k orders: 17.8 ms with one shard, 104.5 ms with every key on
// all 8).
//
// Order rows arrive late (an order's day is its own timestamp, and a late order re-pairs its
// customer's later order-days and second order), so any key may be written again after it was
// folded. Folding is therefore only a rewrite of a key's rows into fewer rows with the same sums:
// one statement per table deletes the key's rows on shards other than 0 (DELETE … RETURNING) and
// adds their sums to its shard-0 row (INSERT … ON CONFLICT DO UPDATE). The readers (kpis.ts) sum
// every shard of a key, so a write landing on any shard before or after is counted all the same.
// Concurrency (READ COMMITTED), per row:
//   - a writer holds a row of the key (its transaction is open): the fold's lock waits for it, then
//     reads the row's committed version — the writer's increment is in what is deleted and added;
//   - the fold holds a row it is deleting: a writer's upsert of that row waits, finds it deleted
//     and inserts it anew (ON CONFLICT retries the insert) — its increment stays on that shard;
//   - a row a writer inserts after the fold's snapshot is not seen, not deleted: it stays.
// Rows are locked in key order (ORDER BY … FOR UPDATE), as the writers lock theirs (one shard, in
// key order), and the shard-0 rows after them in key order too, so a fold and an order batch do not
// wait on each other in a circle.
//
// Which keys: those of the days from `days` days before the margin up to the margin (the end of
// yesterday's day by default: days ended at least a day ago), at most `limit` keys per statement,
// one statement per workspace and table (an index range of the workspace's keys). Late orders
// land on older days too (an import, a sender's replay): every `olderEvery`-th sweep of a process
// also folds one slice of `olderSliceDays` before that window, the next slice back the next time,
// to the workspace's first day and round again. A slice is an index range of its rows per table,
// folded or not: 7 ms of a sweep for 30 days of a workspace with 800 days and 413,000 buyer-day
// and second-order rows (3 ms for the 8-day window), so not on every sweep. KpiSecondDays
// has no day: all of its keys with rows off shard 0 are folded each sweep. It is one row per
// whole-days value and workspace (a few hundred), read whole by the dashboard for ranges spanning
// most of the history; its keys of short gaps are written all the time and fill their shards
// again, those of long gaps (most of its keys) are written rarely and stay folded. A threshold of
// rows per key would save one statement over a few hundred rows a sweep and decide nothing: the
// fold is correct whatever a writer does meanwhile.
//
// Rows of KpiBuyerDay, KpiSecondOrder and KpiSecondDays left at 0 customers on shard 0 (counts
// that cancel out once summed: a re-paired order-day) are deleted afterwards: the readers only sum
// them. KpiDay's rows are kept whatever they hold: kpis.ts reads the workspace's first and last
// day from them.
import type { SqlSession } from "@postpath/db";
import type { EngineContext } from "./context.ts";
import { utcDay } from "./rollups.ts";

const DAY = 86_400_000;

interface KpiTable {
  name: string;
  /** Key columns besides "workspaceId" and shard, in primary-key order. */
  keys: string[];
  /** The day column the window applies to (null: none, the workspace's keys). */
  day: string | null;
  counts: string[];
}

export const KPI_TABLES: readonly KpiTable[] = [
  {
    name: "KpiDay",
    keys: ["day"],
    day: "day",
    counts: [
      "orders",
      "revenue",
      "journeyOrders",
      "journeyRevenue",
      "firstBuyers",
      "lastBuyers",
      "oneOrder",
      "seconds",
    ],
  },
  { name: "KpiBuyerDay", keys: ["day", "gapDays"], day: "day", counts: ["customers"] },
  {
    name: "KpiSecondOrder",
    keys: ["secondDay", "firstDay", "days"],
    day: "secondDay",
    counts: ["customers"],
  },
  { name: "KpiSecondDays", keys: ["days"], day: null, counts: ["customers"] },
];

const q = (c: string) => `"${c}"`;

/** One table's fold: $1 workspace, $2 keys at most, $3 first day, $4 day after the last (days). */
function foldSql(t: KpiTable): string {
  const keys = t.keys.map(q).join(", ");
  const tk = t.keys.map((k) => `t.${q(k)}`).join(", ");
  const window = t.day ? `AND ${q(t.day)} >= $3::date AND ${q(t.day)} < $4::date` : "";
  const sameKey = t.keys.map((k) => `t.${q(k)} = l.${q(k)}`).join(" AND ");
  const conflict = `("workspaceId", ${keys}, shard)`;
  return `WITH picked AS (
  SELECT DISTINCT ${keys} FROM "${t.name}"
  WHERE "workspaceId" = $1 ${window} AND shard <> 0
  ORDER BY ${keys} LIMIT $2
), locked AS (
  SELECT ${tk}, t.shard FROM "${t.name}" t JOIN picked USING (${keys})
  WHERE t."workspaceId" = $1 AND t.shard <> 0
  ORDER BY ${tk}, t.shard
  FOR UPDATE OF t
), gone AS (
  DELETE FROM "${t.name}" t USING locked l
  WHERE t."workspaceId" = $1 AND ${sameKey} AND t.shard = l.shard
  RETURNING t.*
), kept AS (
  INSERT INTO "${t.name}" ("workspaceId", ${keys}, shard, ${t.counts.map(q).join(", ")})
  SELECT $1, ${keys}, 0, ${t.counts.map((c) => `sum(${q(c)})`).join(", ")}
  FROM gone GROUP BY ${keys} ORDER BY ${keys}
  ON CONFLICT ${conflict} DO UPDATE
  SET ${t.counts.map((c) => `${q(c)} = "${t.name}".${q(c)} + EXCLUDED.${q(c)}`).join(", ")}
)
SELECT count(*)::int AS n FROM gone`;
}

/** Shard-0 rows at 0 customers: $1 workspace, $2 first day, $3 day after the last (days). */
function zeroSql(t: KpiTable): string {
  const window = t.day ? `AND ${q(t.day)} >= $2::date AND ${q(t.day)} < $3::date` : "";
  return `DELETE FROM "${t.name}" WHERE "workspaceId" = $1 ${window} AND shard = 0 AND customers = 0`;
}

export interface KpiCompactOptions {
  /** Days folded: this many before the margin's day (default 7). */
  days?: number;
  /** Days before today (UTC) that are left alone (default 1: today and yesterday). */
  marginDays?: number;
  /** Keys folded per workspace and table in one sweep (default 2,000). */
  limit?: number;
  /** Days of an older slice, before the window above (default 30; 0: none). */
  olderSliceDays?: number;
  /** Sweeps of this process per older slice folded (default 20: every 5 minutes at 15 s). */
  olderEvery?: number;
  /** Only this workspace (tests, an operator's fold of one workspace); default: all. */
  workspaceId?: string;
}

/** Which older slice this process's next sweep folds (see the header). */
let olderTurn = 0;

/**
 * Folds the KPI rollups' shards of days that are over into shard 0 (see the header); called by
 * the sweeper. `db` may be a session in the caller's transaction. Returns the rows folded away.
 */
export async function compactKpiRollups(
  ctx: Pick<EngineContext, "now"> & { db: Pick<SqlSession, "query"> },
  opts: KpiCompactOptions = {},
): Promise<number> {
  const marginDays = opts.marginDays ?? 1;
  const end = utcDay(ctx.now() - marginDays * DAY);
  const start = utcDay(ctx.now() - (marginDays + (opts.days ?? 7)) * DAY);
  const limit = opts.limit ?? 2000;
  // The workspaces with KPI rows: a skip scan over KpiDay's primary key, one probe per workspace.
  const workspaces = opts.workspaceId
    ? [{ id: opts.workspaceId }]
    : await ctx.db.query<{ id: string }>(
        `WITH RECURSIVE w AS (
           (SELECT "workspaceId" AS id FROM "KpiDay" ORDER BY 1 LIMIT 1)
           UNION ALL
           SELECT (SELECT "workspaceId" FROM "KpiDay" WHERE "workspaceId" > w.id ORDER BY 1 LIMIT 1)
           FROM w WHERE w.id IS NOT NULL
         )
         SELECT id FROM w WHERE id IS NOT NULL`,
      );
  const every = Math.max(1, opts.olderEvery ?? 20);
  const sweep = olderTurn++;
  const sliceDays = sweep % every === 0 ? (opts.olderSliceDays ?? 30) : 0;
  const turn = Math.floor(sweep / every);
  let folded = 0;
  const foldDays = async (workspaceId: string, tables: readonly KpiTable[], window: string[]) => {
    for (const t of tables) {
      const range = t.day ? window : [];
      const [row] = await ctx.db.query<{ n: number }>(foldSql(t), [workspaceId, limit, ...range], {
        prepare: `engine.kpiFold${t.name}`,
      });
      folded += row?.n ?? 0;
      if (t.counts.length === 1 && row?.n)
        await ctx.db.query(zeroSql(t), [workspaceId, ...range], {
          prepare: `engine.kpiZero${t.name}`,
        });
    }
  };
  for (const w of workspaces) {
    await foldDays(w.id, KPI_TABLES, [start, end]);
    if (sliceDays <= 0) continue;
    // The older slice: every table keyed by day, KpiDay's first day of the workspace the limit.
    const [first] = await ctx.db.query<{ day: string | null }>(
      `SELECT min(day)::text AS day FROM "KpiDay" WHERE "workspaceId" = $1`,
      [w.id],
      { prepare: "engine.kpiFirstDay" },
    );
    if (!first?.day || first.day >= start) continue;
    const startMs = Date.parse(`${start}T00:00:00Z`);
    const slices = Math.ceil((startMs - Date.parse(`${first.day}T00:00:00Z`)) / (sliceDays * DAY));
    const sliceEnd = startMs - (turn % slices) * sliceDays * DAY;
    await foldDays(
      w.id,
      KPI_TABLES.filter((t) => t.day),
      [utcDay(sliceEnd - sliceDays * DAY), utcDay(sliceEnd)],
    );
  }
  return folded;
}
