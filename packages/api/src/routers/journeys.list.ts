// The journey list (issue 15, item 4: API reads). Two statements, run side by side:
//   - the workspace's journeys with their live version: one indexed query through the raw driver
//     (Prisma's findMany with a nested `versions` read sent two, and mapped every row twice);
//   - each journey's figures (entered, converted) from the StepCounter rollups. That aggregate
//     reads every counter row of the workspace (steps × 8 shards × versions of each journey: about
//     224,000 rows for 1,000 journeys), tens of milliseconds that a list asked for 200 times a
//     second cannot pay each time. With `listFiguresMaxAgeMs` set (the HTTP server sets it) the
//     figures are shared per workspace and process for that long, and an older copy is answered
//     while one refresh runs (stale-while-revalidate): the names, statuses and versions are always
//     read fresh; only the counts may lag by that much. Without it (tests, scripts) they are read
//     every time.
import { Prisma, type Database, type JourneyStatus } from "@postpath/db";

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

type Figures = Map<string, { entered: number; converted: number }>;
type Shared = { at: number; figures: Figures | null; refresh: Promise<Figures> | null };

/** Per workspace; at most this many workspaces are kept (the oldest read goes first). */
const MAX_WORKSPACES = 1_000;
const shared = new Map<string, Shared>();

/**
 * Entered = runs that entered a version's trigger step (its counter, summed over shards and
 * versions); converted = conversions anywhere (a run converts at most once). Each version's
 * trigger step is read from its plan once (MATERIALIZED: otherwise `plan->>…`, a detoast of the
 * whole plan, may run once per joined counter row).
 */
async function readFigures(db: Database, workspaceId: string): Promise<Figures> {
  const rows = await db.prisma.$queryRaw<
    { journeyId: string; entered: number; converted: number }[]
  >(Prisma.sql`
    WITH v AS MATERIALIZED (
      SELECT id, plan->>'triggerStepId' AS trigger FROM "JourneyVersion"
      WHERE "workspaceId" = ${workspaceId}
    )
    SELECT c."journeyId",
           COALESCE(sum(c.entered) FILTER (WHERE c."stepId" = v.trigger), 0)::int AS entered,
           COALESCE(sum(c.converted), 0)::int AS converted
    FROM v JOIN "StepCounter" c ON c."versionId" = v.id
    GROUP BY c."journeyId"`);
  return new Map(rows.map((r) => [r.journeyId, { entered: r.entered, converted: r.converted }]));
}

async function figures(db: Database, workspaceId: string, maxAgeMs?: number): Promise<Figures> {
  if (!maxAgeMs) return readFigures(db, workspaceId);
  const now = Date.now();
  let entry = shared.get(workspaceId);
  if (!entry) {
    entry = { at: 0, figures: null, refresh: null };
    shared.set(workspaceId, entry);
    while (shared.size > MAX_WORKSPACES) {
      const oldest = shared.keys().next().value;
      if (oldest === undefined) break;
      shared.delete(oldest);
    }
  }
  if (entry.figures && now - entry.at < maxAgeMs) return entry.figures;
  const e = entry;
  e.refresh ??= readFigures(db, workspaceId).then(
    (f) => {
      e.figures = f;
      e.at = Date.now();
      e.refresh = null;
      return f;
    },
    (err: unknown) => {
      e.refresh = null;
      throw err;
    },
  );
  // An older copy is answered at once while the refresh runs (a failed refresh is tried again by
  // the next read); the first read waits for it.
  if (!e.figures) return e.refresh;
  e.refresh.catch(() => undefined);
  return e.figures;
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
  const [journeys, counts] = await Promise.all([
    db.query<Omit<JourneyListItem, "entered" | "converted">>(
      // updatedAt as toISOString() writes it (timestamp(3), UTC), so no Date is built per row.
      `SELECT j.id, j.name, j.status, v.version AS "liveVersion",
              to_char(j."updatedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"
       FROM "Journey" j
       LEFT JOIN LATERAL (
         SELECT version FROM "JourneyVersion" WHERE "journeyId" = j.id AND status = 'LIVE' LIMIT 1
       ) v ON true
       WHERE j."workspaceId" = $1 AND j.status <> 'ARCHIVED'${where.map((w) => ` AND ${w}`).join("")}
       ORDER BY j."updatedAt" DESC, j.id DESC
       LIMIT $2`,
      params,
      { prepare: `journeys.list${page.cursor ? ".after" : ""}${page.search ? ".search" : ""}` },
    ),
    figures(figuresDb, workspaceId, figuresMaxAgeMs),
  ]);
  return journeys.map((j) => {
    const c = counts.get(j.id);
    return { ...j, entered: c?.entered ?? 0, converted: c?.converted ?? 0 };
  });
}
