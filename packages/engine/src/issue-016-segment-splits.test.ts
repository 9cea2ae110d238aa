// Issue 16: splits by saved segment membership and by lifecycle stage. A condition on
// `customer.segments` ("is in segment") or `customer.lifecycle_stage` routes each customer by
// their memberships as Postgres has them when the split runs — read fresh for every advance of a
// run whose plan reads them, so a customer who joined a segment while the run waited is routed
// as a member. Real Postgres and Redis, a controlled clock for the lifecycle windows.
import { SegmentDefinition, type SegmentDefinitionInput } from "@postpath/journey";
import type { Prisma } from "@postpath/db";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { identify, track } from "./ingest.ts";
import { membershipsOf } from "./memberships.ts";
import { forgetSegments, loadSegments, refreshSegments, saveLifecycle } from "./segments.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

const DAY = 86_400_000;
let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const json = (v: unknown) => v as Prisma.InputJsonValue;
const def = (d: SegmentDefinitionInput) => json(SegmentDefinition.parse(d));

/** A purchase stored as already processed, `daysAgo` before the harness clock. */
async function purchase(harness: EngineHarness, customerId: string, daysAgo: number) {
  await harness.db.prisma.event.create({
    data: {
      workspaceId: harness.workspaceId,
      customerId,
      name: "purchase",
      properties: {},
      timestamp: new Date(harness.ctx.now() - daysAgo * DAY),
      messageId: randomUUID(),
      processedAt: new Date(),
    },
  });
}

/** The step each of the journey's runs ended on, by customer id. */
async function endsOf(harness: EngineHarness, journeyId: string, n: number) {
  const runs = await waitFor(`${n} runs of the journey ended`, async () => {
    const rows = await harness.db.prisma.journeyRun.findMany({
      where: { journeyId, status: { in: ["EXITED", "COMPLETED"] } },
      select: { customerId: true, currentStepId: true },
    });
    return rows.length === n ? rows : null;
  });
  return Object.fromEntries(runs.map((r) => [r.customerId, r.currentStepId]));
}

describe("splits by segment and lifecycle stage", () => {
  it("routes customers by membership and stage, read when the split runs", async () => {
    const clock = Date.now();
    h = await startEngineHarness({ now: () => clock });
    const vip = await h.db.prisma.segment.create({
      data: {
        workspaceId: h.workspaceId,
        name: "VIP",
        definition: def({
          rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }],
        }),
      },
    });
    const stages = await saveLifecycle(h.ctx, h.workspaceId, {
      event: "purchase",
      newDays: 30,
      repeatCount: 2,
      repeatDays: 365,
      activeDays: 90,
      lapsedDays: 180,
    });
    forgetSegments(h.workspaceId);

    // ann: gold, bought 100 and 10 days ago (repeat); bob: bought 120 days ago (at risk);
    // cat: never bought, not gold (no stage).
    const ann = await h.customer("ann", { tier: "gold" });
    const bob = await h.customer("bob", { tier: "silver" });
    const cat = await h.customer("cat");
    await purchase(h, ann, 100);
    await purchase(h, ann, 10);
    await purchase(h, bob, 120);
    await refreshSegments(h.ctx, h.workspaceId, await loadSegments(h.ctx, h.workspaceId), null);
    expect(await membershipsOf(h.ctx, ann)).toEqual({
      segments: [vip.id, stages.repeat].sort(),
      lifecycleStage: "repeat",
    });
    expect(await membershipsOf(h.ctx, bob)).toEqual({
      segments: [stages.at_risk],
      lifecycleStage: "at_risk",
    });
    expect(await membershipsOf(h.ctx, cat)).toEqual({ segments: [], lifecycleStage: null });

    // A multi-branch split: VIP first, then "at risk or lapsed", else the rest.
    const byStage = await h.publish("Route by audience", [
      { id: "t", type: "trigger.event", data: { event: "check" }, next: "s" },
      {
        id: "s",
        type: "split.multi",
        data: {
          branches: [
            {
              id: "vip",
              conditions: [{ property: "customer.segments", op: "contains", value: vip.id }],
            },
            {
              id: "risk",
              conditions: [
                { property: "customer.lifecycle_stage", op: "in", value: ["at_risk", "lapsed"] },
              ],
            },
          ],
        },
        next: { vip: "endVip", risk: "endRisk", else: "endOther" },
      },
      { id: "endVip", type: "flow.exit" },
      { id: "endRisk", type: "flow.exit" },
      { id: "endOther", type: "flow.exit" },
    ]);
    // A yes/no split on "is not in segment" and "lifecycle stage is repeat" (any of them).
    const notVip = await h.publish("Not VIP or repeat", [
      { id: "t", type: "trigger.event", data: { event: "check" }, next: "s" },
      {
        id: "s",
        type: "split.condition",
        data: {
          match: "all",
          conditions: [
            { property: "customer.segments", op: "notContains", value: vip.id },
            { property: "customer.lifecycle_stage", op: "neq", value: "repeat" },
          ],
        },
        next: { yes: "endYes", no: "endNo" },
      },
      { id: "endYes", type: "flow.exit" },
      { id: "endNo", type: "flow.exit" },
    ]);
    for (const userId of ["ann", "bob", "cat"])
      await track(h.ctx, h.workspaceId, { userId, event: "check", properties: {} });

    expect(await endsOf(h, byStage.journeyId, 3)).toEqual({
      [ann]: "endVip",
      [bob]: "endRisk",
      [cat]: "endOther",
    });
    expect(await endsOf(h, notVip.journeyId, 3)).toEqual({
      [ann]: "endNo",
      [bob]: "endYes",
      [cat]: "endYes",
    });
    // The trace says why, in words.
    const annRun = await h.db.prisma.journeyRun.findFirstOrThrow({
      where: { journeyId: notVip.journeyId, customerId: ann },
      select: { id: true },
    });
    const trace = await h.db.prisma.runTrace.findFirst({
      where: { runId: annRun.id, kind: "split.branch" },
      select: { detail: true },
    });
    expect(JSON.stringify(trace?.detail)).toContain(`is not in segment \\"${vip.id}\\"`);
  });

  it("reads memberships as they are when the split runs, not when the run started", async () => {
    h = await startEngineHarness();
    const vip = await h.db.prisma.segment.create({
      data: {
        workspaceId: h.workspaceId,
        name: "VIP",
        definition: def({
          rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }],
        }),
      },
    });
    forgetSegments(h.workspaceId);
    const j = await h.publish("Wait, then route", [
      { id: "t", type: "trigger.event", data: { event: "check" }, next: "w" },
      {
        id: "w",
        type: "wait.event",
        data: { event: "go", timeout: { amount: 1, unit: "days" } },
        next: { arrived: "s", timedOut: "endLate" },
      },
      {
        id: "s",
        type: "split.condition",
        data: { conditions: [{ property: "customer.segments", op: "contains", value: vip.id }] },
        next: { yes: "endVip", no: "endNo" },
      },
      { id: "endVip", type: "flow.exit" },
      { id: "endNo", type: "flow.exit" },
      { id: "endLate", type: "flow.exit" },
    ]);
    const dan = await h.customer("dan", { tier: "silver" });
    await track(h.ctx, h.workspaceId, { userId: "dan", event: "check", properties: {} });
    await waitFor("dan's run is parked", () =>
      h!.db.prisma.journeyRun.findFirst({
        where: { journeyId: j.journeyId, customerId: dan, parkedEvent: "go" },
      }),
    );
    // While the run waits, dan becomes gold and joins VIP (the identify's incremental refresh).
    await identify(h.ctx, h.workspaceId, { userId: "dan", traits: { tier: "gold" } });
    await waitFor("dan is in VIP", () =>
      h!.db.prisma.segmentMembership.findUnique({
        where: { segmentId_customerId: { segmentId: vip.id, customerId: dan } },
      }),
    );
    await track(h.ctx, h.workspaceId, { userId: "dan", event: "go", properties: {} });
    expect(await endsOf(h, j.journeyId, 1)).toEqual({ [dan]: "endVip" });
  });
});
