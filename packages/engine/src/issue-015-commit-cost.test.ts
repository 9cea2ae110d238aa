// Issue 15, item 3: the run commit statement's cheaper form. Counter and rollup increments travel
// folded (one row per equal increment, listing its runs) and count only the runs that moved; a
// customer whose attributes and tags would not change is not rewritten. Real Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Counters, CounterDelta } from "./counters.ts";
import { foldRuns, runStore, type Transition } from "./store.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
});
afterAll(async () => {
  await h?.close();
});

const delta = (d: Partial<CounterDelta>): CounterDelta => ({
  entered: 0,
  completed: 0,
  sent: 0,
  failed: 0,
  converted: 0,
  movedIn: 0,
  movedOut: 0,
  ...d,
});

let n = 0;
/** A waiting run of its own version and journey ids (runs have no foreign keys to them). */
async function waitingRun(
  versionId: string,
  customerId: string,
): Promise<{ id: string; journeyId: string }> {
  const entryNumber = ++n;
  const id = `cc${entryNumber}-${Date.now()}`;
  const journeyId = `j-${versionId}`;
  await h.db.prisma.journeyRun.create({
    data: {
      id,
      workspaceId: h.workspaceId,
      journeyId,
      versionId,
      customerId,
      entryNumber,
      status: "WAITING",
      seq: 1,
      currentStepId: "w",
      state: { stepId: "w" },
    },
  });
  return { id, journeyId };
}

function transition(
  run: { id: string; journeyId: string },
  versionId: string,
  customerId: string,
  seq: number,
  counters: Counters,
  extra: Partial<Transition> = {},
): Transition {
  const now = Date.UTC(2026, 11, 4, 12);
  return {
    runId: run.id,
    seq,
    workspaceId: h.workspaceId,
    journeyId: run.journeyId,
    versionId,
    customerId,
    status: "COMPLETED",
    state: { stepId: "x" },
    stepId: "x",
    waitingUntil: null,
    parkedEvent: null,
    parkedKey: null,
    endedAt: now,
    now,
    traces: [{ stepId: "x", kind: "run.completed", detail: {} }],
    messages: [],
    counters,
    rollups: [...counters]
      .filter(([, d]) => d.entered > 0)
      .map(([step, d]) => ({ step, variant: "", day: "2026-12-04", entered: d.entered })),
    attributes: null,
    tags: null,
    ...extra,
  };
}

const countersOf = (versionId: string) =>
  h.db.prisma.stepCounter.groupBy({
    by: ["stepId"],
    where: { versionId },
    _sum: { entered: true, completed: true },
    orderBy: { stepId: "asc" },
  });

describe("issue 15: the run commit's folded increments", () => {
  it("foldRuns folds rows equal but for their run, and keeps different ones apart", () => {
    expect(
      foldRuns([
        { run: "a", step: "w", completed: 1 },
        { run: "b", step: "w", completed: 1 },
        { run: "c", step: "w", completed: 2 },
        { run: "d", step: "x", completed: 1 },
      ]),
    ).toEqual([
      { step: "w", completed: 1, runs: ["a", "b"] },
      { step: "w", completed: 2, runs: ["c"] },
      { step: "x", completed: 1, runs: ["d"] },
    ]);
  });

  it("a batch counts each moved run's increments once and nothing for a run that had moved on", async () => {
    const versionId = `v-fold-${Date.now()}`;
    const customer = await h.customer(`fold-${Date.now()}`);
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => waitingRun(versionId, customer)),
    );
    const same = (): Counters =>
      new Map([
        ["w", delta({ completed: 1 })],
        ["a", delta({ entered: 1, completed: 1 })],
        ["x", delta({ entered: 1, completed: 1 })],
      ]);
    const other: Counters = new Map([
      ["w", delta({ completed: 1 })],
      ["b", delta({ entered: 1 })],
    ]);
    // Pushed in one turn: one batch, one statement. Run 2's job read seq 0 (stale): it moves
    // nothing, so neither its traces nor its increments may count.
    const answers = await Promise.all([
      runStore(h.ctx).commit(transition(runs[0]!, versionId, customer, 1, same())),
      runStore(h.ctx).commit(transition(runs[1]!, versionId, customer, 1, same())),
      runStore(h.ctx).commit(transition(runs[2]!, versionId, customer, 0, same())),
      runStore(h.ctx).commit(transition(runs[3]!, versionId, customer, 1, same())),
      runStore(h.ctx).commit(transition(runs[4]!, versionId, customer, 1, other)),
    ]);
    expect(answers).toEqual([true, true, false, true, true]);
    expect(
      (await countersOf(versionId)).map((r) => [r.stepId, r._sum.entered, r._sum.completed]),
    ).toEqual([
      ["a", 3, 3],
      ["b", 1, 0],
      ["w", 0, 4],
      ["x", 3, 3],
    ]);
    const rollups = await h.db.prisma.journeyRollup.groupBy({
      by: ["stepId"],
      where: { versionId },
      _sum: { entered: true },
      orderBy: { stepId: "asc" },
    });
    expect(rollups.map((r) => [r.stepId, r._sum.entered])).toEqual([
      ["a", 3],
      ["b", 1],
      ["x", 3],
    ]);
    const traced = await h.db.prisma.runTrace.findMany({
      where: { runId: { in: runs.map((r) => r.id) } },
      select: { runId: true },
    });
    expect(traced.map((t) => t.runId).sort()).toEqual(
      [runs[0]!.id, runs[1]!.id, runs[3]!.id, runs[4]!.id].sort(),
    );
  });

  it("a batch where no run moved writes no counters or rollups", async () => {
    const versionId = `v-none-${Date.now()}`;
    const customer = await h.customer(`none-${Date.now()}`);
    const run = await waitingRun(versionId, customer);
    const counters: Counters = new Map([["w", delta({ completed: 1 })]]);
    expect(await runStore(h.ctx).commit(transition(run, versionId, customer, 7, counters))).toBe(
      false,
    );
    expect(await h.db.prisma.stepCounter.count({ where: { versionId } })).toBe(0);
    expect(await h.db.prisma.journeyRollup.count({ where: { versionId } })).toBe(0);
  });
});

describe("issue 15: the run commit leaves an unchanged customer alone", () => {
  const row = async (id: string) =>
    (
      await h.db.query<{ xmin: string; attributes: unknown; tags: string[] }>(
        `SELECT xmin::text AS xmin, attributes, tags FROM "Customer" WHERE id = $1`,
        [id],
      )
    )[0]!;
  const commit = async (
    customer: string,
    change: Pick<Transition, "attributes" | "tags">,
  ): Promise<void> => {
    const versionId = `v-cust-${Date.now()}-${++n}`;
    const run = await waitingRun(versionId, customer);
    expect(
      await runStore(h.ctx).commit(transition(run, versionId, customer, 1, new Map(), change)),
    ).toBe(true);
  };

  it("rewrites the row only when its attributes or tags change, as before", async () => {
    const id = await h.customer(`same-${Date.now()}`, { tier: "gold", n: 1 });
    await h.db.query(`UPDATE "Customer" SET tags = '{a,b}' WHERE id = $1`, [id]);
    const start = await row(id);

    // Setting a value it has, unsetting an attribute it lacks, adding a tag it has and removing
    // one it lacks: no new row version.
    await commit(id, {
      attributes: { set: { tier: "gold" }, unset: ["missing"] },
      tags: { add: ["a"], remove: ["zzz"] },
    });
    expect(await row(id)).toEqual(start);

    // Real changes are all applied: set, unset, tag added (sorted, no duplicate), tag removed.
    await commit(id, {
      attributes: { set: { tier: "silver", seen: true }, unset: ["n"] },
      tags: { add: ["c", "a"], remove: ["b"] },
    });
    const changed = await row(id);
    expect(changed.xmin).not.toBe(start.xmin);
    expect(changed.attributes).toEqual({ tier: "silver", seen: true });
    expect(changed.tags).toEqual(["a", "c"]);

    // Only tags change: attributes kept.
    await commit(id, { attributes: null, tags: { add: [], remove: ["a"] } });
    expect(await row(id)).toMatchObject({
      attributes: { tier: "silver", seen: true },
      tags: ["c"],
    });
  });
});

describe("issue 15: a customer's attribute change goes straight into the search index", () => {
  it("leaves no pending list for a later commit to merge, and search finds the new value at once", async () => {
    const id = await h.customer(`gin-${Date.now()}`, { tier: "gold" });
    const versionId = `v-gin-${Date.now()}`;
    const run = await waitingRun(versionId, id);
    const mark = `m${Date.now()}`;
    expect(
      await runStore(h.ctx).commit(
        transition(run, versionId, id, 1, new Map(), {
          attributes: { set: { reminded: mark }, unset: [] },
        }),
      ),
    ).toBe(true);
    // With Postgres's default (fastupdate on) the change waits in the index's pending list, which
    // the insert that finds it past 4 MB merges inside its own commit (migration
    // 20261207000000_customer_search_gin_no_pending_list): pages removed from the list here.
    const [pending] = await h.db.query<{ pages: number }>(
      `SELECT gin_clean_pending_list('"Customer_attributes_idx"'::regclass)::int AS pages`,
    );
    expect(pending!.pages).toBe(0);
    const found = await h.db.query<{ id: string }>(
      `SELECT id FROM "Customer" WHERE "workspaceId" = $1 AND attributes @> $2::jsonb`,
      [h.workspaceId, JSON.stringify({ reminded: mark })],
    );
    expect(found.map((r) => r.id)).toEqual([id]);
  });
});
