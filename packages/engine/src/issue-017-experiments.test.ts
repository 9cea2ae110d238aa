// Issue 17, item 5: a journey's A/B test figures from real runs on Postgres/Redis — recipients per
// variant from the split's decisions, conversions from the goal, revenue per recipient from the
// orders inside the attribution window (each order id once) — fed to the statistics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { journeyExperiments } from "./experiments.ts";
import { track } from "./ingest.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;

beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("issue 17: experiment figures", () => {
  it("counts recipients, conversions and attributed revenue per variant", async () => {
    const { journeyId } = await h.publish(
      "welcome test",
      [
        { id: "t", type: "trigger.event", data: { event: "signup" }, next: "ab" },
        {
          id: "ab",
          type: "split.random",
          data: {
            variants: [
              { id: "a", label: "Plain", percent: 40 },
              { id: "b", label: "Discount", percent: 40 },
            ],
            holdout: 20,
          },
          next: { a: "wa", b: "wb", holdout: "wh" },
        },
        { id: "wa", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
        { id: "wb", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
        { id: "wh", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
        { id: "x", type: "flow.exit" },
      ],
      { goal: { name: "purchase", event: "purchase" } },
    );
    const n = 30;
    for (let i = 0; i < n; i++) {
      await h.customer(`e${i}`);
      await track(h.ctx, h.workspaceId, { userId: `e${i}`, event: "signup" });
    }
    const runs = await waitFor("every customer waiting behind the split", async () => {
      const rs = await h.db.prisma.journeyRun.findMany({
        where: { journeyId, status: "WAITING" },
        select: { id: true, customerId: true, currentStepId: true },
      });
      return rs.length === n ? rs : null;
    });
    const armOf = (step: string | null) => ({ wa: "a", wb: "b", wh: "holdout" })[step ?? ""] ?? "?";
    const byCustomer = await h.db.prisma.customer.findMany({
      where: { workspaceId: h.workspaceId, externalId: { startsWith: "e" } },
      select: { id: true, externalId: true },
    });
    const externalOf = new Map(byCustomer.map((c) => [c.id, c.externalId]));

    // Every third customer buys: an order of 40 + i, sent twice with the same order id (counted
    // once), and an order dated before the split decision (outside the window, not counted).
    const expected: Record<string, { recipients: number; conversions: number; revenue: number }> = {
      a: { recipients: 0, conversions: 0, revenue: 0 },
      b: { recipients: 0, conversions: 0, revenue: 0 },
      holdout: { recipients: 0, conversions: 0, revenue: 0 },
    };
    let i = 0;
    for (const r of runs) {
      const e = expected[armOf(r.currentStepId)]!;
      e.recipients++;
      if (i++ % 3 !== 0) continue;
      const userId = externalOf.get(r.customerId)!;
      const amount = 40 + i;
      e.conversions++;
      e.revenue += amount;
      for (const messageId of [`o-${userId}`, `o-${userId}-again`])
        await track(h.ctx, h.workspaceId, {
          userId,
          event: "purchase",
          messageId,
          properties: { revenue: amount, order_id: `order-${userId}` },
        });
      await track(h.ctx, h.workspaceId, {
        userId,
        event: "purchase",
        messageId: `old-${userId}`,
        timestamp: new Date(Date.now() - 3 * 86_400_000).toISOString(),
        properties: { revenue: 1000, order_id: `old-${userId}` },
      });
    }
    const buyers = Object.values(expected).reduce((s, e) => s + e.conversions, 0);
    await waitFor("the buyers converted", async () => {
      const c = await h.db.prisma.runTrace.count({
        where: { kind: "converted", runId: { in: runs.map((r) => r.id) } },
      });
      return c === buyers ? c : null;
    });

    const experiments = await journeyExperiments(h.db, h.workspaceId, journeyId);
    expect(experiments).toHaveLength(1);
    const [ab] = experiments!;
    expect(ab?.stepId).toBe("ab");
    expect(ab?.report.baselineId).toBe("holdout");
    const got = Object.fromEntries(
      ab!.report.arms.map((a) => [
        a.id,
        {
          recipients: a.recipients,
          conversions: a.conversions,
          revenue: Math.round(a.revenuePerRecipient * a.recipients),
        },
      ]),
    );
    expect(got).toEqual(expected);
    expect(ab?.report.arms.map((a) => a.label)).toEqual(["Plain", "Discount", "Holdout"]);
    // 30 recipients are far below the planned horizon: no verdict yet.
    expect(ab?.report.verdict.kind).toBe("collecting");

    // Another workspace's caller sees nothing.
    expect(await journeyExperiments(h.db, "other-workspace", journeyId)).toBeNull();
  });
});
