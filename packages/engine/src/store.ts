import type { RunStatus } from "@postpath/db";
import type { JobsOptions, Queue } from "bullmq";
import { Batcher } from "./batch.ts";
import type { EngineContext } from "./context.ts";
import type { CounterDelta, Counters } from "./counters.ts";

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
  state: unknown;
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
}

const SHARDS = 8;
/** Consecutive batches of one process take different counter shards: no lock waits between them. */
let nextShard = Math.floor(Math.random() * SHARDS);

export interface RunStore {
  load(runId: string): Promise<RunRow | null>;
  /** True when the transition committed; false when the run had moved past `seq`. */
  commit(t: Transition): Promise<boolean>;
  enqueue(
    queue: "runs" | "sends",
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

function createRunStore(ctx: EngineContext): RunStore {
  const loader = new Batcher<string, RunRow | null>(
    async (ids) => {
      const rows = await ctx.db.query<RunRow>(
        `SELECT r.id, r.seq, r.status, r.state, r."workspaceId", r."journeyId", r."customerId", r."versionId", j.status AS "journeyStatus"
         FROM "JourneyRun" r JOIN "Journey" j ON j.id = r."journeyId" WHERE r.id = ANY($1::text[])`,
        [[...new Set(ids)]],
        { prepare: "engine.loadRuns" },
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { max: 500, concurrency: 2 },
  );
  const committer = new Batcher<Transition, boolean>((ts) => commitBatch(ctx, ts), {
    max: 200,
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
    enqueue: (queue, name, data, opts) => adder(ctx.queues[queue]).push({ name, data, opts }),
  };
}

const json = (v: unknown): string => JSON.stringify(v ?? null);
const ts = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

/**
 * Commits a batch of transitions in ONE statement (one implicit transaction): the seq-guarded run
 * updates, and — joined to the runs that actually moved — their traces, outbox messages, counter
 * increments (summed per step, in a stable lock order) and customer changes. A transition whose
 * run moved on meanwhile writes nothing.
 */
async function commitBatch(ctx: EngineContext, batch: Transition[]): Promise<boolean[]> {
  const runs = {
    id: [] as string[],
    seq: [] as number[],
    status: [] as string[],
    state: [] as string[],
    step: [] as string[],
    waiting: [] as (number | null)[],
    pev: [] as (string | null)[],
    pkey: [] as (string | null)[],
    ended: [] as (number | null)[],
  };
  const tr = {
    run: [] as string[],
    step: [] as (string | null)[],
    kind: [] as string[],
    detail: [] as string[],
  };
  const msg = {
    id: [] as string[],
    ws: [] as string[],
    run: [] as string[],
    customer: [] as string[],
    step: [] as string[],
    seq: [] as number[],
    at: [] as number[],
    channel: [] as string[],
    key: [] as string[],
    recipient: [] as (string | null)[],
    payload: [] as string[],
    status: [] as (string | null)[],
    error: [] as (string | null)[],
    output: [] as (string | null)[],
  };
  const cnt = {
    run: [] as string[],
    version: [] as string[],
    journey: [] as string[],
    step: [] as string[],
    ...(Object.fromEntries(
      (["entered", "completed", "sent", "failed", "converted"] as const).map((f) => [
        f,
        [] as number[],
      ]),
    ) as Record<keyof CounterDelta, number[]>),
  };
  const cu = {
    run: [] as string[],
    customer: [] as string[],
    set: [] as (string | null)[],
    unset: [] as string[],
    add: [] as (string | null)[],
    remove: [] as string[],
  };
  for (const t of batch) {
    runs.id.push(t.runId);
    runs.seq.push(t.seq);
    runs.status.push(t.status);
    runs.state.push(json(t.state));
    runs.step.push(t.stepId);
    runs.waiting.push(ts(t.waitingUntil));
    runs.pev.push(t.parkedEvent);
    runs.pkey.push(t.parkedKey);
    runs.ended.push(ts(t.endedAt));
    for (const r of t.traces) {
      tr.run.push(t.runId);
      tr.step.push(r.stepId);
      tr.kind.push(r.kind);
      tr.detail.push(json(r.detail ?? {}));
    }
    for (const m of t.messages) {
      msg.id.push(m.id);
      msg.ws.push(t.workspaceId);
      msg.run.push(t.runId);
      msg.customer.push(t.customerId);
      msg.step.push(m.stepId);
      msg.seq.push(t.seq + 1);
      msg.at.push(t.now / 1000);
      msg.channel.push(m.channel);
      msg.key.push(m.idempotencyKey);
      msg.recipient.push(m.recipient);
      msg.payload.push(json(m.payload ?? {}));
      msg.status.push(m.status);
      msg.error.push(m.error);
      msg.output.push(m.output === undefined || m.output === null ? null : json(m.output));
    }
    for (const [step, d] of t.counters) {
      cnt.run.push(t.runId);
      cnt.version.push(t.versionId);
      cnt.journey.push(t.journeyId);
      cnt.step.push(step);
      for (const f of ["entered", "completed", "sent", "failed", "converted"] as const)
        cnt[f].push(d[f]);
    }
    if (t.attributes || t.tags) {
      cu.run.push(t.runId);
      cu.customer.push(t.customerId);
      cu.set.push(t.attributes ? json(t.attributes.set) : null);
      cu.unset.push(json(t.attributes?.unset ?? []));
      cu.add.push(t.tags ? json(t.tags.add) : null);
      cu.remove.push(json(t.tags?.remove ?? []));
    }
  }
  const shard = nextShard;
  nextShard = (nextShard + 1) % SHARDS;
  const rows = await ctx.db.query<{ id: string }>(
    `WITH upd AS (
       UPDATE "JourneyRun" r SET
         seq = i.seq + 1, status = i.status::"RunStatus", state = i.state::jsonb, "currentStepId" = i.step,
         "waitingUntil" = to_timestamp(i.waiting) AT TIME ZONE 'UTC',
         "parkedEvent" = i.pev, "parkedKey" = i.pkey,
         "endedAt" = to_timestamp(i.ended) AT TIME ZONE 'UTC',
         "updatedAt" = now() AT TIME ZONE 'UTC'
       FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::text[], $9::float8[])
         AS i(id, seq, status, state, step, waiting, pev, pkey, ended)
       WHERE r.id = i.id AND r.seq = i.seq
       RETURNING r.id
     ), traces AS (
       INSERT INTO "RunTrace" ("runId", "stepId", kind, detail)
       SELECT t.run, t.step, t.kind, t.detail::jsonb
       FROM unnest($10::text[], $11::text[], $12::text[], $13::text[]) WITH ORDINALITY AS t(run, step, kind, detail, n)
       JOIN upd ON upd.id = t.run
       ORDER BY t.n
     ), messages AS (
       INSERT INTO "Message" (id, "workspaceId", "runId", "customerId", "stepId", "runSeq", "createdAt", channel, "idempotencyKey", recipient, payload, status, error, output)
       SELECT m.id, m.ws, m.run, m.customer, m.step, m.seq, to_timestamp(m.at) AT TIME ZONE 'UTC', m.channel, m.key, m.recipient,
              m.payload::jsonb, COALESCE(m.status, 'PENDING')::"MessageStatus", m.error, m.output::jsonb
       FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::int[], $20::float8[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[])
         AS m(id, ws, run, customer, step, seq, at, channel, key, recipient, payload, status, error, output)
       JOIN upd ON upd.id = m.run
     ), counters AS (
       INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId", entered, completed, sent, failed, converted)
       SELECT c.version, c.step, $37::int, min(c.journey), sum(c.e), sum(c.c), sum(c.se), sum(c.f), sum(c.cv)
       FROM unnest($28::text[], $29::text[], $30::text[], $31::text[], $32::int[], $33::int[], $34::int[], $35::int[], $36::int[])
         AS c(run, version, journey, step, e, c, se, f, cv)
       JOIN upd ON upd.id = c.run
       GROUP BY c.version, c.step
       ORDER BY c.version, c.step
       ON CONFLICT ("versionId", "stepId", shard) DO UPDATE SET
         entered = "StepCounter".entered + EXCLUDED.entered,
         completed = "StepCounter".completed + EXCLUDED.completed,
         sent = "StepCounter".sent + EXCLUDED.sent,
         failed = "StepCounter".failed + EXCLUDED.failed,
         converted = "StepCounter".converted + EXCLUDED.converted
     ), customers AS (
       UPDATE "Customer" cu SET
         attributes = CASE WHEN x.set IS NULL THEN cu.attributes
           ELSE (cu.attributes || x.set::jsonb) - ARRAY(SELECT jsonb_array_elements_text(x.unset::jsonb)) END,
         tags = CASE WHEN x.add IS NULL THEN cu.tags
           ELSE ARRAY(SELECT DISTINCT g FROM unnest(cu.tags || ARRAY(SELECT jsonb_array_elements_text(x.add::jsonb))) AS g
                      WHERE NOT (g = ANY(ARRAY(SELECT jsonb_array_elements_text(x.remove::jsonb)))) ORDER BY g) END,
         "updatedAt" = now() AT TIME ZONE 'UTC'
       FROM unnest($38::text[], $39::text[], $40::text[], $41::text[], $42::text[], $43::text[]) AS x(run, customer, set, unset, add, remove)
       JOIN upd ON upd.id = x.run
       WHERE cu.id = x.customer
     )
     SELECT id FROM upd`,
    [
      runs.id,
      runs.seq,
      runs.status,
      runs.state,
      runs.step,
      runs.waiting,
      runs.pev,
      runs.pkey,
      runs.ended,
      tr.run,
      tr.step,
      tr.kind,
      tr.detail,
      msg.id,
      msg.ws,
      msg.run,
      msg.customer,
      msg.step,
      msg.seq,
      msg.at,
      msg.channel,
      msg.key,
      msg.recipient,
      msg.payload,
      msg.status,
      msg.error,
      msg.output,
      cnt.run,
      cnt.version,
      cnt.journey,
      cnt.step,
      cnt.entered,
      cnt.completed,
      cnt.sent,
      cnt.failed,
      cnt.converted,
      shard,
      cu.run,
      cu.customer,
      cu.set,
      cu.unset,
      cu.add,
      cu.remove,
    ],
    { prepare: "engine.commitRuns" },
  );
  const moved = new Set(rows.map((r) => r.id));
  return batch.map((t) => moved.has(t.runId));
}
