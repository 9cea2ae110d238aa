// Issue 17, item 4: the journey analytics page's figures from real runs on Postgres/Redis — per
// version and step (the StepCounter rollups, waiting now, names as drawn; "all versions" adds them
// up across a republish) and per day (entries, sends, conversions, revenue of converted runs'
// orders within 5 days after a message, each order id once).
import type { Provider } from "@postpath/channels";
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daysInRange, journeyDailyFigures, journeyStepFigures } from "./analytics.ts";
import { track } from "./ingest.ts";
import { startEngineHarness, waitFor, type EngineHarness, ofJourney } from "./testing/harness.ts";

let h: EngineHarness;
const email: Provider = {
  channel: "email",
  name: "email (test)",
  send: (req) => Promise.resolve({ providerMessageId: req.idempotencyKey, response: {} }),
};

beforeAll(async () => {
  h = await startEngineHarness({ providers: { email } });
});
afterAll(async () => {
  await h?.close();
});

const steps = [
  { id: "t", type: "trigger.event" as const, data: { event: "signup" }, next: "mail" },
  {
    id: "mail",
    type: "action.email" as const,
    data: { label: "Thank-you email", subject: "Thanks", body: "Hi", format: "text" },
    next: "wa",
  },
  { id: "wa", type: "wait.duration" as const, data: { amount: 2, unit: "days" }, next: "x" },
  { id: "x", type: "flow.exit" as const },
];
const settings = { goal: { name: "purchase", event: "purchase" } };
const today = new Date().toISOString().slice(0, 10);

async function enter(ids: string[], journeyId: string, total: number) {
  for (const id of ids) {
    await h.customer(id, { email: `${id}@example.com` });
    await track(h.ctx, h.workspaceId, { userId: id, event: "signup" });
  }
  await waitFor("the customers sent their email and waiting", async () => {
    const n = await h.db.prisma.journeyRun.count({
      where: { journeyId, status: "WAITING", currentStepId: "wa" },
    });
    const sent = await h.db.prisma.message.count({
      where: { ...(await ofJourney(h.db, journeyId)), status: "SENT" },
    });
    return n === total && sent === total ? n : null;
  });
}

describe("issue 17: journey analytics figures", () => {
  it("counts per version and step, adds versions up, and counts per day", async () => {
    const { journeyId, versionId: v1 } = await h.publish("thanks", steps, settings);
    await enter(["a1", "a2", "a3", "a4"], journeyId, 4);
    // Names as drawn come from the published canvas document (the harness stores none).
    await h.db.prisma.journeyVersion.update({
      where: { id: v1 },
      data: { document: JSON.parse(JSON.stringify(draftFromSteps(steps, settings))) as object },
    });
    const { versionId: v2 } = await h.publish("thanks", steps, settings, journeyId);
    await enter(["b1", "b2"], journeyId, 6);

    // a1 and b1 buy (the goal); a1's order arrives twice with one order id (counted once).
    for (const [userId, messageId, orderId, revenue] of [
      ["a1", "p1", "o-1", 30],
      ["a1", "p1-again", "o-1", 30],
      ["b1", "p2", "o-2", 12.5],
    ] as const)
      await track(h.ctx, h.workspaceId, {
        userId,
        event: "purchase",
        messageId,
        properties: { revenue, order_id: orderId },
      });
    await waitFor("two runs converted", async () => {
      const c = await h.db.prisma.runTrace.count({
        where: { kind: "converted", runId: { in: await runIds(journeyId) } },
      });
      return c === 2 ? c : null;
    });
    await waitForAttributions(journeyId, 2);

    const figures = await journeyStepFigures(h.db, h.workspaceId, journeyId);
    expect(figures?.versions.map((v) => [v.versionId, v.version])).toEqual([
      [v2, 2],
      [v1, 1],
    ]);
    const byStep = <T extends { stepId: string }>(list: T[] | undefined) =>
      Object.fromEntries((list ?? []).map((s) => [s.stepId, s]));
    const first = byStep(figures?.versions[1]?.steps);
    expect(figures?.versions[1]?.steps.map((s) => s.stepId)).toEqual(["t", "mail", "wa", "x"]);
    expect(first.mail).toMatchObject({
      name: "Thank-you email",
      kind: "Send email",
      entered: 4,
      sent: 4,
      failed: 0,
    });
    expect(first.t).toMatchObject({ entered: 4 });
    const waiting = (versionId: string) =>
      h.db.prisma.journeyRun.count({
        where: { versionId, status: { in: ["WAITING", "ACTIVE"] }, currentStepId: "wa" },
      });
    expect(first.wa?.waitingNow).toBe(await waiting(v1));
    const convertedOf = (list: { converted: number }[] | undefined) =>
      (list ?? []).reduce((s, x) => s + x.converted, 0);
    expect(convertedOf(figures?.versions[1]?.steps)).toBe(1);
    expect(convertedOf(figures?.versions[0]?.steps)).toBe(1);
    const all = byStep(figures?.all);
    expect(all.mail).toMatchObject({ entered: 6, sent: 6 });
    expect(all.wa?.waitingNow).toBe((await waiting(v1)) + (await waiting(v2)));
    expect(convertedOf(figures?.all)).toBe(2);
    // issue 17, item 7: from the rollups — delivered, attributed conversions and revenue.
    expect(all.mail).toMatchObject({ delivered: 6, conversions: 2, revenue: 42.5 });
    expect(all.mail?.revenuePerRecipient).toBeCloseTo(42.5 / 6);
    expect(figures?.rule).toMatch(/within the attribution window/);

    // One version only; another journey's version is not found.
    const only = await journeyStepFigures(h.db, h.workspaceId, journeyId, v2);
    expect(only?.versions.map((v) => v.versionId)).toEqual([v2]);
    expect(byStep(only?.all).mail).toMatchObject({ entered: 2, sent: 2 });
    const other = await h.publish("other", steps, settings);
    expect(await journeyStepFigures(h.db, h.workspaceId, journeyId, other.versionId)).toBeNull();
    expect(await journeyStepFigures(h.db, "other-workspace", journeyId)).toBeNull();

    // Per day: today has everything; yesterday nothing; the range is listed day by day.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const days = await journeyDailyFigures(h.db, h.workspaceId, journeyId, {
      from: yesterday,
      to: today,
    });
    expect(days).toEqual([
      { day: yesterday, entries: 0, sends: 0, conversions: 0, revenue: 0 },
      { day: today, entries: 6, sends: 6, conversions: 2, revenue: 42.5 },
    ]);
    expect(
      await journeyDailyFigures(h.db, "other-workspace", journeyId, { from: today, to: today }),
    ).toBeNull();
    expect(daysInRange("2026-01-01", "2026-12-31")).toBe(365);
  });

  it("revenue counts only orders within 5 days after a message of a converted run", async () => {
    const { journeyId } = await h.publish("window", steps, settings);
    await enter(["w1"], journeyId, 1);
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    // Before the email (not counted); then the converting order (counted).
    await track(h.ctx, h.workspaceId, {
      userId: "w1",
      event: "purchase",
      messageId: "w-old",
      timestamp: ago(1),
      properties: { revenue: 1000, order_id: "w-old" },
    });
    await track(h.ctx, h.workspaceId, {
      userId: "w1",
      event: "purchase",
      messageId: "w-new",
      properties: { revenue: 7, order_id: "w-new" },
    });
    await waitFor("the run converted", async () => {
      const c = await h.db.prisma.runTrace.count({
        where: { kind: "converted", runId: { in: await runIds(journeyId) } },
      });
      return c === 1 ? c : null;
    });
    await waitForAttributions(journeyId, 1);
    const days = await journeyDailyFigures(h.db, h.workspaceId, journeyId, {
      from: ago(2).slice(0, 10),
      to: today,
    });
    expect(days?.reduce((s, d) => s + d.revenue, 0)).toBe(7);
  });
});

async function runIds(journeyId: string): Promise<string[]> {
  return (
    await h.db.prisma.journeyRun.findMany({ where: { journeyId }, select: { id: true } })
  ).map((r) => r.id);
}

/** Attribution happens in the event batch, beside the run's own "converted" line. */
async function waitForAttributions(journeyId: string, n: number): Promise<void> {
  await waitFor(`${n} attributed conversions`, async () => {
    const c = await h.db.prisma.attribution.count({ where: { journeyId } });
    return c === n ? c : null;
  });
}
