// issue 15: an order transaction held open, for the KPI shard and fold tests (the rows it wrote
// stay locked until it is released).
import type { Database } from "@postpath/db";
import { insertOrdersLocked, withCustomerLocks, type NewOrder } from "../kpi-rollups.ts";

/**
 * Stores `orders` through the engine's statement (insertOrdersLocked under withCustomerLocks, as
 * insertOrders does) and keeps the transaction open until `release()`. Resolves once the orders
 * are in (or the transaction ended early, which `done` then reports): `pid` is its backend, to ask
 * Postgres who waits on it; `done` the number of orders inserted, once released.
 */
export async function holdOrders(
  db: Database,
  workspace: string,
  orders: NewOrder[],
): Promise<{ pid: number; release: () => void; done: Promise<number> }> {
  let pid = 0;
  let holding!: () => void;
  let release!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  const released = new Promise<void>((r) => (release = r));
  const done = withCustomerLocks(
    db,
    workspace,
    orders.map((o) => o.customerId),
    async (s) => {
      const [me] = await s.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      pid = me!.pid;
      const n = await insertOrdersLocked(s, workspace, orders);
      holding();
      await released;
      return n;
    },
  );
  await Promise.race([held, done]);
  return { pid, release, done };
}
