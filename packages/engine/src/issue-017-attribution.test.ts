// Issue 17, items 2, 3 and 7 on real Postgres/Redis with a controlled clock: orders de-duplicated
// on order id (Segment's "Order Completed" and `total` too), attribution windows at their edges
// (after a message: 5 days by default; after entry when the journey says so), one conversion per
// run with its order's revenue credited to the step and the A/B variant, and the rollups agreeing
// with a recount from the raw rows across a republish.
import type { Provider } from "@postpath/channels";
import type { StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { forgetWorkspaceAnalytics, recordOrdersAndConversions } from "./attribution.ts";
import { insertOrders } from "./kpi-rollups.ts";
import { compactRollups, variantAt } from "./rollups.ts";
import { loadPlan } from "./plans.ts";
import { startEngineHarness, waitFor, type EngineHarness, ofJourney } from "./testing/harness.ts";
import { moveRuns } from "./testing/move.ts";
import { recountFigures, rollupFigures } from "./testing/recount.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
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

async function buy(userId: string, at: number, props: Record<string, unknown>, event = "purchase") {
  const { eventId } = await track(h.ctx, h.workspaceId, {
    userId,
    event,
    timestamp: iso(at),
    properties: props,
  });
  await waitFor(`${event} of ${userId} processed`, async () => {
    const e = await h.db.prisma.event.findUnique({ where: { id: eventId } });
    return e?.processedAt ? e : null;
  });
  return eventId;
}

async function enter(journeyId: string, users: string[], event: string) {
  for (const u of users) {
    await h.customer(u, { email: `${u}@example.com` });
    await track(h.ctx, h.workspaceId, { userId: u, event, timestamp: iso(clock) });
  }
  await waitFor(`${users.length} runs sent their email`, async () => {
    const n = await h.db.prisma.message.count({
      where: {
        ...(await ofJourney(h.db, journeyId)),
        status: "SENT",
        recipient: { in: users.map((u) => `${u}@example.com`) },
      },
    });
    return n === users.length ? n : null;
  });
}

const attributionOf = async (userId: string, journeyId: string) => {
  const c = await h.db.prisma.customer.findFirstOrThrow({
    where: { workspaceId: h.workspaceId, externalId: userId },
  });
  return h.db.query<{
    stepId: string;
    variant: string;
    revenue: number;
    orderId: string | null;
    basis: string;
    runId: string;
    versionId: string;
  }>(
    `SELECT "stepId", variant, revenue::float8 AS revenue, "orderId", basis, "runId", "versionId"
     FROM "Attribution" WHERE "customerId" = $1 AND "journeyId" = $2`,
    [c.id, journeyId],
  );
};

/** Trigger → an email → exit. */
const emailJourney = (event: string): StepSpec[] => [
  { id: "t", type: "trigger.event", data: { event }, next: "mail" },
  {
    id: "mail",
    type: "action.email",
    data: { subject: "Hi", body: "Hi", format: "text" },
    next: "x",
  },
  { id: "x", type: "flow.exit" },
];

describe("issue 17: orders and attribution", () => {
  it("after a message: inside the window counts, its edge does not; one per run; orders once", async () => {
    const { journeyId } = await h.publish("thanks", emailJourney("signup"), {
      goal: { name: "purchase", event: "purchase" },
    });
    clock = T0;
    await enter(journeyId, ["in", "edge", "before", "twice"], "signup");
    const sentAt = T0; // the clock did not move while sending
    clock = T0 + 6 * DAY; // the purchases arrive later, with their own timestamps

    await buy("in", sentAt + 5 * DAY - 1, { revenue: 40, order_id: "o-in" });
    await buy("edge", sentAt + 5 * DAY, { revenue: 50, order_id: "o-edge" });
    await buy("before", sentAt - 1, { revenue: 60, order_id: "o-before" });
    // The same order twice (a replay under another message id), then a second order.
    await buy("twice", sentAt + DAY, { revenue: 25.5, order_id: "o-tw" });
    await buy("twice", sentAt + DAY + 1000, { revenue: 25.5, order_id: "o-tw" });
    await buy("twice", sentAt + 2 * DAY, { revenue: 99, order_id: "o-tw2" });

    expect(await attributionOf("in", journeyId)).toMatchObject([
      { stepId: "mail", revenue: 40, orderId: "o-in", basis: "message" },
    ]);
    expect(await attributionOf("edge", journeyId)).toEqual([]);
    expect(await attributionOf("before", journeyId)).toEqual([]);
    expect(await attributionOf("twice", journeyId)).toMatchObject([
      { revenue: 25.5, orderId: "o-tw" },
    ]);

    const orders = await h.db.query<{ orderId: string; revenue: number }>(
      `SELECT "orderId", revenue::float8 AS revenue FROM "Order" WHERE "workspaceId" = $1 ORDER BY "orderId"`,
      [h.workspaceId],
    );
    expect(orders).toEqual([
      { orderId: "o-before", revenue: 60 },
      { orderId: "o-edge", revenue: 50 },
      { orderId: "o-in", revenue: 40 },
      { orderId: "o-tw", revenue: 25.5 },
      { orderId: "o-tw2", revenue: 99 },
    ]);
    // The rollups: converted and revenue on the email's step, on the day of each order.
    const days = await h.db.query<{ day: string; converted: number; revenue: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(converted)::int AS converted, sum(revenue)::float8 AS revenue
       FROM "JourneyRollup" WHERE "journeyId" = $1 AND "stepId" = 'mail' AND converted > 0 GROUP BY 1 ORDER BY 1`,
      [journeyId],
    );
    expect(days).toEqual([
      { day: iso(sentAt + DAY).slice(0, 10), converted: 1, revenue: 25.5 },
      { day: iso(sentAt + 5 * DAY - 1).slice(0, 10), converted: 1, revenue: 40 },
    ]);
    expect(await rollupFigures(h.db, journeyId)).toEqual(await recountFigures(h.ctx, journeyId));
  });

  it("after entry, with the journey's own window; Segment's Order Completed with total", async () => {
    await h.db.prisma.workspace.update({
      where: { id: h.workspaceId },
      data: {
        settings: {
          analytics: {
            purchaseEvent: "order_placed",
            revenueProperty: "amount",
            orderIdProperty: "ref",
          },
        },
      },
    });
    const { journeyId } = await h.publish(
      "entry",
      [
        { id: "t", type: "trigger.event", data: { event: "joined" }, next: "w" },
        { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
        { id: "x", type: "flow.exit" },
      ],
      { attribution: { basis: "entry", windowDays: 2 } },
    );
    clock = T0 + 20 * DAY;
    const entered = clock;
    for (const u of ["e-in", "e-edge", "e-seg"]) {
      await h.customer(u, {});
      await track(h.ctx, h.workspaceId, { userId: u, event: "joined", timestamp: iso(clock) });
    }
    await waitFor("three runs waiting", async () =>
      (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) === 3
        ? 3
        : null,
    );
    clock = entered + 3 * DAY;
    forgetWorkspaceAnalytics(h.workspaceId); // the settings just changed (cached for 2 s)
    await buy("e-in", entered + 2 * DAY - 1, { amount: 10, ref: "r-1" }, "order_placed");
    await buy("e-edge", entered + 2 * DAY, { amount: 10, ref: "r-2" }, "order_placed");
    await buy("e-seg", entered + DAY, { total: 12.34, order_id: "seg-1" }, "Order Completed");
    expect(await attributionOf("e-in", journeyId)).toMatchObject([
      { stepId: "t", revenue: 10, orderId: "r-1", basis: "entry" },
    ]);
    expect(await attributionOf("e-edge", journeyId)).toEqual([]);
    expect(await attributionOf("e-seg", journeyId)).toMatchObject([
      { revenue: 12.34, orderId: "seg-1" },
    ]);
    expect(await rollupFigures(h.db, journeyId)).toEqual(await recountFigures(h.ctx, journeyId));
  });

  it("per variant and per version: rollups agree with a recount across a republish", async () => {
    await h.db.prisma.workspace.update({ where: { id: h.workspaceId }, data: { settings: {} } });
    // The settings are cached for 2 s: without this, purchases in the next 2 s would still be
    // judged by the previous test's purchase event (order_placed) and not convert.
    forgetWorkspaceAnalytics(h.workspaceId);
    const steps = [
      { id: "t", type: "trigger.event" as const, data: { event: "visit" }, next: "s" },
      {
        id: "s",
        type: "split.random" as const,
        data: {
          variants: [
            { id: "a", percent: 50 },
            { id: "b", percent: 50 },
          ],
          holdout: 0,
        },
        next: { a: "ma", b: "mb" },
      },
      {
        id: "ma",
        type: "action.email" as const,
        data: { subject: "A", body: "A", format: "text" },
        next: "m2",
      },
      {
        id: "mb",
        type: "action.email" as const,
        data: { subject: "B", body: "B", format: "text" },
        next: "m2",
      },
      {
        id: "m2",
        type: "action.email" as const,
        data: { subject: "2", body: "2", format: "text" },
        next: "x",
      },
      { id: "x", type: "flow.exit" as const },
    ];
    clock = T0 + 40 * DAY;
    const { journeyId, versionId: v1 } = await h.publish("ab", steps);
    const first = Array.from({ length: 12 }, (_, i) => `v1-${i}`);
    for (const u of first) {
      await h.customer(u, { email: `${u}@example.com` });
      await track(h.ctx, h.workspaceId, { userId: u, event: "visit", timestamp: iso(clock) });
    }
    // Events are processed by the workers after `track` returns: a visit still queued when v2 is
    // published would enter v2, so the first twelve enter v1 before the republish.
    await waitFor("the first 12 entered version 1", async () => {
      const n = await h.db.prisma.journeyRun.count({ where: { versionId: v1 } });
      return n === 12 ? n : null;
    });
    const { versionId: v2 } = await h.publish("ab", steps, {}, journeyId);
    const second = Array.from({ length: 8 }, (_, i) => `v2-${i}`);
    for (const u of second) {
      await h.customer(u, { email: `${u}@example.com` });
      await track(h.ctx, h.workspaceId, { userId: u, event: "visit", timestamp: iso(clock) });
    }
    await waitFor("every run completed", async () => {
      const n = await h.db.prisma.journeyRun.count({
        where: { journeyId, status: { in: ["COMPLETED", "EXITED"] } },
      });
      return n === 20 ? n : null;
    });
    for (const u of [...first.slice(0, 5), ...second.slice(0, 3)])
      await buy(u, clock + 1000, { revenue: 10, order_id: `ord-${u}` });

    const rolled = await rollupFigures(h.db, journeyId);
    expect(rolled).toEqual(await recountFigures(h.ctx, journeyId));
    // Each version's trigger counted its own entries; the variants split them.
    expect(rolled.get(`${v1} t `)?.entered).toBe(12);
    expect(rolled.get(`${v2} t `)?.entered).toBe(8);
    const plan = await loadPlan(h.ctx, v1);
    const runs = await h.db.prisma.journeyRun.findMany({
      where: { versionId: v1 },
      select: { id: true },
    });
    const arms = runs.map((r) => variantAt(plan, r.id, "m2"));
    expect((rolled.get(`${v1} m2 a`)?.sent ?? 0) + (rolled.get(`${v1} m2 b`)?.sent ?? 0)).toBe(12);
    expect(rolled.get(`${v1} m2 a`)?.sent ?? 0).toBe(arms.filter((a) => a === "a").length);
    // Conversions go to the last message (m2), in the run's variant; 5 + 3 of them, 10 each.
    let converted = 0;
    let revenue = 0;
    for (const [key, f] of rolled)
      if (key.split(" ")[1] === "m2") {
        converted += f.converted;
        revenue += f.revenue;
      }
    expect({ converted, revenue }).toEqual({ converted: 8, revenue: 80 });

    // The sweeper folds the shards of days that are over into one row: the figures stay.
    clock += 2 * DAY;
    const shards = async () =>
      (
        await h.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "JourneyRollup" WHERE "journeyId" = $1 AND shard <> 0`,
          [journeyId],
        )
      )[0]!.n;
    expect(await shards()).toBeGreaterThan(0);
    expect(await compactRollups(h.ctx, { days: 400 })).toBeGreaterThan(0);
    expect(await shards()).toBe(0);
    expect(await rollupFigures(h.db, journeyId)).toEqual(rolled);
  });

  it("after a move (issue 18): a conversion counts on the version and step whose message it follows", async () => {
    clock = T0 + 100 * DAY;
    const goal = { goal: { name: "purchase", event: "purchase" } };
    const trigger: StepSpec = {
      id: "t",
      type: "trigger.event",
      data: { event: "moved_signup" },
      next: "mail",
    };
    const wait: StepSpec = {
      id: "wait",
      type: "wait.duration",
      data: { amount: 10, unit: "days" },
      next: "x",
    };
    const { journeyId, versionId: first } = await h.publish(
      "moved thanks",
      [
        trigger,
        {
          id: "mail",
          type: "action.email",
          data: { subject: "Hi", body: "Hi", format: "text" },
          next: "wait",
        },
        wait,
        { id: "x", type: "flow.exit" },
      ],
      goal,
    );
    await enter(journeyId, ["mover"], "moved_signup");
    await waitFor("the run waiting after its email", () =>
      h.db.prisma.journeyRun.findFirst({ where: { journeyId, status: "WAITING" } }),
    );
    // Version 2 drops the email; the waiting run moves there.
    const { versionId: second } = await h.publish(
      "moved thanks",
      [{ ...trigger, next: "wait" }, wait, { id: "x", type: "flow.exit" }],
      goal,
      journeyId,
    );
    expect(
      await moveRuns(h, journeyId, [first], second, {
        mode: "move",
        deletedSteps: {},
        changedWaits: "keepDueTime",
      }),
    ).toMatchObject({ moved: 1 });
    expect(
      (await h.db.prisma.journeyRun.findFirstOrThrow({ where: { journeyId } })).versionId,
    ).toBe(second);

    await buy("mover", clock + DAY, { revenue: 70, order_id: "o-mover" });
    expect(await attributionOf("mover", journeyId)).toMatchObject([
      { versionId: first, stepId: "mail", revenue: 70, basis: "message" },
    ]);
    expect(await rollupFigures(h.db, journeyId)).toEqual(await recountFigures(h.ctx, journeyId));
  });

  it("one order id in two events: whichever converts first credits the order, once per journey", async () => {
    await h.db.prisma.workspace.update({ where: { id: h.workspaceId }, data: { settings: {} } });
    forgetWorkspaceAnalytics(h.workspaceId);
    const { journeyId } = await h.publish("twice-entered", emailJourney("visited"), {
      goal: { name: "purchase", event: "purchase" },
      entry: { mode: "afterExit" },
    });
    clock = T0 + 40 * DAY;
    const customerId = await h.customer("racer", { email: "racer@example.com" });
    // Two runs of the journey, each sent its email.
    for (const n of [1, 2]) {
      await track(h.ctx, h.workspaceId, {
        userId: "racer",
        event: "visited",
        timestamp: iso(clock),
      });
      await waitFor(`run ${n} ended`, async () => {
        const ended = await h.db.prisma.journeyRun.count({
          where: { journeyId, status: { in: ["COMPLETED", "EXITED"] } },
        });
        return ended === n ? ended : null;
      });
    }
    expect(
      await h.db.prisma.message.count({
        where: { ...(await ofJourney(h.db, journeyId)), status: "SENT" },
      }),
    ).toBe(2);

    // The purchase arrived twice under two message ids (a replay). Event A made the order, but
    // the job holding event B converts first — as concurrent event jobs can.
    const ts = clock + DAY;
    const event = (id: string) => ({
      id,
      workspaceId: h.workspaceId,
      customerId,
      name: "purchase",
      properties: { revenue: 25, order_id: "o-race" },
      ts,
    });
    await insertOrders(h.ctx, h.workspaceId, [
      { orderId: "o-race", customerId, revenue: 25, ts, eventId: "race-a" },
    ]);
    await recordOrdersAndConversions(h.ctx, [event("race-b")]);
    await recordOrdersAndConversions(h.ctx, [event("race-a")]);
    await recordOrdersAndConversions(h.ctx, [event("race-b"), event("race-a")]); // a retried job

    // Both runs converted; the order's revenue counted once for the journey, on the first run.
    const rows = await attributionOf("racer", journeyId);
    expect(rows.map((r) => [r.orderId, r.stepId]).sort()).toEqual([
      ["o-race", "mail"],
      ["o-race", "mail"],
    ]);
    expect(rows.map((r) => r.revenue).sort()).toEqual([0, 25]);
    const [credited] = rows.filter((r) => r.revenue > 0);
    expect(credited?.runId).toBe([...rows.map((r) => r.runId)].sort()[0]);
    const [influenced] = await h.db.query<{ journeyRevenue: number }>(
      `SELECT sum("journeyRevenue")::float8 AS "journeyRevenue" FROM "KpiDay"
       WHERE "workspaceId" = $1 AND day = $2::date`,
      [h.workspaceId, iso(ts).slice(0, 10)],
    );
    expect(influenced?.journeyRevenue).toBe(25);
    expect(await rollupFigures(h.db, journeyId)).toEqual(await recountFigures(h.ctx, journeyId));
  });
});
