// The journey list (issue 15, item 4: API reads). Two statements, one after the other:
//   - the page of the workspace's journeys with their live version: one indexed query through the
//     raw driver (Prisma's findMany with a nested `versions` read sent two, and mapped every row
//     twice), the page chosen before each row's live version is looked up;
//   - the figures (entered, converted) of the journeys on that page from the StepCounter rollups:
//     each version's counter rows (steps × 8 shards) by primary key, about 11,000 rows for a page
//     of 50 — still milliseconds that a list asked for 200 times a second cannot pay each time.
//     With `listFiguresMaxAgeMs` set (the HTTP server sets it) each journey's figures are shared
//     per workspace and process for that long, and an older copy is answered while one refresh of
//     them runs (stale-while-revalidate); a journey never read before waits for its figures. The
//     names, statuses and versions are always read fresh; only the counts may lag by that much.
//     Without it (tests, scripts) they are read every time.
//     (Until now the figures of the whole workspace were read at once: ~224,000 counter rows and
//     150-300 ms of Postgres every 2 s for 1,000 journeys, which the list's requests queued behind:
//     p99 103 ms at 200 req/s in bench/api-reads.)
import type { Database, JourneyStatus } from "@postpath/db";

/** What the HTTP server passes as ApiContext.listFiguresMaxAgeMs. */
export const LIST_FIGURES_MAX_AGE_MS = 2_000;

export interface JourneyListItem {
  id: string;
  name: string;
  status: JourneyStatus;
  liveVersion: number | null;
  updatedAt: string;
  entered: number;
  converted: number;
}

type Figure = { entered: number; converted: number };
type Figures = Map<string, Figure>;
/** One journey's shared figures: null until first read; `refresh` while a read of them runs. */
type Shared = { at: number; figure: Figure | null; refresh: Promise<void> | null };

/** Per workspace, per journey; at most this many workspaces are kept (the oldest read goes first). */
const MAX_WORKSPACES = 1_000;
const shared = new Map<string, Map<string, Shared>>();
const NONE: Figure = { entered: 0, converted: 0 };

/**
 * Entered = runs that entered a version's trigger step (its counter, summed over shards and
 * versions); converted = conversions anywhere (a run converts at most once). Each version's
 * trigger step is read from its plan once (MATERIALIZED: otherwise `plan->>…`, a detoast of the
 * whole plan, runs once per counter row); its counters are one range of the primary key.
 */
async function readFigures(db: Database, workspaceId: string, ids: string[]): Promise<Figures> {
  const rows = await db.query<{ journeyId: string; entered: number; converted: number }>(
    `WITH v AS MATERIALIZED (
       SELECT id, "journeyId", plan->>'triggerStepId' AS trigger FROM "JourneyVersion"
       WHERE "journeyId" = ANY($2::text[]) AND "workspaceId" = $1
     )
     SELECT v."journeyId", COALESCE(sum(s.entered), 0)::int AS entered,
            COALESCE(sum(s.converted), 0)::int AS converted
     FROM v CROSS JOIN LATERAL (
       SELECT sum(c.entered) FILTER (WHERE c."stepId" = v.trigger) AS entered,
              sum(c.converted) AS converted
       FROM "StepCounter" c WHERE c."versionId" = v.id
     ) s
     GROUP BY v."journeyId"`,
    [workspaceId, ids],
    { prepare: "journeys.list.figures", genericPlan: true },
  );
  return new Map(rows.map((r) => [r.journeyId, { entered: r.entered, converted: r.converted }]));
}

function sharedOf(workspaceId: string): Map<string, Shared> {
  let journeys = shared.get(workspaceId);
  if (!journeys) {
    journeys = new Map();
    shared.set(workspaceId, journeys);
    while (shared.size > MAX_WORKSPACES) {
      const oldest = shared.keys().next().value;
      if (oldest === undefined) break;
      shared.delete(oldest);
    }
  }
  return journeys;
}

async function figures(
  db: Database,
  workspaceId: string,
  ids: string[],
  maxAgeMs?: number,
): Promise<Figures> {
  if (ids.length === 0) return new Map();
  if (!maxAgeMs) return readFigures(db, workspaceId, ids);
  const journeys = sharedOf(workspaceId);
  const now = Date.now();
  const entries = ids.map((id) => {
    let e = journeys.get(id);
    if (!e) journeys.set(id, (e = { at: 0, figure: null, refresh: null }));
    return e;
  });
  // The journeys whose figures are missing or older than maxAgeMs and not being read already:
  // one read for all of them.
  const stale = ids.flatMap((id, k) => {
    const e = entries[k]!;
    return !e.refresh && (!e.figure || now - e.at >= maxAgeMs) ? [{ id, e }] : [];
  });
  if (stale.length > 0) {
    const refresh = readFigures(
      db,
      workspaceId,
      stale.map((s) => s.id),
    ).then(
      (read) => {
        const at = Date.now();
        for (const { id, e } of stale) {
          e.figure = read.get(id) ?? NONE;
          e.at = at;
          e.refresh = null;
        }
      },
      (err: unknown) => {
        for (const { e } of stale) e.refresh = null;
        throw err;
      },
    );
    refresh.catch(() => undefined); // a failed refresh is tried again by the next read
    for (const { e } of stale) e.refresh = refresh;
  }
  // An older copy is answered at once while its refresh runs; a journey never read waits for it.
  await Promise.all(entries.flatMap((e) => (!e.figure && e.refresh ? [e.refresh] : [])));
  return new Map(ids.map((id, k) => [id, entries[k]!.figure ?? NONE]));
}

/** One page of the list: newest edit first; `cursor` is the last row of the previous page. */
export interface ListPage {
  limit: number;
  cursor?: { updatedAt: string; id: string } | null;
  /** Part of the name, any case. */
  search?: string;
}

/** The default page when a caller asks for none (scripts, older clients). */
export const DEFAULT_LIST_LIMIT = 100;

/** `%`, `_` and `\` stand for themselves in a search, not for ILIKE's wildcards. */
const likePattern = (search: string) => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The names, statuses and versions come from `db` (the primary: a journey just created is
 * listed); the figures from `figuresDb` (a read replica when there is one, issue 15 item 6).
 * Paged by keyset on (updatedAt, id): a page reads its rows only, however long the list.
 */
export async function listJourneys(
  db: Database,
  workspaceId: string,
  figuresMaxAgeMs?: number,
  figuresDb: Database = db,
  page: ListPage = { limit: DEFAULT_LIST_LIMIT },
): Promise<JourneyListItem[]> {
  const params: unknown[] = [workspaceId, page.limit];
  const where: string[] = [];
  if (page.cursor) {
    params.push(page.cursor.updatedAt, page.cursor.id);
    where.push(`(j."updatedAt", j.id) < ($${params.length - 1}::timestamp, $${params.length})`);
  }
  if (page.search) {
    params.push(likePattern(page.search));
    where.push(`j.name ILIKE $${params.length}`);
  }
  const journeys = await db.query<Omit<JourneyListItem, "entered" | "converted">>(
    // The page first, then each of its rows' live version (a lateral join beside the ORDER BY
    // ran for every journey of the workspace before the LIMIT). updatedAt as toISOString() writes
    // it (timestamp(3), UTC), so no Date is built per row.
    `SELECT j.id, j.name, j.status, v.version AS "liveVersion",
            to_char(j."updatedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"
     FROM (
       SELECT id, name, status, "updatedAt" FROM "Journey" j
       WHERE j."workspaceId" = $1 AND j.status <> 'ARCHIVED'${where.map((w) => ` AND ${w}`).join("")}
       ORDER BY j."updatedAt" DESC, j.id DESC
       LIMIT $2
     ) j
     LEFT JOIN LATERAL (
       SELECT version FROM "JourneyVersion" WHERE "journeyId" = j.id AND status = 'LIVE' LIMIT 1
     ) v ON true
     ORDER BY j."updatedAt" DESC, j.id DESC`,
    params,
    { prepare: `journeys.list${page.cursor ? ".after" : ""}${page.search ? ".search" : ""}` },
  );
  const counts = await figures(
    figuresDb,
    workspaceId,
    journeys.map((j) => j.id),
    figuresMaxAgeMs,
  );
  // Each row built field by field: spreading the driver's row objects was ~1.5 µs a row (a
  // profile of 200 lists a second).
  return journeys.map((j) => {
    const c = counts.get(j.id) ?? NONE;
    return {
      id: j.id,
      name: j.name,
      status: j.status,
      liveVersion: j.liveVersion,
      updatedAt: j.updatedAt,
      entered: c.entered,
      converted: c.converted,
    };
  });
}
