// Issue 15 (scale-out) on the real Postgres: the KPI rollups an order batch writes besides "KpiDay"
// — "KpiBuyerDay", "KpiSecondOrder", "KpiSecondDays" — are sharded like it (kpi-rollups.ts), so
// two order transactions of one workspace for different customers on the same day no longer queue
// on one row until the other commits (every new buyer of the day added to ("KpiBuyerDay": today,
// gap 0)); and the dashboard (kpis.ts), summing over the shards, shows the same figures.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertOrders, rebuildKpiRollups, type NewOrder } from "./kpi-rollups.ts";
import { workspaceKpis, type KpiRange } from "./kpis.ts";
import { sleep, startEngineHarness, type EngineHarness } from "./testing/harness.ts";
import { holdOrders } from "./testing/kpi-orders.ts";
import { recountWorkspaceKpis } from "./testing/kpi-recount.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 6, 1, 9, 0, 0);
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
  revenue: 25,
  ts,
  eventId: `e-${workspace}-${id}`,
});

interface Outcome {
  /** B's backend waited on a lock A's open transaction holds (pg_blocking_pids), with its query. */
  blocked: { waitEventType: string | null; waitEvent: string | null; query: string } | null;
  /** B committed while A's transaction was still open. */
  committedWhileAOpen: boolean;
  insertedA: number;
  insertedB: number;
}

/**
 * Transaction A stores `a` through the engine's statement (insertOrdersLocked under
 * withCustomerLocks, as insertOrders does) and stays open; meanwhile B stores `b` (insertOrders).
 * Until B ends, asks Postgres whether B's backend waits on a lock A holds: no timing threshold,
 * either B finishes or it shows up blocked by A (then A ends, releasing it, and the outcome says so).
 */
async function whileAHoldsItsOrders(workspace: string, a: NewOrder[], b: NewOrder[]) {
  const { pid: pidA, release, done: txA } = await holdOrders(h.db, workspace, a);
  expect(pidA).toBeGreaterThan(0);

  let bDone = false;
  const txB = insertOrders(h.ctx, workspace, b).finally(() => (bDone = true));
  let blocked: Outcome["blocked"] = null;
  while (!bDone) {
    const [waiting] = await h.db.query<NonNullable<Outcome["blocked"]>>(
      `SELECT wait_event_type AS "waitEventType", wait_event AS "waitEvent", left(query, 120) AS query
       FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid)) LIMIT 1`,
      [pidA],
    );
    if (waiting) {
      blocked = waiting;
      break;
    }
    await sleep(5);
  }
  const committedWhileAOpen = bDone;
  release();
  const [insertedA, insertedB] = await Promise.all([txA, txB]);
  return { blocked, committedWhileAOpen, insertedA, insertedB } satisfies Outcome;
}

describe("issue 15: order batches of one workspace do not queue on its KPI rows", () => {
  it("two new buyers of the same day: B commits while A's transaction is open", async () => {
    const ws = "ws-kpi-shards-new";
    const outcome = await whileAHoldsItsOrders(
      ws,
      [order(ws, "a1", "alice", T0)],
      [order(ws, "b1", "bob", T0 + 60_000)],
    );
    expect(outcome).toEqual({
      blocked: null,
      committedWhileAOpen: true,
      insertedA: 1,
      insertedB: 1,
    });
    const kpis = await workspaceKpis(h.db, ws, { from: "2026-07-01", to: "2026-07-01" });
    expect(kpis).toMatchObject({ orders: 2, customersWhoOrdered: 2, repeatCustomers: 0 });
  });

  it("two second orders of the same day, first orders on the same day: neither queues", async () => {
    // Both customers' second orders write the same keys in all three tables: KpiBuyerDay (day, gap
    // 3), KpiSecondOrder (day, first day, 3 days), KpiSecondDays (3 days).
    const ws = "ws-kpi-shards-second";
    await insertOrders(h.ctx, ws, [
      order(ws, "a1", "alice", T0 - 3 * DAY),
      order(ws, "b1", "bob", T0 - 3 * DAY + 60_000),
    ]);
    const outcome = await whileAHoldsItsOrders(
      ws,
      [order(ws, "a2", "alice", T0 + 120_000)],
      [order(ws, "b2", "bob", T0 + 180_000)],
    );
    expect(outcome).toEqual({
      blocked: null,
      committedWhileAOpen: true,
      insertedA: 1,
      insertedB: 1,
    });
    const kpis = await workspaceKpis(h.db, ws, { from: "2026-07-01", to: "2026-07-01" });
    expect(kpis).toMatchObject({ orders: 2, customersWhoOrdered: 2, repeatCustomers: 2 });
    expect(kpis.secondPurchase).toMatchObject({ customers: 2, medianDays: 3 });
    expect(await recountWorkspaceKpis(h.db, ws, { from: "2026-06-20", to: "2026-07-10" })).toEqual(
      await workspaceKpis(h.db, ws, { from: "2026-06-20", to: "2026-07-10" }),
    );
  });

  it("the dashboard's figures from orders spread over shards equal those of one shard", async () => {
    const ws = "ws-kpi-shards-figures";
    // 40 customers, 1–4 orders each over 20 days, arriving out of order in batches of 5 (each
    // batch takes the next shard), three batches at a time. An earlier order-day arriving after a
    // later one re-pairs that later day: its old (day, gap) loses the customer in the new batch's
    // shard, where nothing added it — a negative count, which only sums over the shards cancel.
    const orders: NewOrder[] = [];
    for (let c = 0; c < 40; c++)
      for (let k = 0; k <= c % 4; k++) {
        const day = (c * 7 + k * 5) % 20;
        orders.push(
          order(ws, `${c}-${k}`, `cust-${c}`, T0 + day * DAY + ((c * 37 + k) % 24) * 3.6e6),
        );
      }
    orders.reverse();
    const batches: NewOrder[][] = [];
    for (let i = 0; i < orders.length; i += 5) batches.push(orders.slice(i, i + 5));
    for (let i = 0; i < batches.length; i += 3)
      await Promise.all(batches.slice(i, i + 3).map((batch) => insertOrders(h.ctx, ws, batch)));

    const [spread] = await h.db.query<{ shards: number; negative: number }>(
      `SELECT (SELECT count(DISTINCT shard) FROM "KpiBuyerDay" WHERE "workspaceId" = $1)::int
                + (SELECT count(DISTINCT shard) FROM "KpiSecondOrder" WHERE "workspaceId" = $1)::int
                + (SELECT count(DISTINCT shard) FROM "KpiSecondDays" WHERE "workspaceId" = $1)::int AS shards,
              (SELECT count(*) FROM "KpiBuyerDay" WHERE "workspaceId" = $1 AND customers < 0)::int AS negative`,
      [ws],
    );
    expect(spread!.shards).toBeGreaterThan(3 * 2); // more than one shard per table
    expect(spread!.negative).toBeGreaterThan(0);

    const ranges: KpiRange[] = [
      { from: "2026-07-01", to: "2026-07-20" },
      { from: "2026-06-01", to: "2026-08-31" },
      { from: "2026-07-01", to: "2026-07-01" },
      { from: "2026-07-03", to: "2026-07-09" },
      { from: "2026-07-10", to: "2026-07-12" },
      { from: "2026-07-15", to: "2026-07-20" },
      { from: "2026-07-19", to: "2026-07-30" },
    ];
    const sharded = await Promise.all(ranges.map((r) => workspaceKpis(h.db, ws, r)));
    const recount = await Promise.all(ranges.map((r) => recountWorkspaceKpis(h.db, ws, r)));
    expect(sharded).toEqual(recount);
    // The rebuild writes every key once, on shard 0: the layout before the shards.
    await rebuildKpiRollups(h.db, ws);
    const [after] = await h.db.query<{ shards: number[] }>(
      `SELECT array_agg(DISTINCT shard) AS shards FROM (
         SELECT shard FROM "KpiBuyerDay" WHERE "workspaceId" = $1
         UNION ALL SELECT shard FROM "KpiSecondOrder" WHERE "workspaceId" = $1
         UNION ALL SELECT shard FROM "KpiSecondDays" WHERE "workspaceId" = $1) x`,
      [ws],
    );
    expect(after!.shards).toEqual([0]);
    const oneShard = await Promise.all(ranges.map((r) => workspaceKpis(h.db, ws, r)));
    expect(oneShard).toEqual(sharded);
    expect(sharded[1]).toMatchObject({ orders: orders.length, customersWhoOrdered: 40 });
    expect(sharded[1]!.repeatCustomers).toBeGreaterThan(0);
  });
});
