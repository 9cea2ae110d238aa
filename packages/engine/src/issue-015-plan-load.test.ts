// Issue 15, a worker process starting under load: the runs that need a journey version's plan at
// once share one read and one parse of it (plans.ts). Before, each run in flight read and parsed
// the plan itself until the first one had cached it: a new worker process's first four timer
// buckets read and parsed one plan 480 times. Real Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPlan, VersionNotFoundError } from "./plans.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

describe("a journey version's plan is loaded once for the runs that need it at once", () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await startEngineHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("concurrent runs of a version not loaded yet share one parsed plan", async () => {
    const { versionId } = await h.publish("shared plan", [
      { id: "t", type: "trigger.manual", next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "end" },
    ]);
    const plans = await Promise.all(Array.from({ length: 50 }, () => loadPlan(h.ctx, versionId)));
    // One parse: every caller holds the same object (a read per caller parses one each).
    expect(new Set(plans).size).toBe(1);
    expect(Object.keys(plans[0]!.steps)).toContain("w");
    // And later callers get it from the cache.
    expect(await loadPlan(h.ctx, versionId)).toBe(plans[0]);
  });

  it("a version that could not be read is read again on the next call, not kept failed", async () => {
    const { journeyId } = await h.publish("late version", [
      { id: "t", type: "trigger.manual", next: "end" },
    ]);
    const first = await h.db.prisma.journeyVersion.findFirstOrThrow({ where: { journeyId } });
    const id = `later-${first.id}`;
    const missing = await Promise.allSettled([loadPlan(h.ctx, id), loadPlan(h.ctx, id)]);
    for (const r of missing) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionNotFoundError);
    }
    await h.db.prisma.journeyVersion.create({
      data: {
        id,
        journeyId,
        workspaceId: h.workspaceId,
        version: first.version + 1,
        schemaVersion: first.schemaVersion,
        plan: first.plan as object,
        triggerType: first.triggerType,
      },
    });
    const plan = await loadPlan(h.ctx, id);
    expect(Object.keys(plan.steps)).toContain("t");
  });
});
