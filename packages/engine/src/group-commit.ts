// Group commit for ingest (issue 15): concurrent track calls — single calls and whole /v1/batch
// requests — share one statement per round trip instead of a customer upsert, an event insert
// and a queue job each. A caller's group of events is committed all or nothing: when a combined
// statement fails, each group is tried again on its own, so one bad group (a value Postgres
// refuses) fails only itself, and an outage fails every group it met (the caller answers 503).
// The answer waits for the commit: a resolved promise means the events are durably stored. Their
// processing is queued right after (one addBulk at a time per process; the sweeper queues what
// Redis refused). An event that nothing in its workspace reacts to (a product view when no
// journey, segment or KPI reads that name: event-listeners.ts) is stored already processed and
// queues nothing.
import { randomBytes } from "node:crypto";
import { GroupBatcher, onePer } from "./batcher.ts";
import { keepFresh, LISTENER_STAMP, quietStamp } from "./event-listeners.ts";
import { receivedRange } from "./event-months.ts";
import { randomHex } from "./random-pool.ts";
import { retriedOnConflict } from "./conflicts.ts";
import type { EngineContext } from "./context.ts";
import type { EventJob } from "./queues.ts";

/** One event to store, already checked and sanitised by the caller. */
export interface IngestRow {
  workspaceId: string;
  /** The customer's externalId (Segment's userId). */
  userId: string;
  name: string;
  properties: Record<string, unknown>;
  timestamp: Date;
  messageId: string;
}

export interface IngestResult {
  eventId: string;
  duplicate: boolean;
}

export interface GroupCommitOptions {
  /** Flush as soon as this many events are queued (and a flush slot is free). */
  maxEvents: number;
  /** Otherwise flush this long after the first event was queued (ms). */
  lingerMs: number;
  /** Statements in flight at once per process. */
  concurrency: number;
  /** Event ids per `events` job (the worker processes them as one batch). */
  eventsPerJob: number;
}

/**
 * No linger: a call finding a statement slot free goes out on the next turn of the event loop
 * (with whatever else arrived in that turn), and calls arriving while both slots are busy queue and
 * go out together when one frees — the statement in flight is the wait. A 2 ms linger added 2 ms to
 * every /v1/track answer for nothing: on one machine, minutes apart, /v1/track went from 17.7–18.1 %
 * to 17.7–24.7 % of the raw parse rate (p50 10.5–11.8 → 6.9–10.8 ms) with /v1/batch unchanged.
 */
export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = {
  maxEvents: 2000,
  lingerMs: 0,
  concurrency: 2,
  eventsPerJob: 250,
};

/**
 * Time-ordered ids (like cuid: `e`, ms time, a per-process counter, random), so `(timestamp, id)`
 * keeps arrival order within a millisecond. The random part comes from the pooled random bytes
 * (random-pool.ts), not a `randomBytes` call per id.
 */
let counter = 0;
const PROCESS_TAG = randomBytes(4).toString("hex");
export function newEventId(): string {
  counter = (counter + 1) % 1_679_616; // 36^4
  return `e${Date.now().toString(36).padStart(9, "0")}${counter.toString(36).padStart(4, "0")}${PROCESS_TAG}${randomHex(3)}`;
}
export function newCustomerId(): string {
  return `c${Date.now().toString(36).padStart(9, "0")}${randomHex(8)}`;
}

/**
 * One statement: the batch's customers looked up and the missing ones inserted (ON CONFLICT DO
 * NOTHING), then every event's de-duplication key ("EventKey": workspace and messageId, the one
 * unique key; "Event" is partitioned by month and cannot hold it, issue 15) inserted ON CONFLICT
 * DO NOTHING, and only the events whose key went in inserted, in the same statement. Key and
 * event carry the same receivedAt (the statement's now()), so a key finds its event's month. A
 * customer inserted meanwhile by another statement not yet visible to this one's snapshot is
 * missing from `cust`; its events (and their keys) are not inserted and go into the next flush.
 * Rows are inserted in key order, so two statements in flight take their locks in the same order.
 *
 * An event given a listener stamp ($9: the process found nothing in the workspace listening for its
 * name) is stored processed when the workspace's stamp is still that one in this statement's
 * snapshot; a journey published or a segment saved since makes it go the usual way (reported 'e').
 */
const INSERT_EVENTS = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS t(id, ws, ext, name, props, ts, mid, cid, stamp)
),
stamps AS MATERIALIZED (
  SELECT q.ws, ${LISTENER_STAMP("q.ws")} AS stamp
  FROM (SELECT DISTINCT ws FROM input WHERE stamp IS NOT NULL) q
),
keys AS (
  SELECT DISTINCT ON (ws, ext) ws, ext, cid FROM input ORDER BY ws, ext
),
existing AS (
  SELECT c.id, c."workspaceId" AS ws, c."externalId" AS ext
  FROM "Customer" c JOIN keys k ON c."workspaceId" = k.ws AND c."externalId" = k.ext
),
created AS (
  INSERT INTO "Customer" (id, "workspaceId", "externalId", "updatedAt")
  SELECT k.cid, k.ws, k.ext, now() FROM keys k
  WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.ws = k.ws AND e.ext = k.ext)
  ORDER BY k.ws, k.ext
  ON CONFLICT ("workspaceId", "externalId") DO NOTHING
  RETURNING id, "workspaceId" AS ws, "externalId" AS ext
),
cust AS (
  SELECT * FROM existing UNION ALL SELECT * FROM created
),
ekeys AS (
  INSERT INTO "EventKey" ("workspaceId", "messageId", "eventId", "receivedAt")
  SELECT i.ws, i.mid, i.id, now() AT TIME ZONE 'UTC'
  FROM input i JOIN cust c ON c.ws = i.ws AND c.ext = i.ext
  ORDER BY i.ws, i.mid
  ON CONFLICT ("workspaceId", "messageId") DO NOTHING
  RETURNING "eventId"
),
ins AS (
  INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId", "receivedAt", "processedAt")
  SELECT i.id, i.ws, c.id, i.name, i.props::jsonb, i.ts::timestamp, i.mid, now() AT TIME ZONE 'UTC',
         CASE WHEN i.stamp = s.stamp THEN now() AT TIME ZONE 'UTC' END
  FROM ekeys k JOIN input i ON i.id = k."eventId"
  JOIN cust c ON c.ws = i.ws AND c.ext = i.ext
  LEFT JOIN stamps s ON s.ws = i.ws
  ORDER BY i.ws, i.mid
  RETURNING id, "processedAt" IS NOT NULL AS done
)
SELECT CASE WHEN done THEN 'd' ELSE 'e' END AS kind, id AS v FROM ins
UNION ALL
SELECT 'c', ws || chr(31) || ext FROM cust
UNION ALL
SELECT 't', (extract(epoch FROM now()) * 1000)::text`;

/**
 * The events a batch found already stored (replays, or a duplicate inside the batch itself),
 * through their keys; the event is read in its own month (the key's receivedAt). A key whose event
 * is gone (its customer erased) counts as processed: nothing is queued for it.
 */
const FIND_DUPLICATES = `
SELECT k."eventId" AS id, k."workspaceId" AS ws, k."messageId" AS mid,
       (e.id IS NULL OR e."processedAt" IS NOT NULL) AS processed,
       (extract(epoch FROM k."receivedAt") * 1000)::float8 AS "receivedMs"
FROM unnest($1::text[], $2::text[]) AS d(ws, mid)
JOIN "EventKey" k ON k."workspaceId" = d.ws AND k."messageId" = d.mid
LEFT JOIN "Event" e ON e.id = k."eventId" AND e."receivedAt" = k."receivedAt"`;

const utc = (d: Date) => d.toISOString().slice(0, -1);
const SEP = String.fromCharCode(31);

/**
 * The committer's `addBulk` calls, one at a time: the flushes committed while one is on its way to
 * Redis go out together in the next, so a busy process sends fewer round trips and fuller `events`
 * jobs (a /v1/track flush holds a few events; the worker's cost is per job, not per event).
 */
class EventQueue {
  private waiting: { events: readonly FreshEvent[]; settle: (err?: Error) => void }[] = [];
  private sending = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly per: number,
  ) {}

  /** Resolves once the events' jobs are in Redis (in the order they were added). */
  add(events: readonly FreshEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, settle: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.sending) this.send();
    });
  }

  private send(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.sending = true;
    enqueueEvents(
      this.ctx,
      batch.flatMap((b) => b.events),
      this.per,
    )
      .then(
        () => batch.forEach((b) => b.settle()),
        (err: unknown) =>
          batch.forEach((b) =>
            b.settle(err instanceof Error ? err : new Error(`events not queued: ${String(err)}`)),
          ),
      )
      .finally(() => {
        this.sending = false;
        if (this.waiting.length > 0) this.send();
      });
  }
}

export class EventCommitter {
  private readonly opts: GroupCommitOptions;
  private readonly batcher: GroupBatcher<IngestRow, IngestResult>;
  private readonly queue: EventQueue;

  constructor(
    private readonly ctx: EngineContext,
    opts: Partial<GroupCommitOptions> = {},
  ) {
    this.opts = { ...DEFAULT_GROUP_COMMIT, ...opts };
    this.queue = new EventQueue(ctx, this.opts.eventsPerJob);
    this.batcher = new GroupBatcher((rows) => this.commit(rows), {
      maxItems: this.opts.maxEvents,
      lingerMs: this.opts.lingerMs,
      concurrency: this.opts.concurrency,
    });
  }

  /**
   * Stores a group of events all or nothing; resolves once committed (durably stored). Their
   * `events` jobs (for those something listens for) are queued right after, outside the flush's slot and the caller's wait: a
   * /v1/track answer does not wait for a Redis round trip. Should Redis refuse them, the events
   * stay unprocessed in Postgres and the sweeper queues them (maintenance.ts), as for a job lost
   * with Redis.
   */
  push(rows: IngestRow[]): Promise<IngestResult[]> {
    return this.batcher.push(rows);
  }

  private async commit(rows: IngestRow[]): Promise<IngestResult[]> {
    const { results, fresh } = await this.commitRows(rows);
    this.queue
      .add(fresh)
      .catch((err: unknown) =>
        this.ctx.log.warn(
          { error: err instanceof Error ? err.message : String(err), events: fresh.length },
          "ingested events stored but not queued; the sweeper will queue them",
        ),
      );
    return results;
  }

  /**
   * One statement, plus a look-up when some were already stored; the ids of the new events to
   * process (those stored processed are not among them).
   */
  private async commitRows(
    rows: IngestRow[],
  ): Promise<{ results: IngestResult[]; fresh: FreshEvent[] }> {
    const ids = rows.map(() => newEventId());
    const results: (IngestResult | undefined)[] = rows.map(() => undefined);
    const fresh: FreshEvent[] = [];
    const stored = new Set<string>();
    let pending = rows.map((_, i) => i);
    for (let round = 0; pending.length > 0; round++) {
      const batch = pending.map((i) => ({
        row: rows[i]!,
        id: ids[i]!,
        stamp: quietStamp(this.ctx, rows[i]!.workspaceId, rows[i]!.name),
      }));
      const { inserted, done, customers, receivedMs } = await this.insert(batch);
      const dupes: number[] = [];
      const retry: number[] = [];
      for (const i of pending) {
        const r = rows[i]!;
        if (inserted.has(ids[i]!)) {
          results[i] = { eventId: ids[i]!, duplicate: false };
          stored.add(ids[i]!);
          if (!done.has(ids[i]!)) fresh.push({ id: ids[i]!, receivedMs });
        } else if (customers.has(`${r.workspaceId}${SEP}${r.userId}`)) dupes.push(i);
        else retry.push(i);
      }
      // The workspaces in use keep their listeners fresh; one thought quiet whose event was not
      // stored processed changed (a journey published, a segment saved): read again at once.
      keepFresh(
        this.ctx,
        batch.map((b) => b.row.workspaceId),
        batch.flatMap((b) =>
          b.stamp !== null && inserted.has(b.id) && !done.has(b.id) ? [b.row.workspaceId] : [],
        ),
      );
      // A duplicate whose key went meanwhile (its month expired) is stored anew in the next round.
      if (dupes.length) retry.push(...(await this.resolveDuplicates(rows, dupes, results, stored)));
      if (retry.length && round >= 5) throw new Error("ingest: customers could not be resolved");
      pending = retry;
    }
    return { results: results as IngestResult[], fresh };
  }

  private async insert(batch: { row: IngestRow; id: string; stamp: string | null }[]): Promise<{
    inserted: Set<string>;
    done: Set<string>;
    customers: Set<string>;
    /** The statement's now(), which every event it inserted holds as its receivedAt. */
    receivedMs: number | null;
  }> {
    const cols: (string | null)[][] = [[], [], [], [], [], [], [], [], []];
    // One customer id per input row; the first row of each customer proposes the id used.
    for (const { row, id, stamp } of batch) {
      cols[0]!.push(id);
      cols[1]!.push(row.workspaceId);
      cols[2]!.push(row.userId);
      cols[3]!.push(row.name);
      cols[4]!.push(JSON.stringify(row.properties));
      cols[5]!.push(utc(row.timestamp));
      cols[6]!.push(row.messageId);
      cols[7]!.push(newCustomerId());
      cols[8]!.push(stamp);
    }
    // A transient conflict between two statements in flight: tried again at once.
    const out = await retriedOnConflict(
      () =>
        this.ctx.db.query<{ kind: string; v: string }>(INSERT_EVENTS, cols, {
          prepare: "engine.ingestEvents",
        }),
      4,
    );
    const inserted = new Set<string>();
    const done = new Set<string>();
    const customers = new Set<string>();
    let receivedMs: number | null = null;
    for (const r of out) {
      if (r.kind === "t") receivedMs = Number(r.v);
      else if (r.kind === "c") customers.add(r.v);
      else inserted.add(r.v);
      if (r.kind === "d") done.add(r.v);
    }
    return { inserted, done, customers, receivedMs };
  }

  private async resolveDuplicates(
    rows: IngestRow[],
    dupes: number[],
    results: (IngestResult | undefined)[],
    stored: Set<string>,
  ): Promise<number[]> {
    const found = await this.ctx.db.query<{
      id: string;
      ws: string;
      mid: string;
      processed: boolean;
      receivedMs: number;
    }>(
      FIND_DUPLICATES,
      [dupes.map((i) => rows[i]!.workspaceId), dupes.map((i) => rows[i]!.messageId)],
      { prepare: "engine.ingestDuplicates" },
    );
    const byKey = new Map(found.map((f) => [`${f.ws}${SEP}${f.mid}`, f]));
    const requeue = new Map<string, FreshEvent>();
    const gone: number[] = [];
    for (const i of dupes) {
      const f = byKey.get(`${rows[i]!.workspaceId}${SEP}${rows[i]!.messageId}`);
      if (!f) {
        gone.push(i);
        continue;
      }
      results[i] = { eventId: f.id, duplicate: true };
      // Not processed yet (and not stored by this very batch): queue it again under its own job
      // id, so a client retrying after a Redis hiccup still gets it processed (issue 13).
      if (!f.processed && !stored.has(f.id))
        requeue.set(f.id, { id: f.id, receivedMs: f.receivedMs });
    }
    if (requeue.size)
      await this.ctx.queues.events.addBulk([...requeue.values()].map((e) => singleEventJob(e)));
    return gone;
  }
}

/** A stored event to queue for processing, with its receivedAt (epoch ms) where known. */
export interface FreshEvent {
  id: string;
  receivedMs: number | null;
}

type EventJobSpec = { name: string; data: EventJob; opts: { jobId: string } };

/** One event alone: the same job id the sweeper and a replay would queue it under. */
function singleEventJob(e: FreshEvent): EventJobSpec {
  const received = receivedRange([e.receivedMs]);
  return {
    name: "event",
    data: received ? { eventId: e.id, received } : { eventId: e.id },
    opts: { jobId: `ev-${e.id}` },
  };
}

/**
 * One `events` job per `per` new events, all in one round trip to Redis. Each job carries the
 * range of its events' receivedAt when all of them are known, so the worker reads their month
 * only (event-months.ts).
 */
export async function enqueueEvents(
  ctx: EngineContext,
  fresh: readonly FreshEvent[],
  per: number = DEFAULT_GROUP_COMMIT.eventsPerJob,
): Promise<void> {
  if (fresh.length === 0) return;
  const jobs: EventJobSpec[] = [];
  for (let at = 0; at < fresh.length; at += per) {
    const chunk = fresh.slice(at, at + per);
    if (chunk.length === 1) {
      jobs.push(singleEventJob(chunk[0]!));
      continue;
    }
    const eventIds = chunk.map((e) => e.id);
    const received = chunk.every((e) => e.receivedMs !== null)
      ? receivedRange(chunk.map((e) => e.receivedMs))
      : undefined;
    jobs.push({
      name: "events",
      data: received ? { eventIds, received } : { eventIds },
      opts: { jobId: `evb-${eventIds[0]!}` },
    });
  }
  await ctx.queues.events.addBulk(jobs);
}

/** The process's committer for this engine context (created on first use). */
export const eventCommitter = onePer((ctx: EngineContext) => new EventCommitter(ctx));
