// issue 15, item 6: run traces are partitioned by month of `at`, and retention drops whole months
// (partitions.ts, called by the sweeper) instead of deleting rows. The old months go, the live
// data stays, no run loses a trace within the retention — including a run whose earlier traces
// sit in an older month that is still kept — and nothing fails when two sweepers race or a trace
// carries a time no month holds. Real Postgres (a fresh, migrated database) and Redis.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweep } from "./maintenance.ts";
import {
  dropExpiredTracePartitions,
  ensureTracePartitions,
  listTracePartitions,
  TRACE_DEFAULT_PARTITION,
} from "./partitions.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

const DAY = 24 * 3600_000;
const LEGACY = "RunTrace_legacy";

let h: EngineHarness;
let clock = Date.now();
beforeAll(async () => {
  h = await startEngineHarness({ now: () => clock, workers: false });
});
afterAll(async () => {
  await h?.close();
});

/** Writes trace lines as the engine does (raw SQL, `at` given as UTC). */
async function trace(runId: string, ...ats: string[]): Promise<void> {
  for (const at of ats)
    await h.db.query(
      `INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
       VALUES ($1, 'a', 'entered', '{}', $2::timestamp)`,
      [runId, new Date(at).toISOString().slice(0, -1)],
    );
}

/** A run's trace lines: when, and the partition holding each. */
async function traces(runId: string): Promise<{ at: string; part: string }[]> {
  return h.db.query<{ at: string; part: string }>(
    `SELECT to_char(t.at, 'YYYY-MM-DD') AS at, c.relname AS part
       FROM "RunTrace" t JOIN pg_class c ON c.oid = t.tableoid
      WHERE t."runId" = $1 ORDER BY t.id`,
    [runId],
  );
}

/** Trace lines written at or after `ms`. */
async function within(ms: number): Promise<number> {
  const [row] = await h.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "RunTrace" WHERE at >= $1::timestamp`,
    [new Date(ms).toISOString().slice(0, -1)],
  );
  return row?.n ?? -1;
}

const names = async () => (await listTracePartitions(h.ctx)).map((p) => p.name);

/** Sweeps at `iso` keeping traces `days` days (the grace is long: no follow-ups to re-create). */
async function sweepAt(iso: string, days: number) {
  clock = Date.parse(iso);
  return sweep(h.ctx, 365 * DAY, 0, days);
}

describe("run traces are partitioned by month and kept by whole months", () => {
  it("RunTrace is a partitioned table: by range of `at`, keyed on (id, at), with a default partition", async () => {
    const [p] = await h.db.query<{ strategy: string; column: string }>(
      `SELECT p.partstrat AS strategy, a.attname AS column
         FROM pg_partitioned_table p
         JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = '"RunTrace"'::regclass`,
    );
    expect(p).toEqual({ strategy: "r", column: "at" });
    const key = await h.db.query<{ column: string }>(
      `SELECT a.attname AS column FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = '"RunTrace"'::regclass AND i.indisprimary ORDER BY a.attnum`,
    );
    expect(key.map((k) => k.column)).toEqual(["id", "at"]);
    const parts = await listTracePartitions(h.ctx);
    expect(parts.find((x) => x.isDefault)?.name).toBe(TRACE_DEFAULT_PARTITION);
    // The table as it was before the migration: everything up to the month after the migration.
    const legacy = parts.find((x) => x.name === LEGACY);
    expect(legacy?.from).toBeNull();
    expect(legacy?.to?.getTime()).toBeGreaterThan(Date.now());
    // The issue-14 partial index and the run index are declared on the parent, so every month has
    // them; the run index is a hash index (migration 20261207042452_run_trace_hash_index).
    const indexes = await h.db.query<{ name: string; method: string }>(
      `SELECT c.relname AS name, a.amname AS method
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
       WHERE i.indrelid = '"RunTrace"'::regclass ORDER BY 1`,
    );
    expect(indexes).toEqual([
      { name: "RunTrace_converted_idx", method: "btree" },
      { name: "RunTrace_pkey", method: "btree" },
      { name: "RunTrace_runId_idx", method: "hash" },
    ]);
    const [months] = await h.db.query<{ partitions: number; indexed: number }>(
      `SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = '"RunTrace"'::regclass)::int AS partitions,
              (SELECT count(*) FROM pg_inherits WHERE inhparent = '"RunTrace_runId_idx"'::regclass)::int AS indexed`,
    );
    expect(months!.indexed).toBe(parts.length);
    expect(months!.partitions).toBe(parts.length);
  });

  it("a trace of today stays in the legacy month under a retention shorter than that month", async () => {
    const now = new Date().toISOString();
    await trace("run-today", now);
    expect((await traces("run-today"))[0]?.part).toBe(LEGACY);
    clock = Date.now();
    expect(await dropExpiredTracePartitions(h.ctx, Date.now(), 30)).toEqual([]);
    expect((await traces("run-today")).length).toBe(1);
  });

  it("drops the months wholly past the retention and nothing else", async () => {
    // Written while no month of 2031 has a partition: the default partition takes them.
    await trace("run-old", "2031-01-05T10:00:00Z", "2031-02-03T10:00:00Z");
    expect((await traces("run-old")).map((t) => t.part)).toEqual([
      TRACE_DEFAULT_PARTITION,
      TRACE_DEFAULT_PARTITION,
    ]);
    // The months are created; what the default partition held in them moves into them.
    clock = Date.parse("2031-01-10T00:00:00Z");
    expect(await ensureTracePartitions(h.ctx, clock)).toEqual([
      "RunTrace_y2031m01",
      "RunTrace_y2031m02",
      "RunTrace_y2031m03",
    ]);
    expect(await traces("run-old")).toEqual([
      { at: "2031-01-05", part: "RunTrace_y2031m01" },
      { at: "2031-02-03", part: "RunTrace_y2031m02" },
    ]);
    // A run that started in March (a month kept below) and went on in May; one only in May.
    await trace("run-spanning", "2031-03-05T10:00:00Z");
    await sweepAt("2031-05-01T00:00:00Z", 0); // creates May to July
    await trace("run-spanning", "2031-05-10T10:00:00Z");
    await trace("run-recent", "2031-05-12T10:00:00Z");
    const spanning = await traces("run-spanning");
    expect(spanning).toEqual([
      { at: "2031-03-05", part: "RunTrace_y2031m03" },
      { at: "2031-05-10", part: "RunTrace_y2031m05" },
    ]);

    // 0 days: kept forever, whatever their age.
    expect((await sweepAt("2031-05-20T00:00:00Z", 0)).tracePartitionsDropped).toBe(0);
    expect((await traces("run-old")).length).toBe(2);

    // 60 days on 20 May: everything before 21 March goes. March itself ends after that: kept.
    const cutoff = Date.parse("2031-05-20T00:00:00Z") - 60 * DAY;
    const before = await listTracePartitions(h.ctx);
    const past = before.filter((p) => !p.isDefault && p.to !== null && p.to.getTime() <= cutoff);
    expect(past.map((p) => p.name)).toEqual(
      expect.arrayContaining([LEGACY, "RunTrace_y2031m01", "RunTrace_y2031m02"]),
    );
    const kept = await within(cutoff);
    expect(kept).toBeGreaterThan(0);
    const result = await sweepAt("2031-05-20T00:00:00Z", 60);
    expect(result.tracePartitionsDropped).toBe(past.length);
    const after = await names();
    for (const p of past) expect(after).not.toContain(p.name);
    expect(after).toEqual(
      expect.arrayContaining([
        TRACE_DEFAULT_PARTITION,
        "RunTrace_y2031m03",
        "RunTrace_y2031m05", // the current month
        "RunTrace_y2031m06",
        "RunTrace_y2031m07",
      ]),
    );
    expect(after.length).toBe(before.length - past.length);
    // The old run's traces went with their months; the others are untouched, the spanning run's
    // March line included.
    expect(await traces("run-old")).toEqual([]);
    expect(await traces("run-spanning")).toEqual(spanning);
    expect(await traces("run-recent")).toEqual([{ at: "2031-05-12", part: "RunTrace_y2031m05" }]);
    // No trace within the retention is missing.
    expect(await within(cutoff)).toBe(kept);

    // Again: nothing more to drop, nothing changes.
    expect((await sweepAt("2031-05-20T00:00:00Z", 60)).tracePartitionsDropped).toBe(0);
    expect(await names()).toEqual(after);
    expect(await traces("run-spanning")).toEqual(spanning);
  });

  it("two sweepers at once: each month is created once and dropped once, and neither fails", async () => {
    // 15 July with 60 days: March ends before 16 May and goes; August and September are new.
    clock = Date.parse("2031-07-15T00:00:00Z");
    const [a, b] = await Promise.all([
      sweep(h.ctx, 365 * DAY, 0, 60),
      sweep(h.ctx, 365 * DAY, 0, 60),
    ]);
    expect(a.tracePartitionsDropped + b.tracePartitionsDropped).toBe(1);
    const after = await names();
    expect(after).not.toContain("RunTrace_y2031m03");
    expect(after).toEqual(
      expect.arrayContaining(["RunTrace_y2031m07", "RunTrace_y2031m08", "RunTrace_y2031m09"]),
    );
    expect((await traces("run-spanning")).map((t) => t.at)).toEqual(["2031-05-10"]);

    // Creating the same months from two processes at once: each created by exactly one.
    const created = await Promise.all([
      ensureTracePartitions(h.ctx, Date.parse("2032-06-01T00:00:00Z")),
      ensureTracePartitions(h.ctx, Date.parse("2032-06-01T00:00:00Z")),
    ]);
    expect(created.flat().sort()).toEqual([
      "RunTrace_y2032m06",
      "RunTrace_y2032m07",
      "RunTrace_y2032m08",
    ]);
  });

  it("a trace at a time no month holds goes to the default partition, which is never dropped", async () => {
    // The legacy partition is gone (dropped above): 1990 is now in no month, nor is 2040.
    await trace("run-outlier", "1990-01-01T00:00:00Z", "2040-01-15T00:00:00Z");
    expect((await traces("run-outlier")).map((t) => t.part)).toEqual([
      TRACE_DEFAULT_PARTITION,
      TRACE_DEFAULT_PARTITION,
    ]);
    // When 2040 comes, January's traces move from the default partition into their month.
    expect(await ensureTracePartitions(h.ctx, Date.parse("2040-01-20T00:00:00Z"))).toContain(
      "RunTrace_y2040m01",
    );
    expect(await traces("run-outlier")).toEqual([
      { at: "1990-01-01", part: TRACE_DEFAULT_PARTITION },
      { at: "2040-01-15", part: "RunTrace_y2040m01" },
    ]);
    // A retention that makes every month expire leaves the default partition (and its 1990 line).
    const dropped = await dropExpiredTracePartitions(h.ctx, Date.parse("2100-01-01T00:00:00Z"), 1);
    expect(dropped).not.toContain(TRACE_DEFAULT_PARTITION);
    expect(await names()).toEqual([TRACE_DEFAULT_PARTITION]);
    expect(await traces("run-outlier")).toEqual([
      { at: "1990-01-01", part: TRACE_DEFAULT_PARTITION },
    ]);
    // And writing still works with no month at all.
    await trace("run-outlier", "2100-02-01T00:00:00Z");
    expect((await traces("run-outlier")).length).toBe(2);
  });
});
