// issue 17, item 4: analytics.steps and analytics.daily through the caller on real Postgres —
// figures per version and step (rollups summed over shards, waiting now), names as drawn, other
// workspaces refused, and the per-day range bounded with the field named.
import { draftFromSteps, compile } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, TWO_WORKSPACES, type ApiTestEnv } from "../testing.ts";

describe("analytics.steps / analytics.daily (issue 17)", () => {
  let env: ApiTestEnv<"a" | "b" | "viewer">;
  beforeAll(async () => {
    env = await openApiTestEnv(TWO_WORKSPACES, { prefix: "analytics" });
  });
  afterAll(async () => {
    await env?.close();
  });

  const steps = [
    {
      id: "t",
      type: "trigger.event" as const,
      data: { event: "signup", label: "Signed up" },
      next: "w",
    },
    { id: "w", type: "wait.duration" as const, data: { amount: 1, unit: "days" }, next: "x" },
    { id: "x", type: "flow.exit" as const },
  ];

  it("sums the shards per version, adds versions up, names steps as drawn", async () => {
    const ws = env.users.a.workspaceId;
    const prisma = env.db.prisma;
    const draft = draftFromSteps(steps);
    const compiled = compile(draft);
    if (!compiled.ok) throw new Error("does not compile");
    const j = await prisma.journey.create({
      data: { workspaceId: ws, name: "Welcome", draft: {}, status: "LIVE" },
    });
    const versions = [];
    for (const version of [1, 2])
      versions.push(
        await prisma.journeyVersion.create({
          data: {
            journeyId: j.id,
            workspaceId: ws,
            version,
            schemaVersion: compiled.plan.schemaVersion,
            plan: JSON.parse(JSON.stringify(compiled.plan)) as object,
            document: JSON.parse(JSON.stringify(draft)) as object,
            triggerType: "trigger.event",
            triggerEvent: "signup",
          },
        }),
      );
    const [v1, v2] = versions as [(typeof versions)[0], (typeof versions)[0]];
    await prisma.stepCounter.createMany({
      data: [
        { versionId: v1.id, journeyId: j.id, stepId: "t", shard: 0, entered: 3 },
        { versionId: v1.id, journeyId: j.id, stepId: "t", shard: 5, entered: 4 },
        { versionId: v1.id, journeyId: j.id, stepId: "w", shard: 1, entered: 7, converted: 2 },
        { versionId: v2.id, journeyId: j.id, stepId: "t", shard: 2, entered: 5 },
      ],
    });
    // issue 17, item 7: the rollups per (version, step, variant, day), over shards.
    const today = new Date().toISOString().slice(0, 10);
    const day = new Date(`${today}T00:00:00Z`);
    const yesterday = new Date(day.getTime() - 86_400_000);
    await prisma.journeyRollup.createMany({
      data: [
        { versionId: v1.id, journeyId: j.id, stepId: "t", variant: "", day, shard: 0, entered: 2 },
        { versionId: v1.id, journeyId: j.id, stepId: "t", variant: "", day, shard: 3, entered: 1 },
        {
          versionId: v2.id,
          journeyId: j.id,
          stepId: "t",
          variant: "",
          day: yesterday,
          shard: 1,
          entered: 5,
        },
        {
          versionId: v1.id,
          journeyId: j.id,
          stepId: "w",
          variant: "a",
          day,
          shard: 0,
          entered: 2,
          delivered: 2,
          sent: 2,
          opened: 3,
          openedUnique: 2,
          clicked: 1,
          clickedUnique: 1,
          converted: 1,
          revenue: 19.99,
        },
        {
          versionId: v1.id,
          journeyId: j.id,
          stepId: "w",
          variant: "b",
          day,
          shard: 1,
          entered: 1,
          sent: 1,
          delivered: 1,
          converted: 1,
          revenue: 5,
        },
      ],
    });
    const customer = await prisma.customer.create({
      data: { workspaceId: ws, externalId: `an-${j.id}`, attributes: {} },
    });
    for (const [i, status] of (["WAITING", "ACTIVE", "COMPLETED"] as const).entries())
      await prisma.journeyRun.create({
        data: {
          workspaceId: ws,
          journeyId: j.id,
          versionId: v1.id,
          customerId: customer.id,
          entryNumber: i + 1,
          status,
          currentStepId: "w",
        },
      });

    const viewer = createCaller(env.ctxFor(env.users.viewer));
    const got = await viewer.analytics.steps({ journeyId: j.id });
    expect(got.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(got.currency).toBe("USD"); // the workspace chose none
    const first = got.versions[1]!;
    expect(first.steps.map((s) => [s.name, s.entered, s.waitingNow, s.converted])).toEqual([
      ["Signed up", 7, 0, 0],
      ["Wait", 7, 2, 2],
      [expect.any(String), 0, 0, 0],
    ]);
    expect(typeof first.publishedAt).toBe("string");
    expect(got.all.find((s) => s.stepId === "t")?.entered).toBe(12);
    const wait = first.steps.find((s) => s.stepId === "w")!;
    expect(wait).toMatchObject({
      delivered: 3,
      opened: 3,
      uniqueOpens: 2,
      clicked: 1,
      uniqueClicks: 1,
      conversions: 2,
      revenue: 24.99,
    });
    expect(wait.revenuePerRecipient).toBeCloseTo(24.99 / 7);
    expect(wait.variants.map((v) => [v.variant, v.entered, v.conversions, v.revenue])).toEqual([
      ["a", 2, 1, 19.99],
      ["b", 1, 1, 5],
    ]);
    expect(got.rule).toMatch(/5 days after the last message/);
    const one = await viewer.analytics.steps({ journeyId: j.id, versionId: v2.id });
    expect(one.all.find((s) => s.stepId === "w")).toMatchObject({ entered: 0, waitingNow: 0 });

    const b = createCaller(env.ctxFor(env.users.b));
    expect((await rejects(b.analytics.steps({ journeyId: j.id }))).code).toBe("NOT_FOUND");
    expect(
      (await rejects(b.analytics.daily({ journeyId: j.id, from: "2026-01-01", to: "2026-01-02" })))
        .code,
    ).toBe("NOT_FOUND");
    expect(
      (await rejects(viewer.analytics.steps({ journeyId: j.id, versionId: "nope" }))).code,
    ).toBe("NOT_FOUND");

    const days = await viewer.analytics.daily({
      journeyId: j.id,
      from: yesterday.toISOString().slice(0, 10),
      to: today,
    });
    expect(days).toEqual([
      {
        day: yesterday.toISOString().slice(0, 10),
        entries: 5,
        sends: 0,
        conversions: 0,
        revenue: 0,
      },
      { day: today, entries: 3, sends: 3, conversions: 2, revenue: 24.99 },
    ]);
  });

  it("bounds the range and names the field", async () => {
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    const long = await rejects(
      viewer.analytics.daily({ journeyId: "j", from: "2025-01-01", to: "2026-01-02" }),
    );
    expect(long.code).toBe("BAD_REQUEST");
    expect(long.message).toContain("Choose at most 366 days");
    expect(long.message).toMatch(/"path": \[\s*"to"\s*\]/);
    const backwards = await rejects(
      viewer.analytics.daily({ journeyId: "j", from: "2026-02-02", to: "2026-02-01" }),
    );
    expect(backwards.message).toContain("to must be on or after from");
    const notDate = await rejects(
      viewer.analytics.daily({ journeyId: "j", from: "2026-02-30", to: "2026-03-01" }),
    );
    expect(notDate.message).toContain("from is not a date in the calendar");
    // Year 0 parses in JavaScript but not in Postgres: refused here, never a 500.
    const yearZero = await rejects(
      viewer.analytics.daily({ journeyId: "j", from: "0000-01-01", to: "0000-01-02" }),
    );
    expect(yearZero.code).toBe("BAD_REQUEST");
    expect(yearZero.message).toContain("from is not a date in the calendar");
    // 366 days (a leap year) is allowed.
    expect(
      (
        await rejects(
          viewer.analytics.daily({ journeyId: "j", from: "2024-01-01", to: "2024-12-31" }),
        )
      ).code,
    ).toBe("NOT_FOUND");
  });

  it("workspace analytics settings: defaults, admins change them, errors name the field", async () => {
    const own = await openApiTestEnv(
      [
        ["admin", "ws-s", "ADMIN"],
        ["viewer", "ws-s", "VIEWER"],
        ["other", "ws-t", "ADMIN"],
      ] as const,
      { prefix: "analytics-settings" },
    );
    try {
      const viewer = createCaller(own.ctxFor(own.users.viewer));
      expect(await viewer.analytics.settings()).toMatchObject({
        purchaseEvent: "purchase",
        revenueProperty: "revenue",
        orderIdProperty: "order_id",
        trackOpens: false,
      });
      const change = {
        purchaseEvent: "Order Completed",
        revenueProperty: "total",
        orderIdProperty: "order_id",
        trackOpens: true,
      };
      expect((await rejects(viewer.analytics.updateSettings(change))).code).toBe("FORBIDDEN");
      const admin = createCaller(own.ctxFor(own.users.admin));
      const bad = await rejects(admin.analytics.updateSettings({ ...change, purchaseEvent: " " }));
      expect(bad.code).toBe("BAD_REQUEST");
      expect(bad.message).toContain("Purchase event: type a name.");
      await own.db.prisma.workspace.update({
        where: { id: own.users.admin.workspaceId },
        data: { settings: { limits: { maxPerMinute: 10 } } },
      });
      expect((await admin.analytics.updateSettings(change)).trackOpens).toBe(true);
      expect(await viewer.analytics.settings()).toMatchObject(change);
      // Other settings of the workspace are kept; the other workspace's are untouched.
      const ws = await own.db.prisma.workspace.findUniqueOrThrow({
        where: { id: own.users.admin.workspaceId },
      });
      expect(ws.settings).toMatchObject({ limits: { maxPerMinute: 10 }, analytics: change });
      const other = createCaller(own.ctxFor(own.users.other));
      expect((await other.analytics.settings()).trackOpens).toBe(false);

      // Revenue's currency: USD until chosen; a code is checked (the field named); left out, it
      // stays; the figures' answers carry it.
      expect((await viewer.analytics.settings()).currency).toBe("USD");
      const wrong = await rejects(admin.analytics.updateSettings({ ...change, currency: "EURO" }));
      expect(wrong.code).toBe("BAD_REQUEST");
      expect(wrong.message).toContain("Currency: “EURO” is not a currency code");
      expect((await admin.analytics.updateSettings({ ...change, currency: "eur" })).currency).toBe(
        "EUR",
      );
      expect((await admin.analytics.updateSettings(change)).currency).toBe("EUR");
      expect(await viewer.analytics.settings()).toMatchObject({ ...change, currency: "EUR" });
      expect((await viewer.kpis.workspace({ from: "2026-11-01", to: "2026-11-30" })).currency).toBe(
        "EUR",
      );
      expect((await other.analytics.settings()).currency).toBe("USD");
    } finally {
      await own.close();
    }
  });
});
