// issue 15, item 6: the hot version index of JourneyRun covers live runs only. Migration
// 20261205160321_live_run_indexes replaced the whole ("versionId", status, "currentStepId") index
// with JourneyRun_live_version_idx on the same columns WHERE status IN ('ACTIVE', 'WAITING'); the
// customer index and the entry rules' unique indexes stay whole. Checked on a real, migrated
// Postgres: the definitions; that a run which ends adds nothing to the partial index (its size does
// not move while finished runs are written, where the whole customer index grows); that the reads of
// live runs (canvas counts, analytics, stopping a journey) are right for runs in every status and
// plan on the partial index; and that the reads of finished runs (by journey and version, by
// customer) still have an index path.
import type { StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { journeyStepFigures } from "./analytics.ts";
import { nodeCounts, stopJourney } from "./operate.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

const LIVE_INDEX = "JourneyRun_live_version_idx";
const CUSTOMER_INDEX = "JourneyRun_customerId_status_idx";
const STATUSES = ["ACTIVE", "WAITING", "COMPLETED", "EXITED", "FAILED"] as const;
type Status = (typeof STATUSES)[number];
const isLive = (s: Status) => s === "ACTIVE" || s === "WAITING";

let h: EngineHarness;
let journeyId: string;
let v1: string;
let v2: string;
let other: { journeyId: string; versionId: string };

interface Run {
  id: string;
  journeyId: string;
  versionId: string;
  customerId: string;
  status: Status;
  step: string | null;
}
/** Every run written by this file, as written (the expectations are computed from it). */
const runs: Run[] = [];

/** Writes runs straight into the table, as enrolment and transitions leave them. */
async function insertRuns(rows: Run[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const page = rows.slice(i, i + 1000);
    await h.db.query(
      `INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber",
                                 status, "currentStepId", "endedAt", "updatedAt")
       SELECT r.id, $1, r.j, r.v, r.c, r.n, r.s::"RunStatus", r.step,
              CASE WHEN r.s IN ('ACTIVE', 'WAITING') THEN NULL ELSE now() END, now()
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[])
         AS r(id, j, v, c, n, s, step)`,
      [
        h.workspaceId,
        page.map((r) => r.id),
        page.map((r) => r.journeyId),
        page.map((r) => r.versionId),
        page.map((r) => r.customerId),
        page.map((_, k) => runs.length + k + 1),
        page.map((r) => r.status),
        page.map((r) => r.step),
      ],
    );
    runs.push(...page);
  }
}

const indexSize = async (name: string): Promise<number> => {
  const [row] = await h.db.query<{ n: number }>(`SELECT pg_relation_size($1::regclass)::int AS n`, [
    `"${name}"`,
  ]);
  return row?.n ?? -1;
};

/** What every read of live runs must answer: live runs per version and step (a step set). */
function liveCounts(versionId?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of runs)
    if (
      r.journeyId === journeyId &&
      (versionId === undefined || r.versionId === versionId) &&
      isLive(r.status) &&
      r.step !== null
    )
      out.set(r.step, (out.get(r.step) ?? 0) + 1);
  return out;
}

async function waitingOnCanvas(versionId?: string): Promise<Map<string, number>> {
  const counts = await nodeCounts(h.ctx, h.workspaceId, journeyId, versionId);
  return new Map(
    Object.entries(counts)
      .filter(([, c]) => c.waiting > 0)
      .map(([step, c]) => [step, c.waiting]),
  );
}

/** The plan's index names and sequentially scanned tables, with sequential scans priced out. */
async function planOf(
  sql: string,
  params: string[],
): Promise<{ indexes: string[]; seqScans: string[] }> {
  return h.db.withSession(async (s) => {
    // As the product's prepared statements run (nodeCounts keeps one generic plan): a plan that
    // holds for any parameter values, so it can rely on the literal statuses only.
    await s.exec(`SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off`);
    try {
      await s.exec(`PREPARE checked AS ${sql}`);
      const quoted = params.map((p) => `'${p.replace(/'/g, "''")}'`).join(", ");
      const [row] = await s.query<{ "QUERY PLAN": unknown }>(
        `EXPLAIN (FORMAT JSON) EXECUTE checked${params.length ? `(${quoted})` : ""}`,
      );
      const indexes: string[] = [];
      const seqScans: string[] = [];
      const walk = (node: Record<string, unknown>) => {
        if (typeof node["Index Name"] === "string") indexes.push(node["Index Name"]);
        if (node["Node Type"] === "Seq Scan") seqScans.push(String(node["Relation Name"]));
        for (const child of (node["Plans"] as Record<string, unknown>[] | undefined) ?? [])
          walk(child);
      };
      walk((row!["QUERY PLAN"] as { Plan: Record<string, unknown> }[])[0]!.Plan);
      return { indexes, seqScans };
    } finally {
      await s.exec(`DEALLOCATE ALL; RESET plan_cache_mode; RESET enable_seqscan`);
    }
  });
}

beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
  const steps = (trigger: string): StepSpec[] => [
    { id: trigger, type: "trigger.event", data: { event: "purchase" }, next: "w" },
    { id: "w", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "x" },
    { id: "x", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
  ];
  ({ journeyId, versionId: v1 } = await h.publish("indexed", steps("t")));
  ({ versionId: v2 } = await h.publish("indexed", steps("t2"), {}, journeyId));
  other = await h.publish("another journey", steps("t"));

  // Runs in every status at every step of both versions (1 + i of each, so no two counts agree),
  // live runs without a step (not counted on the canvas), another journey's live runs, and one
  // customer with a run in every status.
  const rows: Run[] = [];
  let i = 0;
  for (const [versionId, trigger] of [
    [v1, "t"],
    [v2, "t2"],
  ] as const)
    for (const step of [trigger, "w", "x", "end"])
      for (const status of STATUSES) {
        i++;
        for (let k = 0; k < i; k++)
          rows.push({
            id: `r-${versionId}-${step}-${status}-${k}`,
            journeyId,
            versionId,
            customerId: `c-${i}-${k}`,
            status,
            step,
          });
      }
  for (const status of STATUSES) {
    rows.push({
      id: `r-nostep-${status}`,
      journeyId,
      versionId: v1,
      customerId: `c-nostep-${status}`,
      status,
      step: null,
    });
    rows.push({
      id: `r-other-${status}`,
      ...other,
      customerId: `c-other-${status}`,
      status,
      step: "w",
    });
    rows.push({
      id: `r-all-${status}`,
      journeyId,
      versionId: v2,
      customerId: "c-every-status",
      status,
      step: "w",
    });
  }
  await insertRuns(rows);
  await h.db.exec(`ANALYZE "JourneyRun"`);
});

afterAll(async () => {
  await h?.close();
});

describe("JourneyRun's version index covers live runs only", () => {
  it("is partial over ACTIVE and WAITING; the customer and entry-rule indexes stay whole", async () => {
    const rows = await h.db.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'JourneyRun' ORDER BY 1`,
    );
    const where = Object.fromEntries(
      rows.map((r) => [r.name, /\sWHERE\s(.*)$/.exec(r.def)?.[1] ?? null]),
    );
    expect(where).toEqual({
      JourneyRun_active_idx: `(status = 'ACTIVE'::"RunStatus")`,
      JourneyRun_customerId_status_idx: null,
      JourneyRun_journeyId_customerId_entryKey_entryNumber_key: null,
      JourneyRun_journeyId_customerId_triggerEventId_key: null,
      [LIVE_INDEX]: `(status = ANY (ARRAY['ACTIVE'::"RunStatus", 'WAITING'::"RunStatus"]))`,
      JourneyRun_pkey: null,
      JourneyRun_waiting_idx: `(status = 'WAITING'::"RunStatus")`,
    });
    const live = rows.find((r) => r.name === LIVE_INDEX)!.def;
    expect(live).toContain(`USING btree ("versionId", status, "currentStepId")`);
    // The migration ran as every other one: recorded, finished.
    const [m] = await h.db.query<{ done: boolean }>(
      `SELECT finished_at IS NOT NULL AS done FROM "_prisma_migrations" WHERE migration_name LIKE '%_live_run_indexes'`,
    );
    expect(m?.done).toBe(true);
  });

  it("counts live runs right on the canvas and in analytics, whatever the other runs' status", async () => {
    expect(await waitingOnCanvas()).toEqual(liveCounts());
    expect(await waitingOnCanvas(v1)).toEqual(liveCounts(v1));
    expect(await waitingOnCanvas(v2)).toEqual(liveCounts(v2));
    // Spelled out once: (v1, w) holds 6 ACTIVE and 7 WAITING runs; its 8 COMPLETED, 9 EXITED and
    // 10 FAILED runs never count.
    expect(liveCounts(v1).get("w")).toBe(13);

    const figures = await journeyStepFigures(h.db, h.workspaceId, journeyId);
    for (const v of figures!.versions) {
      const want = liveCounts(v.versionId);
      for (const s of v.steps)
        expect(s.waitingNow, `${v.version}/${s.stepId}`).toBe(want.get(s.stepId) ?? 0);
    }
  });

  it("reads of live runs plan on the partial index", async () => {
    // nodeCounts' and analytics' "waiting now" (operate.ts, analytics.ts), as a generic plan.
    const waiting = await planOf(
      `SELECT "versionId", "currentStepId", count(*) FROM "JourneyRun"
       WHERE "versionId" = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING') AND "currentStepId" IS NOT NULL
       GROUP BY 1, 2`,
      [`{${v1},${v2}}`],
    );
    expect(waiting).toEqual({ indexes: [LIVE_INDEX], seqScans: [] });
    // Stopping a journey (exit.ts) and moving runs (move.ts): the live runs of its versions.
    const stopping = await planOf(
      `SELECT id FROM "JourneyRun" WHERE "versionId" IN (SELECT id FROM "JourneyVersion" WHERE "journeyId" = $1)
         AND status IN ('ACTIVE', 'WAITING') LIMIT 5000`,
      [journeyId],
    );
    expect(stopping.indexes).toContain(LIVE_INDEX);
    expect(stopping.seqScans).not.toContain("JourneyRun");
  });

  it("reads of finished runs keep an index path", async () => {
    // A version's runs in every status, with their journey (funnel.ts, experiments.ts): the
    // (journeyId, customerId, …) unique index.
    const byVersion = await planOf(
      `SELECT count(*)::int AS n FROM "JourneyRun" WHERE "journeyId" = $1 AND "versionId" = ANY($2::text[])`,
      [journeyId, `{${v1}}`],
    );
    expect(byVersion.seqScans).toEqual([]);
    expect(byVersion.indexes).not.toContain(LIVE_INDEX);
    expect(byVersion.indexes.length).toBeGreaterThan(0);
    const [n] = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "JourneyRun" WHERE "journeyId" = $1 AND "versionId" = ANY($2::text[])`,
      [journeyId, [v1]],
    );
    expect(n?.n).toBe(runs.filter((r) => r.versionId === v1).length);

    // A customer's runs, newest first (the customer's page, erasure, attribution): the customer index.
    const customerSql = `SELECT id, status::text AS status FROM "JourneyRun"
       WHERE "customerId" = $1 AND "workspaceId" = $2 ORDER BY "startedAt" DESC, id DESC LIMIT 50`;
    const byCustomer = await planOf(customerSql, ["c-every-status", h.workspaceId]);
    expect(byCustomer).toEqual({ indexes: [CUSTOMER_INDEX], seqScans: [] });
    const history = await h.db.query<{ status: string }>(customerSql, [
      "c-every-status",
      h.workspaceId,
    ]);
    expect(history.map((r) => r.status).sort()).toEqual([...STATUSES].sort());
  });

  it("a run that ends adds no entry to it: its size stays put while finished runs are written", async () => {
    // Distinct steps, so no two entries share a key (b-tree deduplication would pack equal keys).
    const batch = (tag: string, status: Status): Run[] =>
      Array.from({ length: 1500 }, (_, k) => ({
        id: `r-${tag}-${k}`,
        journeyId,
        versionId: v1,
        customerId: `c-${tag}-${k}`,
        status,
        step: `s-${tag}-${k}`,
      }));
    const live0 = await indexSize(LIVE_INDEX);
    const customer0 = await indexSize(CUSTOMER_INDEX);
    // 1,500 runs written finished: the whole customer index grows, the partial one does not.
    await insertRuns(batch("done", "COMPLETED"));
    expect(await indexSize(CUSTOMER_INDEX)).toBeGreaterThan(customer0);
    expect(await indexSize(LIVE_INDEX)).toBe(live0);

    // 1,500 live runs: in the partial index.
    await insertRuns(batch("live", "WAITING"));
    const live1 = await indexSize(LIVE_INDEX);
    expect(live1).toBeGreaterThan(live0);
    expect((await waitingOnCanvas(v1)).get("s-live-7")).toBe(1);

    // They end (a transition as the run store writes it: status, step and end change). The update
    // writes a new row version; the whole index would take an entry for each, the partial one none.
    const customer1 = await indexSize(CUSTOMER_INDEX);
    const ended = await h.db.query<{ id: string }>(
      `UPDATE "JourneyRun" SET status = 'COMPLETED', seq = seq + 1, "currentStepId" = 'end',
              "endedAt" = now(), "updatedAt" = now()
       WHERE id LIKE 'r-live-%' RETURNING id`,
    );
    expect(ended.length).toBe(1500);
    for (const r of runs)
      if (r.id.startsWith("r-live-")) Object.assign(r, { status: "COMPLETED", step: "end" });
    expect(await indexSize(CUSTOMER_INDEX)).toBeGreaterThan(customer1);
    expect(await indexSize(LIVE_INDEX)).toBe(live1);
    expect(await waitingOnCanvas(v1)).toEqual(liveCounts(v1));
    expect((await waitingOnCanvas(v1)).has("s-live-7")).toBe(false);
  });

  it("stopping the journey exits exactly its live runs and leaves the finished ones as they were", async () => {
    const before = await h.db.query<{ id: string; status: string }>(
      `SELECT id, status::text AS status FROM "JourneyRun" ORDER BY id`,
    );
    const live = runs.filter((r) => r.journeyId === journeyId && isLive(r.status));
    const { exited } = await stopJourney(h.ctx, h.workspaceId, journeyId);
    expect(exited).toBe(live.length);
    const after = await h.db.query<{ id: string; status: string }>(
      `SELECT id, status::text AS status FROM "JourneyRun" ORDER BY id`,
    );
    const stopped = new Set(live.map((r) => r.id));
    expect(after).toEqual(
      before.map((r) => (stopped.has(r.id) ? { id: r.id, status: "EXITED" } : r)),
    );
    expect(await waitingOnCanvas()).toEqual(new Map());
  });
});
