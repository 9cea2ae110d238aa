// Issue 16: the journey editor's test run with a real customer. journeys.testCustomer (real
// Postgres, the `segments` jobs on real Redis) gives the customer with the saved segments they are
// in and their lifecycle stage as the membership table holds them; the simulator run on it follows
// a saved-segment trigger, a lifecycle split and a coupon rule as the engine would, and a customer
// outside the segment does not enter. Marketers only, this workspace only; errors name the field.
import { randomUUID } from "node:crypto";
import { processMaintenanceJob } from "@postpath/engine";
import { compile, draftFromSteps, simulate } from "@postpath/journey";
import type { StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

const DAY = 86_400_000;

describe("journeys.testCustomer (issue 16)", () => {
  let env: ApiTestEnv<"marketer" | "viewer" | "other">;
  let ws: string;
  let gold = "";
  const ids: Record<string, string> = {};

  async function runQueuedJobs() {
    const jobs = await env.engine.queues.jobs.getJobs(["waiting", "delayed", "prioritized"]);
    for (const j of jobs) {
      await processMaintenanceJob(env.engine, j.data);
      await j.remove();
    }
  }

  async function purchase(customer: string, daysAgo: number) {
    await env.db.prisma.event.create({
      data: {
        workspaceId: ws,
        customerId: ids[customer]!,
        name: "purchase",
        properties: { revenue: 50 },
        timestamp: new Date(Date.now() - daysAgo * DAY),
        messageId: randomUUID(),
        processedAt: new Date(),
      },
    });
  }

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["marketer", "tc-a", "MARKETER"],
        ["viewer", "tc-a", "VIEWER"],
        ["other", "tc-b", "ADMIN"],
      ] as const,
      { prefix: "testcustomer" },
    );
    ws = env.users.marketer.workspaceId;
    for (const [name, tier] of [
      ["fading", "gold"], // one purchase 120 days ago: at risk
      ["fresh", "gold"], // one purchase 5 days ago: new
      ["plain", "silver"], // no purchase: no stage
    ] as const)
      ids[name] = (
        await env.db.prisma.customer.create({
          data: {
            workspaceId: ws,
            externalId: name,
            email: `${name}@Shop.test`,
            timezone: "Europe/Paris",
            attributes: { tier, first_name: name },
            tags: ["vip"],
          },
        })
      ).id;
    await purchase("fading", 120);
    await purchase("fresh", 5);
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    gold = (
      await marketer.segments.create({
        name: "Gold customers",
        definition: {
          match: "all",
          rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }],
        },
      })
    ).id;
    await marketer.segments.lifecycle.set((await marketer.segments.lifecycle.get()).settings);
    await runQueuedJobs();
  });
  afterAll(async () => {
    await env?.close();
  });

  it("gives the customer with their saved segments and lifecycle stage from the database", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const fading = await marketer.journeys.testCustomer({ customer: "fading" });
    const memberships = await marketer.segments.ofCustomer({ customerId: ids.fading! });
    expect(memberships.stage).toBe("at_risk");
    expect(fading).toEqual({
      customer: {
        id: ids.fading,
        externalId: "fading",
        email: "fading@Shop.test",
        phone: null,
        timezone: "Europe/Paris",
        attributes: { tier: "gold", first_name: "fading" },
        tags: ["vip"],
        segments: memberships.segments.map((s) => s.id).sort(),
        lifecycleStage: "at_risk",
      },
      segmentNames: ["Gold customers"],
    });
    expect(fading.customer.segments).toContain(gold);
    expect(fading.customer.segments).toHaveLength(2); // Gold customers and the at-risk stage

    // By email too, whatever its case; a customer in no segment has none and no stage.
    expect(
      (await marketer.journeys.testCustomer({ customer: "FRESH@shop.test" })).customer,
    ).toMatchObject({ externalId: "fresh", lifecycleStage: "new" });
    expect(await marketer.journeys.testCustomer({ customer: " plain " })).toMatchObject({
      customer: { externalId: "plain", segments: [], lifecycleStage: null },
      segmentNames: [],
    });
  });

  it("a test run on that customer takes the path the engine would", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const steps: StepSpec[] = [
      { id: "t", type: "trigger.segment", data: { segmentId: gold, on: "enter" }, next: "s" },
      {
        id: "s",
        type: "split.condition",
        data: {
          conditions: [{ property: "customer.lifecycle_stage", op: "eq", value: "at_risk" }],
        },
        next: { yes: "c", no: "x" },
      },
      {
        id: "c",
        type: "action.coupon",
        data: {
          source: { kind: "pattern", pattern: "BACK-####" },
          value: { kind: "percent", amount: 10 },
          rules: [
            {
              when: [{ property: "customer.segments", op: "contains", value: gold }],
              value: { kind: "percent", amount: 25 },
            },
          ],
        },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ];
    const compiled = compile(draftFromSteps(steps));
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const start = Date.UTC(2026, 0, 15, 9, 0);
    const testRun = async (customer: string) =>
      simulate(compiled.plan, (await marketer.journeys.testCustomer({ customer })).customer, [], {
        start,
        until: start + DAY,
      });

    const atRisk = await testRun("fading");
    expect(atRisk.entered).toBe(true);
    expect(atRisk.path).toEqual(["t", "s", "c", "x"]);
    expect(atRisk.effects.find((e) => e.effect.kind === "issueCoupon")?.effect).toMatchObject({
      value: { kind: "percent", amount: 25 },
    });
    // A new customer in the segment: the split's other path.
    expect((await testRun("fresh")).path).toEqual(["t", "s", "x"]);
    // Not in the segment: no run.
    const outside = await testRun("plain");
    expect(outside.entered).toBe(false);
    expect(outside.notEntered).toBe("the customer is not in the segment");
  });

  it("answers for this workspace's customers only, to marketers, naming the field", async () => {
    const other = createCaller(env.ctxFor(env.users.other));
    const missing = await rejects(other.journeys.testCustomer({ customer: "fading" }));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toMatch(/^customer: no customer with the id or email “fading”/);
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    expect((await rejects(viewer.journeys.testCustomer({ customer: "fading" }))).code).toBe(
      "FORBIDDEN",
    );
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    expect((await rejects(marketer.journeys.testCustomer({ customer: "  " }))).code).toBe(
      "BAD_REQUEST",
    );
  });
});
