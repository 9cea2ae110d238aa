// Issue 17, item 7 on the real Postgres/Redis: the KPI dashboard reads rollups the engine keeps
// with the orders and attributions (kpi-rollups.ts), and every figure it shows equals what the raw
// statements count from the Order and Attribution rows (testing/kpi-recount.ts) — through the
// event pipeline (duplicate order ids, an order attributed later through a replay of its order id),
// for random orders arriving out of order in concurrent batches with attributions in between, and
// after the migration's backfill and rebuildKpiRollups.
import fs from "node:fs";
import path from "node:path";
import { MIGRATIONS_DIR } from "@postpath/db";
import type { Provider } from "@postpath/channels";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { takeShard } from "./counters.ts";
import {
  influencedOrderCtes,
  insertOrders,
  rebuildKpiRollups,
  type NewOrder,
} from "./kpi-rollups.ts";
import { workspaceKpis, type KpiRange } from "./kpis.ts";
import { startEngineHarness, waitFor, type EngineHarness, ofJourney } from "./testing/harness.ts";
import { recountWorkspaceKpis } from "./testing/kpi-recount.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 10, 12, 0, 0);
let clock = T0;
let h: EngineHarness;
const email: Provider = {
  channel: "email",
  name: "email (test)",
  send: (req) => Promise.resolve({ providerMessageId: req.idempotencyKey, response: {} }),
};

beforeAll(async () => {
  h = await startEngineHarness({ providers: { email }, now: () => clock });
});
afterAll(async () => {
  await h?.close();
});

const iso = (ms: number) => new Date(ms).toISOString();
const dayOf = (ms: number) => iso(ms).slice(0, 10);

/** The dashboard's figures from the rollups and from the raw rows, for each range. */
async function expectAgreement(workspaceId: string, ranges: KpiRange[]): Promise<void> {
  for (const range of ranges) {
    const fromRollups = await workspaceKpis(h.db, workspaceId, range);
    const recount = await recountWorkspaceKpis(h.db, workspaceId, range);
    expect({ range, ...fromRollups }).toEqual({ range, ...recount });
  }
}

/** Small deterministic generator (mulberry32), so a failing case can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** As attribution.ts's statement: attributions inserted, then the order's KPI figures. */
async function attribute(
  workspaceId: string,
  runIds: string[],
  orderId: string | null,
): Promise<void> {
  await h.db.query(
    `WITH a AS (
       INSERT INTO "Attribution" ("runId", "workspaceId", "journeyId", "versionId", "customerId",
         "stepId", "eventId", "orderId", basis, at)
       SELECT r, $1, 'j', 'v', 'c', 's', 'e-' || r, $2, 'message', now() FROM unnest($3::text[]) AS r
       ORDER BY r
       ON CONFLICT ("runId") DO NOTHING
       RETURNING "runId"
     ), ${influencedOrderCtes({ workspace: "$1", orderId: "$2", shard: "$4" })}
     SELECT count(*)::int AS n FROM a`,
    [workspaceId, orderId, runIds, takeShard()],
  );
}

describe("issue 17, item 7: the KPI rollups agree with a recount from the raw rows", () => {
  it("through the event pipeline: duplicate order ids, an order attributed by a later replay", async () => {
    const { journeyId } = await h.publish(
      "kpi-thanks",
      [
        { id: "t", type: "trigger.event", data: { event: "signup" }, next: "mail" },
        {
          id: "mail",
          type: "action.email",
          data: { subject: "Hi", body: "Hi", format: "text" },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ],
      { goal: { name: "purchase", event: "purchase" } },
    );
    const buy = async (userId: string, at: number, props: Record<string, unknown>) => {
      const { eventId } = await track(h.ctx, h.workspaceId, {
        userId,
        event: "purchase",
        timestamp: iso(at),
        properties: props,
      });
      await waitFor(`purchase of ${userId} processed`, async () => {
        const e = await h.db.prisma.event.findUnique({ where: { id: eventId } });
        return e?.processedAt ? e : null;
      });
    };
    // Before any journey: orders of three customers, one of them twice under one order id, one
    // placed at the last moment of a day and one at the first of the next.
    await buy("ann", T0 - 30 * DAY, { revenue: 20, order_id: "k-a1" });
    await buy("ann", T0 - 30 * DAY + 5000, { revenue: 20, order_id: "k-a1" });
    await buy("bob", Date.UTC(2026, 1, 20) - 1, { revenue: 5.25, order_id: "k-b1" });
    await buy("bob", Date.UTC(2026, 1, 20), { revenue: 7.75, order_id: "k-b2" });
    await buy("cat", T0 - 2 * DAY, { revenue: 99.99, order_id: "k-c1" });
    // Later: they sign up and get the email; ann orders again (converts), cat's order k-c1 comes in
    // again (a replay with a later timestamp) and converts her run: an order attributed long after
    // it was stored, on its own day (its first timestamp).
    clock = T0;
    for (const u of ["ann", "bob", "cat"]) {
      await h.customer(u, { email: `${u}@example.com` });
      await track(h.ctx, h.workspaceId, { userId: u, event: "signup", timestamp: iso(clock) });
    }
    await waitFor("three emails sent", async () => {
      const n = await h.db.prisma.message.count({
        where: { ...(await ofJourney(h.db, journeyId)), status: "SENT" },
      });
      return n === 3 ? n : null;
    });
    clock = T0 + 3 * DAY;
    await buy("ann", T0 + DAY, { revenue: 40, order_id: "k-a2" });
    await buy("cat", T0 + DAY, { revenue: 99.99, order_id: "k-c1" });
    // An earlier order of bob's arrives last (out of order): his first order moves back.
    await buy("bob", T0 - 60 * DAY, { revenue: 1, order_id: "k-b0" });

    const orders = await h.db.query<{ orderId: string; influenced: boolean }>(
      `SELECT "orderId", influenced FROM "Order" WHERE "workspaceId" = $1 ORDER BY "orderId"`,
      [h.workspaceId],
    );
    expect(orders).toEqual([
      { orderId: "k-a1", influenced: false },
      { orderId: "k-a2", influenced: true },
      { orderId: "k-b0", influenced: false },
      { orderId: "k-b1", influenced: false },
      { orderId: "k-b2", influenced: false },
      { orderId: "k-c1", influenced: true },
    ]);
    const k = await workspaceKpis(h.db, h.workspaceId, {
      from: dayOf(T0 - 2 * DAY),
      to: dayOf(T0 + DAY),
    });
    expect([k.orders, k.influenced.journeyOrders, k.influenced.journeyRevenue]).toEqual([
      2, 2, 139.99,
    ]);
    const ranges: KpiRange[] = [
      { from: dayOf(T0 - 90 * DAY), to: dayOf(T0 + 10 * DAY) },
      { from: "2026-02-19", to: "2026-02-19" },
      { from: "2026-02-20", to: dayOf(T0 + DAY) },
      { from: dayOf(T0 - DAY), to: dayOf(T0 + DAY) },
      { from: dayOf(T0 + DAY), to: dayOf(T0 + DAY) },
      { from: dayOf(T0 - 59 * DAY), to: dayOf(T0 - 3 * DAY) },
      { from: "2025-01-01", to: "2025-01-31" },
    ];
    await expectAgreement(h.workspaceId, ranges);
  });

  it("random orders: duplicates, out of order, concurrent batches, attributions in between and later", async () => {
    const seed = Number(process.env.KPI_SEED ?? Date.now() % 1_000_000);
    const rnd = random(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const ws = `ws-kpi-random-${seed}`;
    const start = Date.UTC(2026, 0, 1);
    // Some customers order often, most a few times (the n-th customer ~ 1/n of the orders).
    const customers = Array.from({ length: 150 }, (_, i) => `rc-${i}`);
    const customer = () => customers[Math.floor(customers.length ** rnd()) - 1]!;
    // Order events: most with a new order id, some repeating one (another customer, time or
    // revenue: the first stored wins); times anywhere in 120 days, some on a day's edges, some
    // equal to another order's.
    const events: NewOrder[] = [];
    for (let i = 0; i < 600; i++) {
      const repeat = events.length > 0 && rnd() < 0.15 ? pick(events) : null;
      const day = start + Math.floor(rnd() * 120) * DAY;
      const edge = rnd();
      const ts =
        repeat && rnd() < 0.5
          ? repeat.ts
          : edge < 0.1
            ? day
            : edge < 0.2
              ? day + DAY - 1
              : edge < 0.3 && events.length > 0
                ? pick(events).ts
                : day + Math.floor(rnd() * DAY);
      events.push({
        orderId: repeat?.orderId ?? `ro-${i}`,
        customerId: repeat && rnd() < 0.5 ? repeat.customerId : customer(),
        revenue: Math.round(rnd() * 50_000) / 100,
        ts,
        eventId: `re-${i}`,
      });
    }
    // Arrival order: shuffled; batches of 1–25 events, three batches at a time.
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [events[i], events[j]] = [events[j]!, events[i]!];
    }
    const batches: NewOrder[][] = [];
    for (let at = 0; at < events.length;) {
      const n = 1 + Math.floor(rnd() * 25);
      batches.push(events.slice(at, at + n));
      at += n;
    }
    const stored = new Set<string>();
    let runs = 0;
    const ranges = (): KpiRange[] => {
      const list: KpiRange[] = [
        { from: dayOf(start - 5 * DAY), to: dayOf(start + 125 * DAY) },
        { from: dayOf(start), to: dayOf(start) },
      ];
      for (let i = 0; i < 12; i++) {
        const a = start + Math.floor(rnd() * 130 - 5) * DAY;
        const b = a + Math.floor(rnd() * (i < 6 ? 10 : 90)) * DAY;
        list.push({ from: dayOf(a), to: dayOf(b) });
      }
      return list;
    };
    for (let b = 0; b < batches.length; b += 3) {
      const group = batches.slice(b, b + 3);
      await Promise.all(group.map((batch) => insertOrders(h.ctx, ws, batch)));
      for (const batch of group) for (const o of batch) stored.add(o.orderId);
      // Attributions of stored orders: some orders by two runs at once, some conversions that
      // were no order (null).
      const attributions = Array.from({ length: Math.floor(rnd() * 4) }, () => {
        const orderId = rnd() < 0.15 ? null : pick([...stored]);
        const ids = Array.from(
          { length: 1 + Math.floor(rnd() * 2) },
          () => `run-${seed}-${++runs}`,
        );
        return attribute(ws, ids, orderId).then(() =>
          rnd() < 0.3 ? attribute(ws, [`run-${seed}-${++runs}`], orderId) : undefined,
        );
      });
      await Promise.all(attributions);
      if (b % 30 === 0) await expectAgreement(ws, ranges().slice(0, 4));
    }
    // Attributions long after the orders, concurrently naming the same ones.
    const late = [...stored].slice(0, 20);
    await Promise.all(
      late.flatMap((orderId) => [
        attribute(ws, [`run-${seed}-${++runs}`], orderId),
        attribute(ws, [`run-${seed}-${++runs}`], orderId),
      ]),
    );
    const [n] = await h.db.query<{ orders: number }>(
      `SELECT count(*)::int AS orders FROM "Order" WHERE "workspaceId" = $1`,
      [ws],
    );
    expect(n?.orders, `seed ${seed}`).toBe(new Set(events.map((e) => e.orderId)).size);
    await expectAgreement(ws, ranges());
    // Every key of the rollups matches a recount too, not only the figures shown (seed in the name).
    const rollupsBefore = await rollupRows(ws);
    await rebuildKpiRollups(h.db, ws);
    expect({ seed, rows: await rollupRows(ws) }).toEqual({ seed, rows: rollupsBefore });
  });

  it("the migration's backfill counts orders stored before it, for every workspace", async () => {
    // Orders and attributions written around the engine (as before the migration).
    const ws = "ws-kpi-backfill";
    await h.db.query(
      `INSERT INTO "Order" ("workspaceId", "orderId", "customerId", revenue, at, "eventId")
       SELECT $1, 'bo-' || g, 'bc-' || (g % 7), 10 + g % 13, timestamp '2026-05-01' + g * interval '7 hours', 'be-' || g
       FROM generate_series(1, 200) AS g`,
      [ws],
    );
    await h.db.query(
      `INSERT INTO "Attribution" ("runId", "workspaceId", "journeyId", "versionId", "customerId", "stepId", "eventId", "orderId", basis, at)
       SELECT 'brun-' || g, $1, 'j', 'v', 'c', 's', 'e', 'bo-' || (g * 3), 'message', now() FROM generate_series(1, 30) AS g`,
      [ws],
    );
    const sql = fs.readFileSync(
      path.join(MIGRATIONS_DIR, "20261204160000_kpi_rollups", "migration.sql"),
      "utf8",
    );
    const backfill = sql.slice(sql.indexOf("-- Backfill"));
    const workspaces = [ws, h.workspaceId];
    const byWorkspace = async () =>
      Promise.all(
        workspaces.map((w) => workspaceKpis(h.db, w, { from: "2026-01-01", to: "2026-06-30" })),
      );
    const engineKept = await byWorkspace();
    await h.db.exec(
      `DELETE FROM "KpiDay"; DELETE FROM "KpiBuyerDay"; DELETE FROM "KpiSecondOrder"; DELETE FROM "KpiSecondDays";
       UPDATE "Order" SET influenced = false; ${backfill}`,
    );
    const [backfilled, ...others] = await byWorkspace();
    expect(backfilled!.orders).toBe(200);
    expect(backfilled!.influenced.journeyOrders).toBe(30);
    // The engine's workspace: the same figures as the rollups it kept.
    expect(others).toEqual(engineKept.slice(1));
    await expectAgreement(ws, [
      { from: "2026-05-01", to: "2026-05-31" },
      { from: "2026-05-03", to: "2026-05-04" },
      { from: "2026-05-20", to: "2026-06-30" },
    ]);
  });
});

/** The rollup rows per key, summed over shards (zero counts left out). */
async function rollupRows(workspaceId: string): Promise<unknown> {
  const [row] = await h.db.query<{ rows: unknown }>(
    `SELECT jsonb_build_object(
       'days', (SELECT jsonb_agg(x ORDER BY x.day) FROM (
          SELECT day, sum(orders)::int AS orders, sum(revenue)::text AS revenue,
                 sum("journeyOrders")::int AS jo, sum("journeyRevenue")::text AS jr,
                 sum("firstBuyers")::int AS f, sum("lastBuyers")::int AS l,
                 sum("oneOrder")::int AS o, sum(seconds)::int AS s
          FROM "KpiDay" WHERE "workspaceId" = $1 GROUP BY day) x),
       'buyers', (SELECT jsonb_agg(x ORDER BY x.day, x."gapDays") FROM (
          SELECT day, "gapDays", sum(customers)::int AS customers FROM "KpiBuyerDay"
          WHERE "workspaceId" = $1 GROUP BY day, "gapDays" HAVING sum(customers) <> 0) x),
       'seconds', (SELECT jsonb_agg(x ORDER BY x."secondDay", x."firstDay", x.days) FROM (
          SELECT "secondDay", "firstDay", days, sum(customers)::int AS customers FROM "KpiSecondOrder"
          WHERE "workspaceId" = $1 GROUP BY "secondDay", "firstDay", days HAVING sum(customers) <> 0) x),
       'secondDays', (SELECT jsonb_agg(x ORDER BY x.days) FROM (
          SELECT days, sum(customers)::int AS customers FROM "KpiSecondDays"
          WHERE "workspaceId" = $1 GROUP BY days HAVING sum(customers) <> 0) x)) AS rows`,
    [workspaceId],
  );
  return row?.rows;
}
