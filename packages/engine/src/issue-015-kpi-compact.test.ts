// Issue 15 (scale-out) on the real Postgres: the KPI rollups' shards of days that are over are
// folded into shard 0 (kpi-compact.ts), so a dashboard range in the past sums one row per key
// instead of up to eight; the figures (kpis.ts) stay those of a recount from the orders, today's
// rows are left alone, and an order transaction writing a key while it is folded loses nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { takeShard } from "./counters.ts";
import { compactKpiRollups } from "./kpi-compact.ts";
import { insertOrders, type NewOrder } from "./kpi-rollups.ts";
import { workspaceKpis, type KpiRange } from "./kpis.ts";
import { sleep, startEngineHarness, type EngineHarness } from "./testing/harness.ts";
import { holdOrders } from "./testing/kpi-orders.ts";
import { recountWorkspaceKpis } from "./testing/kpi-recount.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 6, 1, 9, 0, 0);
/** The sweep's clock: 2026-07-25, so days up to 2026-07-23 are folded (margin: one day). */
const NOW = Date.UTC(2026, 6, 25, 12, 0, 0);
const FOLDED_BEFORE = "2026-07-24";
const RUN = Math.random().toString(36).slice(2, 8);
let h: EngineHarness;

beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
});
afterAll(async () => {
  await h?.close();
});

const order = (workspace: string, id: string, customerId: string, ts: number): NewOrder => ({
  orderId: `${workspace}-${id}`,
  customerId,
  revenue: 25 + (id.length % 7),
  ts,
  eventId: `e-${workspace}-${id}`,
});

const fold = (workspaceId: string, db: EngineHarness["db"] | undefined = undefined) =>
  compactKpiRollups({ db: db ?? h.db, now: () => NOW }, { workspaceId, days: 60 });

const RANGES: KpiRange[] = [
  { from: "2026-07-01", to: "2026-07-20" },
  { from: "2026-06-01", to: "2026-08-31" },
  { from: "2026-07-01", to: "2026-07-01" },
  { from: "2026-07-03", to: "2026-07-09" },
  { from: "2026-07-10", to: "2026-07-12" },
  { from: "2026-07-15", to: "2026-07-25" },
  { from: "2026-07-19", to: "2026-07-30" },
  { from: "2026-07-24", to: "2026-07-25" },
];

const figures = (ws: string) => Promise.all(RANGES.map((r) => workspaceKpis(h.db, ws, r)));
const recount = (ws: string) => Promise.all(RANGES.map((r) => recountWorkspaceKpis(h.db, ws, r)));

/**
 * 40 customers, 1–4 orders each over 20 days from T0 and some on the sweep's yesterday and today,
 * arriving newest first in batches of 5 (each batch takes the next shard), three at a time: keys
 * on several shards, negative counts where an earlier order-day re-paired a later one.
 */
async function spreadOrders(ws: string): Promise<NewOrder[]> {
  const orders: NewOrder[] = [];
  for (let c = 0; c < 40; c++) {
    for (let k = 0; k <= c % 4; k++) {
      const day = (c * 7 + k * 5) % 20;
      orders.push(
        order(ws, `${c}-${k}`, `cust-${c}`, T0 + day * DAY + ((c * 37 + k) % 24) * 3.6e6),
      );
    }
    if (c % 3 === 0) orders.push(order(ws, `${c}-y`, `cust-${c}`, NOW - DAY - (c % 5) * 3.6e6));
    if (c % 4 === 1) orders.push(order(ws, `${c}-t`, `cust-${c}`, NOW - (c % 7) * 3.6e6));
  }
  orders.sort((a, b) => b.ts - a.ts);
  const batches: NewOrder[][] = [];
  for (let i = 0; i < orders.length; i += 5) batches.push(orders.slice(i, i + 5));
  for (let i = 0; i < batches.length; i += 3)
    await Promise.all(batches.slice(i, i + 3).map((batch) => insertOrders(h.ctx, ws, batch)));
  return orders;
}

type Field =
  | "dayRows"
  | "dayKeys"
  | "buyerRows"
  | "buyerKeys"
  | "secondRows"
  | "secondKeys"
  | "daysRows"
  | "daysKeys"
  | "buyerZeroKeys"
  | "buyerNegative"
  | "offShardZero";

/** Per table: rows and keys of the days before `before` (KpiSecondDays: all), and more. */
async function layout(ws: string, before: string) {
  const [row] = await h.db.query<Record<Field, number>>(
    `SELECT
       (SELECT count(*) FROM "KpiDay" WHERE "workspaceId" = $1 AND day < $2::date)::int AS "dayRows",
       (SELECT count(DISTINCT day) FROM "KpiDay" WHERE "workspaceId" = $1 AND day < $2::date)::int AS "dayKeys",
       (SELECT count(*) FROM "KpiBuyerDay" WHERE "workspaceId" = $1 AND day < $2::date)::int AS "buyerRows",
       (SELECT count(DISTINCT (day, "gapDays")) FROM "KpiBuyerDay"
        WHERE "workspaceId" = $1 AND day < $2::date)::int AS "buyerKeys",
       (SELECT count(*) FROM "KpiSecondOrder" WHERE "workspaceId" = $1 AND "secondDay" < $2::date)::int AS "secondRows",
       (SELECT count(DISTINCT ("secondDay", "firstDay", days)) FROM "KpiSecondOrder"
        WHERE "workspaceId" = $1 AND "secondDay" < $2::date)::int AS "secondKeys",
       (SELECT count(*) FROM "KpiSecondDays" WHERE "workspaceId" = $1)::int AS "daysRows",
       (SELECT count(DISTINCT days) FROM "KpiSecondDays" WHERE "workspaceId" = $1)::int AS "daysKeys",
       (SELECT count(*) FROM (
          SELECT 1 FROM "KpiBuyerDay" WHERE "workspaceId" = $1 AND day < $2::date
          GROUP BY day, "gapDays" HAVING sum(customers) = 0) z)::int AS "buyerZeroKeys",
       (SELECT count(*) FROM "KpiBuyerDay" WHERE "workspaceId" = $1 AND day < $2::date
        AND customers < 0)::int AS "buyerNegative",
       (SELECT count(*) FROM (
          SELECT shard FROM "KpiDay" WHERE "workspaceId" = $1 AND day < $2::date
          UNION ALL SELECT shard FROM "KpiBuyerDay" WHERE "workspaceId" = $1 AND day < $2::date
          UNION ALL SELECT shard FROM "KpiSecondOrder" WHERE "workspaceId" = $1 AND "secondDay" < $2::date
          UNION ALL SELECT shard FROM "KpiSecondDays" WHERE "workspaceId" = $1) x
        WHERE shard <> 0)::int AS "offShardZero"`,
    [ws, before],
  );
  return row!;
}

/** Every row of the days from `from` on, as stored (shard included). */
async function rowsFrom(ws: string, from: string) {
  return h.db.query(
    `SELECT 'day' AS t, to_char(day, 'YYYY-MM-DD') AS k, shard, orders::text AS n FROM "KpiDay"
       WHERE "workspaceId" = $1 AND day >= $2::date
     UNION ALL SELECT 'buyer', to_char(day, 'YYYY-MM-DD') || '/' || "gapDays", shard, customers::text
       FROM "KpiBuyerDay" WHERE "workspaceId" = $1 AND day >= $2::date
     UNION ALL SELECT 'second', to_char("secondDay", 'YYYY-MM-DD') || '/' || to_char("firstDay", 'YYYY-MM-DD') || '/' || days,
       shard, customers::text FROM "KpiSecondOrder" WHERE "workspaceId" = $1 AND "secondDay" >= $2::date
     ORDER BY 1, 2, 3`,
    [ws, from],
  );
}

/** Until `done`, asks Postgres whether a backend waits on a lock `pid` holds. */
async function waitsOn(pid: number, done: () => boolean): Promise<boolean> {
  while (!done()) {
    const [waiting] = await h.db.query(
      `SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid)) LIMIT 1`,
      [pid],
    );
    if (waiting) return true;
    await sleep(5);
  }
  return false;
}

/** The next order statement of this process writes `shard` (takeShard is a round robin of 8). */
function nextShardIs(shard: number): void {
  while (takeShard() !== (shard + 7) % 8);
}

describe("issue 15: the KPI rollups' shards of days that are over are folded", () => {
  it("same figures after folding; past days one row per key on shard 0; today's rows untouched", async () => {
    const ws = `ws-kpi-fold-${RUN}`;
    const orders = await spreadOrders(ws);
    const before = await layout(ws, FOLDED_BEFORE);
    // Sharded, with negative shard counts, some keys summing to nothing.
    expect(before.buyerRows).toBeGreaterThan(before.buyerKeys);
    expect(before.secondRows).toBeGreaterThan(before.secondKeys);
    expect(before.dayRows).toBeGreaterThan(before.dayKeys);
    expect(before.daysRows).toBeGreaterThan(before.daysKeys);
    expect(before.buyerNegative).toBeGreaterThan(0);
    expect(before.buyerZeroKeys).toBeGreaterThan(0);
    const sharded = await figures(ws);
    expect(sharded).toEqual(await recount(ws));
    expect(sharded[1]).toMatchObject({ orders: orders.length, customersWhoOrdered: 40 });
    const recent = await rowsFrom(ws, FOLDED_BEFORE);
    expect(recent.length).toBeGreaterThan(0);

    expect(await fold(ws)).toBeGreaterThan(0);

    expect(await figures(ws)).toEqual(sharded);
    const after = await layout(ws, FOLDED_BEFORE);
    expect(after).toMatchObject({
      dayRows: before.dayKeys,
      dayKeys: before.dayKeys,
      // Keys whose shards cancel out are gone.
      buyerRows: before.buyerKeys - before.buyerZeroKeys,
      buyerKeys: before.buyerKeys - before.buyerZeroKeys,
      buyerNegative: 0,
      buyerZeroKeys: 0,
      secondKeys: after.secondRows,
      daysKeys: after.daysRows,
      offShardZero: 0,
    });
    // Yesterday (the margin) and today as they were.
    expect(await rowsFrom(ws, FOLDED_BEFORE)).toEqual(recent);
    // A second sweep finds nothing to fold.
    expect(await fold(ws)).toBe(0);
  });

  it("late orders before the sweep's window are folded too, a slice of days per sweep", async () => {
    const ws = `ws-kpi-fold-late-${RUN}`;
    await spreadOrders(ws);
    const sharded = await figures(ws);
    // The sweep's own window (7 days before the margin) starts on 2026-07-17; the orders of
    // 2026-07-01 to 07-16 are older, in 4 slices of 5 days (the last one reaches back past 07-01).
    const sweep = () =>
      compactKpiRollups(
        { db: h.db, now: () => NOW },
        { workspaceId: ws, olderSliceDays: 5, olderEvery: 1 },
      );
    expect((await layout(ws, "2026-07-17")).offShardZero).toBeGreaterThan(0);

    await sweep();
    const afterOne = await layout(ws, FOLDED_BEFORE);
    expect(afterOne.offShardZero).toBeGreaterThan(0);
    await sweep();
    await sweep();
    await sweep();

    // Every day before the margin is one row per key on shard 0, and the figures are the same.
    const after = await layout(ws, FOLDED_BEFORE);
    expect(after).toMatchObject({ offShardZero: 0, dayRows: after.dayKeys, buyerNegative: 0 });
    expect(after.offShardZero).toBeLessThan(afterOne.offShardZero);
    expect(await figures(ws)).toEqual(sharded);
    expect(await figures(ws)).toEqual(await recount(ws));
  });

  it("an order transaction holding a shard row of a folded key while the fold runs loses nothing", async () => {
    const ws = `ws-kpi-fold-held-${RUN}`;
    await spreadOrders(ws);
    // A row of the late order's day off shard 0, whichever shards the batches above took
    // (takeShard starts at a random shard: without it, every row of that day was on shard 0 in
    // about one run in eight, and there was nothing to hold).
    nextShardIs(3);
    await insertOrders(h.ctx, ws, [order(ws, "pin", "cust-pin", T0 + 2 * DAY + 3.6e6)]);
    // A late order of a known customer, dated on a folded day: it re-pairs the customer's later
    // order-days and second order, adding to keys the fold is folding (rows on its own shard).
    const late = [
      order(ws, "late-1", "cust-5", T0 + 2 * DAY),
      order(ws, "late-2", "cust-new", T0 + 6 * DAY),
    ];
    // On a shard that holds a row of the late order's day, so that the fold meets its lock.
    const [onShard] = await h.db.query<{ shard: number }>(
      `SELECT shard FROM "KpiDay" WHERE "workspaceId" = $1 AND day = '2026-07-03' AND shard <> 0
       ORDER BY shard LIMIT 1`,
      [ws],
    );
    nextShardIs(onShard!.shard);
    const { pid, release, done: tx } = await holdOrders(h.db, ws, late);
    let folding = true;
    const folded = fold(ws).finally(() => (folding = false));
    const waited = await waitsOn(pid, () => !folding);
    release();
    // The fold waited on a row the order transaction held (else this test proves nothing).
    expect(waited).toBe(true);
    expect(await tx).toBe(2);
    expect(await folded).toBeGreaterThan(0);

    expect(await figures(ws)).toEqual(await recount(ws));
    // What the order transaction wrote was folded too or left on its shard, never lost; the next
    // sweep folds what is left.
    await fold(ws);
    expect((await layout(ws, FOLDED_BEFORE)).offShardZero).toBe(0);
    expect(await figures(ws)).toEqual(await recount(ws));
  });

  it("an order upserting a shard row the fold is deleting waits, then inserts it anew", async () => {
    const ws = `ws-kpi-fold-deleting-${RUN}`;
    const day = T0 + 10 * DAY;
    // Two new buyers of one past day on shard 5: the row (day, gap 0, shard 5) holds 2.
    nextShardIs(5);
    await insertOrders(h.ctx, ws, [
      order(ws, "a", "alice", day),
      order(ws, "b", "bob", day + 1000),
    ]);
    nextShardIs(2);
    await insertOrders(h.ctx, ws, [order(ws, "c", "carol", day + 2000)]);
    const buyers = () =>
      h.db.query<{ shard: number; customers: number }>(
        `SELECT shard, customers FROM "KpiBuyerDay"
         WHERE "workspaceId" = $1 AND day = '2026-07-11' AND "gapDays" = 0 ORDER BY shard`,
        [ws],
      );
    expect(await buyers()).toEqual([
      { shard: 2, customers: 1 },
      { shard: 5, customers: 2 },
    ]);

    // The fold, in a transaction left open: it has deleted shard 5's row and holds it.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let foldPid = 0;
    let foldedRows = 0;
    let ready!: () => void;
    const foldDone = new Promise<void>((r) => (ready = r));
    const foldTx = h.db.withSession(async (s) => {
      const [me] = await s.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      foldPid = me!.pid;
      await s.exec("BEGIN");
      foldedRows = await compactKpiRollups(
        { db: s, now: () => NOW },
        { workspaceId: ws, days: 60 },
      );
      ready();
      await released;
      await s.exec("COMMIT");
    });
    await Promise.race([foldDone, foldTx]);

    // Dave, a new buyer of the same day, on shard 5: his upsert meets the row being deleted.
    nextShardIs(5);
    let writing = true;
    const write = insertOrders(h.ctx, ws, [order(ws, "d", "dave", day + 3000)]).finally(
      () => (writing = false),
    );
    const waited = await waitsOn(foldPid, () => !writing);
    release();
    await foldTx;
    expect(foldedRows).toBeGreaterThan(0);
    // The order's upsert waited on the row the fold deleted (else this test proves nothing).
    expect(waited).toBe(true);
    expect(await write).toBe(1);

    // Folded: 3 on shard 0; Dave's 1 inserted anew on shard 5.
    expect(await buyers()).toEqual([
      { shard: 0, customers: 3 },
      { shard: 5, customers: 1 },
    ]);
    const range = { from: "2026-07-11", to: "2026-07-11" };
    const kpis = await workspaceKpis(h.db, ws, range);
    expect(kpis).toMatchObject({ orders: 4, customersWhoOrdered: 4 });
    expect(kpis).toEqual(await recountWorkspaceKpis(h.db, ws, range));
  });
});
