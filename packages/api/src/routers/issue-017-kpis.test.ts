// issue 17, item 6: the workspace KPIs from de-duplicated orders and journey attributions, on the
// real Postgres. Five customers' order histories around November 2026 (expected figures worked out
// by hand below), one order of another workspace, and orders on both edges of the range.
import { rebuildKpiRollups } from "@postpath/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

describe("issue 17: workspace KPIs", () => {
  let env: ApiTestEnv<"viewer" | "other">;
  beforeAll(async () => {
    env = await openApiTestEnv([
      ["viewer", "ws-kpi", "VIEWER"],
      ["other", "ws-kpi-other", "MARKETER"],
    ]);
    const ws = env.users.viewer.workspaceId;
    const orders: [string, string, number, string][] = [
      // customer, order id, revenue, at (UTC)
      ["ann", "A1", 50, "2026-10-20T09:00:00Z"],
      ["ann", "A2", 70, "2026-11-05T09:00:00Z"], // second order 16 days after the first
      ["bob", "B1", 30, "2026-11-10T12:00:00Z"],
      ["cat", "C1", 20, "2026-11-02T08:00:00Z"],
      ["cat", "C2", 40, "2026-11-03T10:00:00Z"], // second order 1 day after the first
      ["cat", "C3", 10, "2026-11-20T10:00:00Z"],
      ["dan", "D1", 100, "2026-09-01T10:00:00Z"],
      ["dan", "D2", 100, "2026-09-15T10:00:00Z"], // second order before the range
      ["dan", "D3", 60, "2026-11-25T10:00:00Z"],
      ["eve", "E1", 5, "2026-11-30T23:59:59.999Z"], // the range's last moment
      ["eve", "E2", 500, "2026-12-01T00:00:00Z"], // the first moment after it
    ];
    for (const [customer, orderId, revenue, at] of orders)
      await env.db.prisma.order.create({
        data: {
          workspaceId: ws,
          orderId,
          customerId: `c-${customer}`,
          revenue,
          at: new Date(at),
          eventId: `ev-${orderId}`,
        },
      });
    await env.db.prisma.order.create({
      data: {
        workspaceId: env.users.other.workspaceId,
        orderId: "X1",
        customerId: "c-xavier",
        revenue: 999,
        at: new Date("2026-11-15T10:00:00Z"),
        eventId: "ev-X1",
      },
    });
    // Two orders converted journey runs.
    for (const [runId, customer, orderId, at] of [
      ["run-ann", "ann", "A2", "2026-11-05T09:00:00Z"],
      ["run-cat", "cat", "C2", "2026-11-03T10:00:00Z"],
    ] as const)
      await env.db.prisma.attribution.create({
        data: {
          runId,
          workspaceId: ws,
          journeyId: "j-thanks",
          versionId: "j-thanks-v1",
          customerId: `c-${customer}`,
          stepId: "email",
          eventId: `ev-${orderId}`,
          orderId,
          basis: "message",
          at: new Date(at),
        },
      });
    // Written around the engine (which keeps the KPI rollups with its inserts): counted here.
    for (const w of [ws, env.users.other.workspaceId]) await rebuildKpiRollups(env.db, w);
  });
  afterAll(() => env.close());

  it("answers orders, AOV, repeat rate, time to second purchase and journey revenue for November", async () => {
    const api = createCaller(env.ctxFor(env.users.viewer));
    const k = await api.kpis.workspace({ from: "2026-11-01", to: "2026-11-30" });
    // In range: A2 70, B1 30, C1 20, C2 40, C3 10, D3 60, E1 5.
    expect(k.orders).toBe(7);
    expect(k.revenue).toBeCloseTo(235, 6);
    expect(k.averageOrderValue).toBeCloseTo(235 / 7, 6);
    // Buyers ann, bob, cat, dan, eve; two or more orders by the end: ann, cat, dan.
    expect(k.customersWhoOrdered).toBe(5);
    expect(k.repeatCustomers).toBe(3);
    expect(k.repeatPurchaseRate).toBeCloseTo(0.6, 6);
    // Second orders placed in November: ann after 16 days, cat after 1 (dan's was in September).
    expect(k.secondPurchase.customers).toBe(2);
    expect(k.secondPurchase.medianDays).toBeCloseTo(8.5, 6);
    expect(
      k.secondPurchase.buckets.filter((b) => b.customers > 0).map((b) => [b.label, b.customers]),
    ).toEqual([
      ["within a week", 1],
      ["15–30 days", 1],
    ]);
    expect(k.influenced).toEqual({
      journeyOrders: 2,
      journeyRevenue: 110,
      otherOrders: 5,
      otherRevenue: 125,
    });
    expect(k.daily).toEqual([
      { day: "2026-11-02", orders: 1, revenue: 20, journeyRevenue: 0 },
      { day: "2026-11-03", orders: 1, revenue: 40, journeyRevenue: 40 },
      { day: "2026-11-05", orders: 1, revenue: 70, journeyRevenue: 70 },
      { day: "2026-11-10", orders: 1, revenue: 30, journeyRevenue: 0 },
      { day: "2026-11-20", orders: 1, revenue: 10, journeyRevenue: 0 },
      { day: "2026-11-25", orders: 1, revenue: 60, journeyRevenue: 0 },
      { day: "2026-11-30", orders: 1, revenue: 5, journeyRevenue: 0 },
    ]);
    expect(k.definitions.repeatPurchaseRate).toMatch(/two or more orders/);
  });

  it("a range without orders has no rates rather than zeros", async () => {
    const api = createCaller(env.ctxFor(env.users.viewer));
    const k = await api.kpis.workspace({ from: "2025-01-01", to: "2025-01-31" });
    expect(k.orders).toBe(0);
    expect(k.averageOrderValue).toBeNull();
    expect(k.repeatPurchaseRate).toBeNull();
    expect(k.secondPurchase).toMatchObject({ customers: 0, medianDays: null });
    expect(k.daily).toEqual([]);
  });

  it("another workspace sees only its own orders; bad ranges name the field", async () => {
    const other = createCaller(env.ctxFor(env.users.other));
    const k = await other.kpis.workspace({ from: "2026-11-01", to: "2026-11-30" });
    expect([k.orders, k.revenue]).toEqual([1, 999]);

    const api = createCaller(env.ctxFor(env.users.viewer));
    const backwards = await rejects(api.kpis.workspace({ from: "2026-11-30", to: "2026-11-01" }));
    expect(backwards.code).toBe("BAD_REQUEST");
    expect(backwards.message).toMatch(/to must be on or after from/);
    const notADay = await rejects(api.kpis.workspace({ from: "2026-02-30", to: "2026-03-01" }));
    expect(notADay.message).toMatch(/from is not a date in the calendar/);
    const tooLong = await rejects(api.kpis.workspace({ from: "2020-01-01", to: "2026-01-01" }));
    expect(tooLong.message).toMatch(/at most 731 days/);
    const anonymous = await rejects(
      createCaller(env.ctxFor(null)).kpis.workspace({ from: "2026-11-01", to: "2026-11-30" }),
    );
    expect(anonymous.code).toBe("UNAUTHORIZED");
  });
});
