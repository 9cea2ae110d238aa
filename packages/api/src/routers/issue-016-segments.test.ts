// Issue 16, item 2: the segments router through createCaller on real Postgres (and the engine's
// `segments` job on real Redis): roles, workspace scoping, errors naming the field, references
// and cycles, the size preview and sample, membership computed by the queued job, deletion
// refused while a live journey starts from the segment, and the lifecycle stages per customer.
import { randomUUID } from "node:crypto";
import type { Prisma } from "@postpath/db";
import { processMaintenanceJob } from "@postpath/engine";
import { compile, draftFromSteps, triggerOf } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

const DAY = 86_400_000;

describe("segments router", () => {
  let env: ApiTestEnv<"marketer" | "viewer" | "other">;
  let ws: string;
  const ids: Record<string, string> = {};

  /** Runs the `segments` jobs the API queued, as the worker would. */
  async function runQueuedJobs() {
    const jobs = await env.engine.queues.jobs.getJobs(["waiting", "delayed", "prioritized"]);
    for (const j of jobs) {
      await processMaintenanceJob(env.engine, j.data);
      await j.remove();
    }
    return jobs.length;
  }

  async function purchase(customer: string, daysAgo: number, revenue = 10) {
    await env.db.prisma.event.create({
      data: {
        workspaceId: ws,
        customerId: ids[customer]!,
        name: "purchase",
        properties: { revenue },
        timestamp: new Date(Date.now() - daysAgo * DAY),
        messageId: randomUUID(),
        processedAt: new Date(),
      },
    });
  }

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["marketer", "s-a", "MARKETER"],
        ["viewer", "s-a", "VIEWER"],
        ["other", "s-b", "ADMIN"],
      ] as const,
      { prefix: "segments" },
    );
    ws = env.users.marketer.workspaceId;
    for (const [name, tier] of [
      ["fresh", "gold"],
      ["loyal", "gold"],
      ["steady", "silver"],
      ["fading", "silver"],
      ["gone", "silver"],
      ["never", "gold"],
    ] as const)
      ids[name] = (
        await env.db.prisma.customer.create({
          data: {
            workspaceId: ws,
            externalId: name,
            email: `${name}@shop.test`,
            attributes: { tier },
          },
        })
      ).id;
    await purchase("fresh", 5); // new
    await purchase("loyal", 200, 400); // repeat: bought long ago and twice this year
    await purchase("loyal", 20, 300);
    await purchase("steady", 120); // active: one this quarter, one before
    await purchase("steady", 40);
    await purchase("fading", 120); // at risk
    await purchase("gone", 300); // lapsed
  });
  afterAll(async () => {
    await env?.close();
  });

  it("a marketer creates a segment; its preview and membership come from the database", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    const definition = {
      match: "all" as const,
      rules: [
        { kind: "attribute" as const, property: "tier", op: "eq" as const, value: "gold" },
        { kind: "event" as const, event: "purchase", op: "gte" as const, value: 1, withinDays: 90 },
      ],
    };
    const preview = await viewer.segments.preview({ definition });
    expect(preview.count).toBe(2);
    expect(preview.sample.map((s) => s.externalId).sort()).toEqual(["fresh", "loyal"]);

    const { id } = await marketer.segments.create({ name: "Gold buyers", definition });
    expect(await runQueuedJobs()).toBeGreaterThan(0);
    const list = await viewer.segments.list();
    expect(list).toEqual([
      expect.objectContaining({
        id,
        name: "Gold buyers",
        members: 2,
        rules: ['tier equals "gold"', "has done purchase at least 1 time in the last 90 days"],
      }),
    ]);
    const got = await viewer.segments.get({ id });
    expect(got).toMatchObject({ members: 2, usedBy: [], definition });
    expect((await viewer.segments.ofCustomer({ customerId: ids.fresh! })).segments).toEqual([
      expect.objectContaining({ id, name: "Gold buyers" }),
    ]);

    // Changing the rules recomputes membership.
    await marketer.segments.update({
      id,
      definition: { ...definition, rules: [definition.rules[0]!] },
    });
    await runQueuedJobs();
    expect((await viewer.segments.get({ id })).members).toBe(3);

    // Viewers only read; another workspace sees nothing.
    expect((await rejects(viewer.segments.create({ name: "x", definition }))).code).toBe(
      "FORBIDDEN",
    );
    const other = createCaller(env.ctxFor(env.users.other));
    expect((await rejects(other.segments.get({ id }))).code).toBe("NOT_FOUND");
    expect((await rejects(other.segments.delete({ id }))).code).toBe("NOT_FOUND");
    expect(await other.segments.list()).toEqual([]);
    expect((await rejects(other.segments.ofCustomer({ customerId: ids.fresh! }))).code).toBe(
      "NOT_FOUND",
    );
    // The same name twice in a workspace is a conflict naming the field.
    const dup = await rejects(marketer.segments.create({ name: "Gold buyers", definition }));
    expect(dup.code).toBe("CONFLICT");
    expect(dup.message).toMatch(/^name:/);
  });

  it("bad definitions are 4xx naming the field; references must exist and not loop", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const bad = await rejects(
      marketer.segments.create({
        name: "Bad",
        definition: {
          rules: [{ kind: "event", event: "purchase", measure: "sum", value: 5, withinDays: 0 }],
        },
      } as never),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    const paths = (bad.cause as unknown as { issues: { path: unknown[] }[] }).issues.map((i) =>
      i.path.join("."),
    );
    expect(paths).toEqual(expect.arrayContaining(["definition.rules.0.withinDays"]));
    const missing = await rejects(
      marketer.segments.create({
        name: "Refers to nothing",
        definition: { rules: [{ kind: "segment", segmentId: "nope" }] },
      }),
    );
    expect(missing.message).toMatch(/^definition\.rules\.0\.segmentId:/);

    const a = await marketer.segments.create({
      name: "A",
      definition: { rules: [{ kind: "consent", channel: "email", status: "never_asked" }] },
    });
    const b = await marketer.segments.create({
      name: "B",
      definition: { rules: [{ kind: "segment", segmentId: a.id }] },
    });
    const loop = await rejects(
      marketer.segments.update({
        id: a.id,
        definition: { rules: [{ kind: "segment", segmentId: b.id }] },
      }),
    );
    expect(loop.code).toBe("BAD_REQUEST");
    expect(loop.message).toMatch(/cannot include itself/);
    // A cannot go while B includes it (named).
    const inUse = await rejects(marketer.segments.delete({ id: a.id }));
    expect(inUse.message).toMatch(/"B" includes this one/);
    await marketer.segments.delete({ id: b.id });
    await marketer.segments.delete({ id: a.id });
    await runQueuedJobs();
  });

  it("refuses to delete a segment a live journey starts from, naming the journey", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const { id } = await marketer.segments.create({
      name: "Lapsed VIPs",
      definition: { rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }] },
    });
    const result = compile(
      draftFromSteps([
        { id: "t", type: "trigger.segment", data: { segmentId: id, on: "enter" }, next: "end" },
        { id: "end", type: "flow.exit" },
      ]),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const j = await env.db.prisma.journey.create({
      data: { workspaceId: ws, name: "Win back VIPs", status: "LIVE", draft: {} },
    });
    await env.db.prisma.journeyVersion.create({
      data: {
        journeyId: j.id,
        workspaceId: ws,
        version: 1,
        schemaVersion: result.plan.schemaVersion,
        plan: result.plan as unknown as Prisma.InputJsonValue,
        triggerType: triggerOf(result.plan).type,
      },
    });
    const err = await rejects(marketer.segments.delete({ id }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/"Win back VIPs"/);
    expect((await marketer.segments.get({ id })).usedBy).toEqual(["Win back VIPs"]);
    await env.db.prisma.journey.update({ where: { id: j.id }, data: { status: "ARCHIVED" } });
    expect(await marketer.segments.delete({ id })).toEqual({ deleted: true });
    await runQueuedJobs();
  });

  it("lifecycle stages: defaults stated in words, one stage per customer, tunable", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    const before = await viewer.segments.lifecycle.get();
    expect(before.enabled).toBe(false);
    expect(before.settings).toMatchObject({ event: "purchase", newDays: 30, lapsedDays: 180 });
    expect(before.stages.find((s) => s.stage === "at_risk")?.rule).toBe(
      "the last purchase was between 90 and 180 days ago",
    );
    await marketer.segments.lifecycle.set(before.settings);
    await runQueuedJobs();
    const stageOf = async (name: string) =>
      (await viewer.segments.ofCustomer({ customerId: ids[name]! })).stage;
    expect({
      fresh: await stageOf("fresh"),
      loyal: await stageOf("loyal"),
      steady: await stageOf("steady"),
      fading: await stageOf("fading"),
      gone: await stageOf("gone"),
      never: await stageOf("never"),
    }).toEqual({
      fresh: "new",
      loyal: "repeat",
      steady: "repeat",
      fading: "at_risk",
      gone: "lapsed",
      never: null,
    });
    // Tuned: repeat needs 3 purchases; steady (2) becomes active. Stage counts follow.
    await marketer.segments.lifecycle.set({ ...before.settings, repeatCount: 3 });
    await runQueuedJobs();
    expect(await stageOf("steady")).toBe("active");
    expect(await stageOf("loyal")).toBe("active");
    const after = await viewer.segments.lifecycle.get();
    expect(Object.fromEntries(after.stages.map((s) => [s.stage, s.members]))).toEqual({
      new: 1,
      repeat: 0,
      active: 2,
      at_risk: 1,
      lapsed: 1,
    });
    // Errors name the field; lifecycle segments are not deleted or rewritten by hand.
    const bad = await rejects(
      marketer.segments.lifecycle.set({ ...before.settings, lapsedDays: 60 }),
    );
    expect((bad.cause as unknown as { issues: { path: unknown[] }[] }).issues[0]?.path).toEqual([
      "lapsedDays",
    ]);
    const lapsedId = after.stages.find((s) => s.stage === "lapsed")!.segmentId!;
    expect((await rejects(marketer.segments.delete({ id: lapsedId }))).message).toMatch(/built in/);
    expect((await rejects(viewer.segments.lifecycle.set(before.settings))).code).toBe("FORBIDDEN");
  });
});
