import type { RunStatus } from "@postpath/db";
import type { JobsOptions, Queue } from "bullmq";
import { Batcher } from "./batch.ts";
import type { EngineContext } from "./context.ts";
import { takeShard, type Counters } from "./counters.ts";
import type { CustomerRow } from "./customer.ts";
import type { ShardedQueue } from "./queues.ts";
import type { RollupRow } from "./rollups.ts"; // issue 17

/**
 * The run hot path's Postgres and Redis traffic, batched across the jobs a worker runs at once:
 * one query reads every run asked for in a turn, one statement commits every transition, one
 * `addBulk` per queue enqueues the follow-ups. See batch.ts. At most two reads and two commits
 * are in flight per process, so the rest of the pool stays free for the ORM's transactions.
 */

export interface RunRow {
  id: string;
  seq: number;
  status: RunStatus;
  /** Null until the run's first job builds it (from `trigger` and `customer`). */
  state: unknown;
  trigger: unknown;
  /** The customer's profile, read only while `state` is null. */
  customer: CustomerRow | null;
  workspaceId: string;
  journeyId: string;
  customerId: string;
  versionId: string;
  journeyStatus: string;
}

export interface TraceRow {
  stepId: string | null;
  kind: string;
  detail: unknown;
}

export interface MessageRow {
  id: string;
  stepId: string;
  channel: string;
  idempotencyKey: string;
  recipient: string | null;
  payload: unknown;
  /** Null: PENDING (the send job delivers it). */
  status: "FAILED" | "SKIPPED" | null;
  error: string | null;
  output: unknown;
}

/** What one transition writes, all or nothing, guarded by the run's seq. */
export interface Transition {
  runId: string;
  seq: number;
  workspaceId: string;
  journeyId: string;
  versionId: string;
  customerId: string;
  status: RunStatus;
  state: unknown;
  stepId: string;
  waitingUntil: number | null;
  parkedEvent: string | null;
  parkedKey: string | null;
  endedAt: number | null;
  now: number;
  traces: TraceRow[];
  messages: MessageRow[];
  counters: Counters;
  /** Folded attribute and tag changes for the customer (null: none). */
  attributes: { set: Record<string, unknown>; unset: string[] } | null;
  tags: { add: string[]; remove: string[] } | null;
  /** issue 17: the analytics rollups' rows of this transition (absent: none). */
  rollups?: RollupRow[];
  /**
   * issue 15: the customer changed in a workspace with segment-triggered journeys: the segment
   * check is kept in "PendingCheck" with the transition until a check has read the customer.
   */
  pendingCheck?: boolean;
}

export interface RunStore {
  load(runId: string): Promise<RunRow | null>;
  /** True when the transition committed; false when the run had moved past `seq`. */
  commit(t: Transition): Promise<boolean>;
  enqueue(
    queue: "runs" | "sends" | "timers",
    name: string,
    data: unknown,
    opts: JobsOptions,
  ): Promise<unknown>;
}

const stores = new WeakMap<EngineContext, RunStore>();

export function runStore(ctx: EngineContext): RunStore {
  let store = stores.get(ctx);
  if (!store) {
    store = createRunStore(ctx);
    stores.set(ctx, store);
  }
  return store;
}

/**
 * The columns of a `RunRow`, selected from `"JourneyRun" r JOIN "Journey" j`. The customer's
 * profile only for a run that has no state yet (a scalar subquery under CASE: one primary-key
 * probe for such a run, nothing for the others).
 */
export const RUN_ROW_COLUMNS = `r.id, r.seq, r.status, r.state, r.trigger, r."workspaceId", r."journeyId", r."customerId", r."versionId", j.status AS "journeyStatus",
  CASE WHEN r.state IS NULL THEN (
    SELECT json_build_object('id', c.id, 'externalId', c."externalId", 'email', c.email, 'phone', c.phone,
      'timezone', c.timezone, 'attributes', c.attributes, 'tags', c.tags)
    FROM "Customer" c WHERE c.id = r."customerId") END AS customer`;

function createRunStore(ctx: EngineContext): RunStore {
  const loader = new Batcher<string, RunRow | null>(
    async (ids) => {
      const rows = await ctx.db.query<RunRow>(
        `SELECT ${RUN_ROW_COLUMNS}
         FROM "JourneyRun" r JOIN "Journey" j ON j.id = r."journeyId"
         WHERE r.id = ANY($1::text[])`,
        [[...new Set(ids)]],
        { prepare: "engine.loadRuns" },
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { max: 500, concurrency: 2 },
  );
  // Up to 600 transitions per commit: a batch takes only what queued while the previous commits
  // ran, so it is small when the worker keeps up and grows when it falls behind, where the
  // statement's per-commit work (its plan, the counter and rollup rows, the WAL flush) then
  // spreads over more runs. At 10,000 due timers/s, 200 at most gave 125-168 µs of Postgres
  // execution per run, 600 at most (~290 per commit) 103-121 (bench/README.md, 2026-12-07 04:15).
  const committer = new Batcher<Transition, boolean>((ts) => commitBatch(ctx, ts), {
    max: 600,
    concurrency: 2,
    keys: (t) => (t.attributes || t.tags ? [t.runId, `customer:${t.customerId}`] : [t.runId]),
  });
  type Add = { name: string; data: unknown; opts: JobsOptions };
  const adders = new Map<Queue, Batcher<Add, unknown>>();
  const adder = (queue: Queue): Batcher<Add, unknown> => {
    let b = adders.get(queue);
    if (!b) {
      b = new Batcher<Add, unknown>((jobs) => queue.addBulk(jobs), {
        max: 500,
        concurrency: 4,
      });
      adders.set(queue, b);
    }
    return b;
  };
  return {
    load: (id) => loader.push(id),
    commit: (t) => committer.push(t),
    // One batch per shard (issue 15: a shard is one Redis hash slot), so each is one round trip.
    enqueue: (queue, name, data, opts) =>
      adder((ctx.queues[queue] as ShardedQueue<unknown>).shardOfData(data) as Queue).push({
        name,
        data,
        opts,
      }),
  };
}

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

/**
 * Rows equal but for their run, folded into one row that lists the runs: the counter and rollup
 * increments of a batch of timers at one step are a few rows, not one per run and step, so the
 * statement unpacks and sums a few records (multiplied by how many of their runs moved).
 */
export function foldRuns<T extends { run: string }>(
  rows: T[],
): (Omit<T, "run"> & { runs: string[] })[] {
  const folded = new Map<string, Omit<T, "run"> & { runs: string[] }>();
  for (const { run, ...rest } of rows) {
    const key = JSON.stringify(rest); // rows of one kind are built with their keys in one order
    const row = folded.get(key);
    if (row) row.runs.push(run);
    else folded.set(key, { ...rest, runs: [run] });
  }
  return [...folded.values()];
}

/**
 * How many of a folded row's runs moved (are in `upd`): all of them when every run of the batch
 * moved (`$3`, the batch's size; its runs are distinct), which the statement finds once; else
 * counted.
 */
const MOVED_RUNS = (
  runs: string,
) => `CASE WHEN (SELECT count(*) FROM upd) = $3::int THEN cardinality(${runs})
  ELSE (SELECT count(*) FROM unnest(${runs}) AS m(id) JOIN upd USING (id)) END`;

/**
 * A customer's attributes and tags after a transition's folded changes (`x`, one row of the
 * batch's customers; null or absent parts change nothing). Written over `cu`, the row being
 * updated, so a concurrent change to the customer is re-read before it is applied. The commit
 * repeats them where it locks the rows: a customer whose profile would not change is neither
 * locked nor rewritten (every rewrite adds an entry to each of Customer's indexes: the
 * attributes' GIN index rules out HOT).
 *
 * CUSTOMER LOCK ORDER (issue 15): a statement that locks several customers' rows locks them in
 * ("workspaceId", "externalId") order — the commit here, and an identify's upsert
 * (identify-commit.ts, which inserts in that order). The commit's UPDATE used to lock them in its
 * join's order (the batch's), so two commits (or a commit and an identify) changing customers A
 * and B in opposite orders deadlocked (test issue-015-customer-lock-order); now a `LockRows` over
 * a sort locks them first, whatever the plan. Among the commit's other rows they come after its
 * runs (`upd` runs first: the statement reads it) and before its segment checks, counters and
 * rollups (the CTEs no one reads run after it, the last written first; see `rollups`), as in a
 * move (move.ts, one customer per transaction).
 */
const NEW_ATTRIBUTES = `CASE WHEN x.set IS NULL OR jsonb_typeof(x.set) <> 'object' THEN cu.attributes
  WHEN x.unset IS NULL THEN cu.attributes || x.set ELSE (cu.attributes || x.set) - x.unset END`;
const NEW_TAGS = `CASE WHEN x.add IS NULL THEN cu.tags
  ELSE ARRAY(SELECT DISTINCT g FROM unnest(cu.tags || x.add) AS g
             WHERE x.remove IS NULL OR NOT (g = ANY(x.remove)) ORDER BY g) END`;

/**
 * Commits a batch of transitions in ONE statement (one implicit transaction): the seq-guarded run
 * updates, and — for the runs that actually moved — their traces, outbox messages, counter and
 * rollup increments (folded per equal increment, counted per run that moved, summed per step, in
 * a stable lock order) and customer changes. A transition whose run moved on meanwhile writes
 * nothing. The batch travels as one JSON document (one native
 * `JSON.stringify`, parsed once by Postgres) rather than dozens of escaped array literals.
 */
async function commitBatch(ctx: EngineContext, batch: Transition[]): Promise<boolean[]> {
  const doc = {
    runs: batch.map((t) => ({
      id: t.runId,
      seq: t.seq,
      status: t.status,
      state: t.state ?? null,
      step: t.stepId,
      waiting: seconds(t.waitingUntil),
      pev: t.parkedEvent,
      pkey: t.parkedKey,
      ended: seconds(t.endedAt),
    })),
    traces: batch
      .flatMap((t) => t.traces.map((r) => ({ t, r })))
      .map(({ t, r }, n) => ({
        n, // their order: ids follow it
        run: t.runId,
        step: r.stepId,
        kind: r.kind,
        detail: r.detail ?? {},
      })),
    messages: batch.flatMap((t) =>
      t.messages.map((m) => ({
        id: m.id,
        ws: t.workspaceId,
        run: t.runId,
        customer: t.customerId,
        step: m.stepId,
        seq: t.seq + 1,
        at: t.now / 1000,
        channel: m.channel,
        key: m.idempotencyKey,
        recipient: m.recipient,
        payload: m.payload ?? {},
        status: m.status,
        error: m.error,
        output: m.output ?? null,
      })),
    ),
    counters: foldRuns(
      batch.flatMap((t) =>
        [...t.counters].map(([step, d]) => ({
          run: t.runId,
          version: t.versionId,
          journey: t.journeyId,
          step,
          ...d,
        })),
      ),
    ),
    // issue 17: per (version, step, variant, day), committed with the transition.
    rollups: foldRuns(
      batch.flatMap((t) =>
        (t.rollups ?? []).map((r) => ({
          run: t.runId,
          version: t.versionId,
          journey: t.journeyId,
          ...r,
        })),
      ),
    ),
    // issue 15: the segment checks kept with their transitions (attribute-checks.ts).
    checks: batch.flatMap((t) =>
      t.pendingCheck
        ? [
            {
              run: t.runId,
              seq: t.seq,
              ws: t.workspaceId,
              customer: t.customerId,
              at: t.now / 1000,
            },
          ]
        : [],
    ),
    // Null rather than empty where nothing is to be done, so the statement skips that work.
    customers: batch.flatMap((t) =>
      t.attributes || t.tags
        ? [
            {
              run: t.runId,
              customer: t.customerId,
              set: t.attributes ? t.attributes.set : null,
              unset: t.attributes?.unset.length ? t.attributes.unset : null,
              add: t.tags ? t.tags.add : null,
              remove: t.tags?.remove.length ? t.tags.remove : null,
            },
          ]
        : [],
    ),
  };
  // Consecutive batches of one process take different counter shards: no lock waits between them.
  const shard = takeShard();
  const rows = await ctx.db.query<{ id: string }>(
    `WITH upd AS (
       UPDATE "JourneyRun" r SET
         seq = i.seq + 1, status = i.status::"RunStatus", state = i.state, "currentStepId" = i.step,
         "waitingUntil" = to_timestamp(i.waiting) AT TIME ZONE 'UTC',
         "parkedEvent" = i.pev, "parkedKey" = i.pkey,
         "endedAt" = to_timestamp(i.ended) AT TIME ZONE 'UTC',
         "updatedAt" = now() AT TIME ZONE 'UTC'
       FROM jsonb_to_recordset($1::jsonb -> 'runs')
         AS i(id text, seq int, status text, state jsonb, step text, waiting float8, pev text, pkey text, ended float8)
       WHERE r.id = i.id AND r.seq = i.seq
       RETURNING r.id
     ), traces AS (
       INSERT INTO "RunTrace" ("runId", "stepId", kind, detail)
       SELECT t.run, t.step, t.kind, t.detail
       FROM jsonb_to_recordset($1::jsonb -> 'traces') AS t(n int, run text, step text, kind text, detail jsonb)
       JOIN upd ON upd.id = t.run
       ORDER BY t.n
     ), messages AS (
       INSERT INTO "Message" (id, "workspaceId", "runId", "customerId", "stepId", "runSeq", "createdAt", channel, "idempotencyKey", recipient, payload, status, error, output)
       SELECT m.id, m.ws, m.run, m.customer, m.step, m.seq, to_timestamp(m.at) AT TIME ZONE 'UTC', m.channel, m.key, m.recipient,
              m.payload, COALESCE(m.status, 'PENDING')::"MessageStatus", m.error, NULLIF(m.output, 'null'::jsonb)
       FROM jsonb_to_recordset($1::jsonb -> 'messages')
         AS m(id text, ws text, run text, customer text, step text, seq int, at float8, channel text, key text, recipient text, payload jsonb, status text, error text, output jsonb)
       JOIN upd ON upd.id = m.run
     ), message_keys AS (
       -- issue 15: the idempotency key, unique across every month of the partitioned "Message":
       -- a key stored before fails this statement (23505), as the unique index on "Message" did.
       INSERT INTO "MessageKey" ("idempotencyKey", "messageId", "createdAt")
       SELECT m.key, m.id, to_timestamp(m.at) AT TIME ZONE 'UTC'
       FROM jsonb_to_recordset($1::jsonb -> 'messages') AS m(id text, run text, at float8, key text)
       JOIN upd ON upd.id = m.run
     ), counters AS (
       INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId", entered, completed, sent, failed, converted)
       SELECT c.version, c.step, $2::int, min(c.journey), sum(c.entered * c.n), sum(c.completed * c.n), sum(c.sent * c.n),
              sum(c.failed * c.n), sum(c.converted * c.n)
       FROM (SELECT c.*, ${MOVED_RUNS("c.runs")} AS n
             FROM jsonb_to_recordset($1::jsonb -> 'counters')
               AS c(runs text[], version text, journey text, step text, entered int, completed int, sent int, failed int, converted int)) c
       WHERE c.n > 0
       GROUP BY c.version, c.step
       ORDER BY c.version, c.step
       ON CONFLICT ("versionId", "stepId", shard) DO UPDATE SET
         entered = "StepCounter".entered + EXCLUDED.entered,
         completed = "StepCounter".completed + EXCLUDED.completed,
         sent = "StepCounter".sent + EXCLUDED.sent,
         failed = "StepCounter".failed + EXCLUDED.failed,
         converted = "StepCounter".converted + EXCLUDED.converted
       RETURNING 1
     ), rollups AS (
       -- Joins the count of counters' rows: every counter row is locked before the first rollup
       -- row (sends.ts LOCK ORDER; unread, this CTE would run before counters).
       INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId", entered)
       SELECT x.version, x.step, x.variant, x.day::date, $2::int, min(x.journey), sum(x.entered * x.n)
       FROM (SELECT x.*, ${MOVED_RUNS("x.runs")} AS n
             FROM jsonb_to_recordset($1::jsonb -> 'rollups')
               AS x(runs text[], version text, journey text, step text, variant text, day text, entered int)) x
         CROSS JOIN (SELECT count(*) FROM counters) AS counted
       WHERE x.n > 0
       GROUP BY x.version, x.step, x.variant, x.day
       ORDER BY x.version, x.step, x.variant, x.day
       ON CONFLICT ("versionId", "stepId", variant, day, shard) DO UPDATE SET
         entered = "JourneyRollup".entered + EXCLUDED.entered
     ), checks AS (
       INSERT INTO "PendingCheck" ("runId", seq, "workspaceId", "customerId", "createdAt")
       SELECT k.run, k.seq, k.ws, k.customer, to_timestamp(k.at) AT TIME ZONE 'UTC'
       FROM jsonb_to_recordset($1::jsonb -> 'checks') AS k(run text, seq int, ws text, customer text, at float8)
       JOIN upd ON upd.id = k.run
       ON CONFLICT DO NOTHING
     ), customer_locks AS MATERIALIZED (
       -- The rows the update below rewrites, locked in CUSTOMER LOCK ORDER (above); READ
       -- COMMITTED re-checks the WHERE on a row's newest version, which stays locked until the
       -- update, so the update need not. A batch changing no customer probes no row.
       SELECT cu.id, x.set, x.unset, x.add, x.remove
       FROM jsonb_to_recordset($1::jsonb -> 'customers')
         AS x(run text, customer text, set jsonb, unset text[], add text[], remove text[])
       JOIN upd ON upd.id = x.run
       JOIN "Customer" cu ON cu.id = x.customer
       WHERE ${NEW_ATTRIBUTES} IS DISTINCT FROM cu.attributes OR ${NEW_TAGS} IS DISTINCT FROM cu.tags
       ORDER BY cu."workspaceId", cu."externalId"
       FOR NO KEY UPDATE OF cu
     ), customers AS (
       UPDATE "Customer" cu SET attributes = ${NEW_ATTRIBUTES}, tags = ${NEW_TAGS},
         "updatedAt" = now() AT TIME ZONE 'UTC'
       FROM customer_locks x
       WHERE cu.id = x.id
     )
     SELECT id FROM upd`,
    [JSON.stringify(doc), shard, batch.length],
    { prepare: "engine.commitRunsJson" },
  );
  const moved = new Set(rows.map((r) => r.id));
  return batch.map((t) => moved.has(t.runId));
}
