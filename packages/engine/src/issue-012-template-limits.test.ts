// Regression (issue 12, finding 1) through the real engine: a published attribute-update step and
// a personal-URL step whose templates are a nested loop (~4 million turns, 31 s per customer on
// the old renderer) end that step with a trace line naming the field and the limit; the runs go
// on by the step's rules, and an ordinary template in the same journey still renders.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolMany } from "./enrol.ts";
import {
  runProgress,
  startEngineHarness,
  waitFor,
  type EngineHarness,
  ofJourney,
} from "./testing/harness.ts";

const NESTED = "{% for i in (1..2000) %}{% for j in (1..2000) %}{{ i }}{% endfor %}{% endfor %}";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h.close();
});

describe("issue 12: template limits in the engine", () => {
  it("hostile attribute and PURL templates fail their steps with a trace line; the runs go on", async () => {
    const { journeyId, versionId } = await h.publish("hostile", [
      { id: "t", type: "trigger.manual", next: "tier" },
      {
        id: "tier",
        type: "action.attribute",
        data: { set: { tier: NESTED, hello: "Hi {{ first_name }}" } },
        next: "ok",
      },
      {
        id: "ok",
        type: "action.attribute",
        data: { set: { greeting: "Hi {{ first_name }}" } },
        next: "link",
      },
      {
        id: "link",
        type: "action.purl",
        data: { page: "register", params: { code: NESTED }, onError: "errorBranch" },
        next: { next: "end", error: "after-error" },
      },
      {
        id: "after-error",
        type: "action.attribute",
        data: { set: { purl_failed: true } },
        next: "end",
      },
    ]);
    const customers = await Promise.all(
      ["ann", "bob", "cy"].map((id) => h.customer(id, { first_name: id.toUpperCase() })),
    );
    await enrolMany(h.ctx, {
      workspaceId: h.workspaceId,
      journeyId,
      versionId,
      customerIds: customers,
      trigger: { eventId: "test", name: "enrolled", properties: {}, timestamp: Date.now() },
    });
    const runs = await waitFor(
      "the runs to end",
      async () => {
        const rs = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
        return rs.length === 3 && rs.every((r) => r.status === "COMPLETED") ? rs : null;
      },
      { progress: () => runProgress(h.db, journeyId) },
    );
    for (const run of runs) {
      const traces = await h.db.prisma.runTrace.findMany({
        where: { runId: run.id },
        orderBy: { id: "asc" },
      });
      const line = (stepId: string, kind: string) =>
        traces.find((t) => t.stepId === stepId && t.kind === kind)?.detail as
          Record<string, unknown> | undefined;
      expect(line("tier", "attributes.failed")).toMatchObject({
        field: "set.tier",
        limit: "time",
        error: "The value of set.tier took too long to render (over 50 ms); check its loops.",
      });
      expect(line("link", "purl.failed")).toMatchObject({
        branch: "error",
        error: "The value of params.code took too long to render (over 50 ms); check its loops.",
      });
      expect(traces.some((t) => t.kind === "error")).toBe(false);
    }
    const stored = await h.db.prisma.customer.findMany({
      where: { id: { in: customers } },
      orderBy: { externalId: "asc" },
    });
    // The failed step changed nothing; the next one rendered; the error branch ran.
    expect(stored.map((c) => c.attributes)).toEqual([
      { first_name: "ANN", greeting: "Hi ANN", purl_failed: true },
      { first_name: "BOB", greeting: "Hi BOB", purl_failed: true },
      { first_name: "CY", greeting: "Hi CY", purl_failed: true },
    ]);
    expect(
      await h.db.prisma.message.count({ where: { ...(await ofJourney(h.db, journeyId)) } }),
    ).toBe(0);
  });
});
