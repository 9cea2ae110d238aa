// Personal-page visits (issue 14): opening a PURL counts the visit, stores a PageVisit row (which
// page version was live), writes "Opened personal page …" to the run's trace (not for a reload
// within VISIT_TRACE_GAP_MS) and records a `purl_visited` event for the customer (so a
// wait-for-event, goal or exit criterion can react to it); the same statement reads what the page
// needs to render — the link, its live page version, the customer and the run's state — so a
// render costs one round trip. Concurrent visits share that statement (group commit, as ingest
// does): bench/landing-page measured Prisma's per-call CPU as the largest part of a render.
// When nothing in the workspace reacts to `purl_visited` (no trigger, goal, exit criterion,
// parked wait, conversion or saved segment names it: event-listeners.ts), the event is stored
// already processed in that statement and no worker job is queued for it; the statement checks
// the cached answer's stamp itself, so a journey or segment saved meanwhile by any process makes
// the event go through the events worker as before. The event row, the PageVisit row and the
// trace line are written either way.
import { retriedOnConflict } from "./conflicts.ts";
import type { EngineContext } from "./context.ts";
import { GroupBatcher } from "./batcher.ts";
import { enqueueEvents, newEventId, type FreshEvent } from "./group-commit.ts";
import { keepFresh, LISTENER_STAMP, quietStamps } from "./event-listeners.ts";

/** The event a visit records. */
export const VISIT_EVENT = "purl_visited";

export interface PurlVisit {
  token: string;
  workspaceId: string;
  runId: string;
  customerId: string;
  stepId: string | null;
  page: string;
  params: Record<string, unknown>;
  url: string;
  /** The published version of the page at the visit (null: not published), read in the same statement. */
  published: { id: string; version: number } | null;
  /** This link's visits so far, this one included. */
  visits: number;
  /** The customer as stored at the visit. */
  customer: {
    id: string;
    externalId: string;
    email: string | null;
    phone: string | null;
    timezone: string | null;
    attributes: Record<string, unknown>;
    tags: string[];
  };
  /** The link's run's state as stored (raw JSON; null when the run is gone). */
  runState: unknown;
}

/**
 * Opening the same link again within this time counts as a visit but writes no new trace line
 * (the trace lists a run's first lines only: reloads must not push the journey's steps out).
 */
export const VISIT_TRACE_GAP_MS = 30 * 60_000;

/** Visits combined into one statement at most. */
const MAX_VISITS = 500;

/**
 * One statement for a batch of distinct tokens ($1), each with its event id ($2), messageId ($3)
 * and number of visits in the batch ($4), at $5 (UTC). Links are locked in token order, so two
 * statements in flight cannot deadlock; an expired link, or one whose customer is gone, matches
 * nothing and nothing is counted for it.
 */
const VISIT = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS i(token, eid, mid, n)
), prev AS (
  SELECT p.token, p."lastVisitAt" AS last FROM "Purl" p JOIN input i ON i.token = p.token
  WHERE p."expiresAt" IS NULL OR p."expiresAt" >= $5::timestamp
  ORDER BY p.token
  FOR UPDATE OF p
), p AS (
  UPDATE "Purl" u SET visits = u.visits + i.n, "lastVisitAt" = $5::timestamp
  FROM prev JOIN input i ON i.token = prev.token
  WHERE u.token = prev.token
    AND EXISTS (SELECT 1 FROM "Customer" c WHERE c.id = u."customerId" AND c."workspaceId" = u."workspaceId")
  RETURNING u.token, u."workspaceId", u."runId", u."customerId", u."stepId", u.page, u.params,
            u.visits, prev.last, i.eid, i.mid, i.n
), pv AS (
  SELECT p.token, v.version, v.id FROM p
  LEFT JOIN "Page" pg ON pg."workspaceId" = p."workspaceId" AND pg.slug = p.page
  LEFT JOIN "PageVersion" v ON v."pageId" = pg.id AND v.version = pg."publishedVersion"
), visit AS (
  INSERT INTO "PageVisit" ("workspaceId", token, page, "pageVersion", "customerId", "runId", "stepId", at)
  SELECT p."workspaceId", p.token, p.page, pv.version, p."customerId", p."runId", p."stepId", $5::timestamp
  FROM p JOIN pv ON pv.token = p.token CROSS JOIN generate_series(1, p.n)
), traced AS (
  INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
  SELECT p."runId", p."stepId", 'page.visited',
         jsonb_build_object('text', 'Opened personal page ' || p.page, 'page', p.page,
                            'version', pv.version, 'visits', p.visits),
         $5::timestamp
  FROM p JOIN pv ON pv.token = p.token
  WHERE p.last IS NULL OR p.last < $6::timestamp
), quiet AS (
  SELECT q.ws FROM unnest($7::text[], $8::text[]) AS q(ws, stamp)
  WHERE q.ws IN (SELECT "workspaceId" FROM p) AND ${LISTENER_STAMP("q.ws")} = q.stamp
), evkey AS (
  -- issue 15: the event's de-duplication key, with the event's receivedAt (group-commit.ts).
  INSERT INTO "EventKey" ("workspaceId", "messageId", "eventId", "receivedAt")
  SELECT p."workspaceId", p.mid, p.eid, now() AT TIME ZONE 'UTC' FROM p
), ev AS (
  INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId",
                       "receivedAt", "processedAt")
  SELECT p.eid, p."workspaceId", p."customerId", '${VISIT_EVENT}',
         jsonb_build_object('page', p.page, 'token', p.token) || COALESCE(p.params, '{}'::jsonb),
         $5::timestamp, p.mid, now() AT TIME ZONE 'UTC',
         CASE WHEN p."workspaceId" IN (SELECT ws FROM quiet) THEN $5::timestamp END
  FROM p
  RETURNING id, "processedAt" IS NOT NULL AS done,
            (extract(epoch FROM "receivedAt") * 1000)::float8 AS "receivedMs"
)
SELECT p.token, p."workspaceId", p."runId", p."customerId", p."stepId", p.page, p.params, p.visits,
       p.eid, ev.done AS "eventDone", ev."receivedMs", pv.version AS "pageVersion", pv.id AS "pageVersionId",
       jsonb_build_object('id', c.id, 'externalId', c."externalId", 'email', c.email, 'phone', c.phone,
         'timezone', c.timezone, 'attributes', c.attributes, 'tags', to_jsonb(c.tags)) AS customer,
       r.state AS "runState"
FROM p JOIN pv ON pv.token = p.token JOIN "Customer" c ON c.id = p."customerId"
JOIN ev ON ev.id = p.eid
LEFT JOIN "JourneyRun" r ON r.id = p."runId" AND r."workspaceId" = p."workspaceId"`;

type Row = {
  token: string;
  workspaceId: string;
  runId: string;
  customerId: string;
  stepId: string | null;
  page: string;
  params: unknown;
  visits: number;
  eid: string;
  receivedMs: number;
  /** The event was stored processed (nothing in the workspace listens for `purl_visited`). */
  eventDone: boolean;
  pageVersion: number | null;
  pageVersionId: string | null;
  customer: PurlVisit["customer"];
  runState: unknown;
};

const utc = (ms: number) => new Date(ms).toISOString().slice(0, -1);

async function commitVisits(
  ctx: EngineContext,
  tokens: readonly string[],
): Promise<(PurlVisit | null)[]> {
  const n = new Map<string, number>();
  for (const t of tokens) if (t.length <= 200) n.set(t, (n.get(t) ?? 0) + 1);
  const distinct = [...n.keys()];
  if (distinct.length === 0) return tokens.map(() => null);
  const now = ctx.now();
  const eids = distinct.map(() => newEventId());
  const quiet = quietStamps(ctx, VISIT_EVENT);
  // Unique as the event ids are (time, a per-process counter, the process and random bytes).
  const mids = distinct.map((t, i) => `purl-${t}-${eids[i]!}`);
  const params = [
    distinct,
    eids,
    mids,
    distinct.map((t) => n.get(t)!),
    utc(now),
    utc(now - VISIT_TRACE_GAP_MS),
    quiet.workspaces,
    quiet.stamps,
  ];
  // A transient conflict between two statements in flight: tried again at once.
  const rows = await retriedOnConflict(
    () =>
      ctx.db.query<Row>(VISIT, params, {
        prepare: "engine.purlVisits",
        // Planned per call, its ~0.8 ms of planning was as much as running it (database.ts).
        genericPlan: true,
      }),
    4,
  );
  // The events are stored; queueing them is not waited for. A queue outage (or a crash before
  // the queueing) only delays them — the sweeper queues unprocessed events — so the customer
  // sees the page either way.
  const queued = rows
    .filter((r) => !r.eventDone)
    .map((r) => ({ id: r.eid, receivedMs: r.receivedMs }));
  if (queued.length > 0) queueVisitEvents(ctx, queued);
  // A workspace thought quiet whose event was not stored processed: its stamp changed.
  const thought = new Set(quiet.workspaces);
  keepFresh(
    ctx,
    rows.map((r) => r.workspaceId),
    rows.filter((r) => !r.eventDone && thought.has(r.workspaceId)).map((r) => r.workspaceId),
  );
  const base = ctx.publicUrl.replace(/\/$/, "");
  const byToken = new Map<string, PurlVisit>();
  for (const r of rows)
    byToken.set(r.token, {
      token: r.token,
      workspaceId: r.workspaceId,
      runId: r.runId,
      customerId: r.customerId,
      stepId: r.stepId,
      page: r.page,
      params: (r.params ?? {}) as Record<string, unknown>,
      url: `${base}/p/${r.token}`,
      published:
        r.pageVersion !== null && r.pageVersionId !== null
          ? { id: r.pageVersionId, version: r.pageVersion }
          : null,
      visits: r.visits,
      customer: { ...r.customer, attributes: r.customer.attributes ?? {} },
      runState: r.runState,
    });
  return tokens.map((t) => byToken.get(t) ?? null);
}

const batchers = new WeakMap<EngineContext, GroupBatcher<string, PurlVisit | null>>();
const eventQueuers = new WeakMap<EngineContext, GroupBatcher<FreshEvent, null>>();

/**
 * The visits' events go to the events worker in jobs of many (up to EVENTS_PER_JOB, gathered for
 * at most EVENTS_LINGER_MS): processing an event job costs a handful of statements whatever its
 * size, and at a few hundred visits a second a job per visit statement carried one or two events
 * (bench/landing-page: the worker's share was most of a visit's CPU, Postgres's included).
 */
function queueVisitEvents(ctx: EngineContext, events: FreshEvent[]): void {
  let q = eventQueuers.get(ctx);
  if (!q) {
    q = new GroupBatcher(
      async (fresh) => {
        await enqueueEvents(ctx, fresh, EVENTS_PER_JOB);
        return fresh.map(() => null);
      },
      { maxItems: EVENTS_PER_JOB, lingerMs: EVENTS_LINGER_MS, concurrency: 1 },
    );
    eventQueuers.set(ctx, q);
  }
  q.push(events).catch((err: unknown) =>
    ctx.log.warn(
      { error: err instanceof Error ? err.message : String(err) },
      "purl visit events not queued; the sweeper will queue them",
    ),
  );
}
const EVENTS_PER_JOB = 100;
const EVENTS_LINGER_MS = 50;

/**
 * A PURL was opened: see the top of this file. Null for unknown or expired tokens and for links
 * whose customer is gone (nothing is counted). Resolves once the visit is committed.
 */
export async function visitPurl(ctx: EngineContext, token: string): Promise<PurlVisit | null> {
  if (token.length > 200) return null;
  let b = batchers.get(ctx);
  if (!b) {
    b = new GroupBatcher((tokens) => commitVisits(ctx, tokens), {
      maxItems: MAX_VISITS,
      lingerMs: 0,
      concurrency: 2,
    });
    batchers.set(ctx, b);
  }
  const [visit] = await b.push([token]);
  return visit ?? null;
}
