// issue 14, item 6: the funnel of personal links (PURLs) — made (the mail drop) → opened →
// form sent → the run that made the link reached its goal. Counted in Postgres from the links
// (their visit counter), the stored submissions and the runs' "converted" trace rows; nothing is
// loaded into JS but one row per group.
import type { Database } from "@postpath/db";

export interface LinkFunnel {
  /** Personal links made (cards in the mail drop). */
  links: number;
  /** Customers those links were made for. */
  customers: number;
  /** Links opened at least once (unique visits). */
  visited: number;
  /** Customers who opened at least one of their links. */
  visitors: number;
  /** Openings in all (total visits, reloads included). */
  visits: number;
  /**
   * Links whose form was started (a field took the focus; counted by the page's own stylesheet,
   * no script — browsers that do not load it are not counted).
   */
  started: number;
  /** Links with at least one form sent (a double click or replay is one submission). */
  submitted: number;
  /** Customers who sent a form through one of their links. */
  submitters: number;
  /** Form submissions in all. */
  submissions: number;
  /** Journey runs that made the links. */
  runs: number;
  /** Of those runs, the ones that reached the journey's goal. */
  reachedGoal: number;
}

export type LinkFunnelRow = LinkFunnel & { journeyId: string | null; stepId: string | null };

const EMPTY: LinkFunnel = {
  links: 0,
  customers: 0,
  visited: 0,
  visitors: 0,
  visits: 0,
  started: 0,
  submitted: 0,
  submitters: 0,
  submissions: 0,
  runs: 0,
  reachedGoal: 0,
};

export const emptyFunnel = (): LinkFunnel => ({ ...EMPTY });

/**
 * The funnel of the links a filter selects, grouped by the journey and step that made them when
 * `byStep` (else one row, journeyId/stepId null). Filters: the page the links lead to, the
 * journey and version (through the link's run), the steps that made them. `goal: false` leaves
 * out the goal (`reachedGoal` 0): it reads the runs' traces, which the canvas's frequent counts
 * do not need.
 */
export async function linkFunnel(
  db: Database,
  workspaceId: string,
  filter: { page?: string; journeyId?: string; versionId?: string; stepIds?: string[] },
  byStep = false,
  opts: { goal?: boolean } = {},
): Promise<LinkFunnelRow[]> {
  const params: unknown[] = [workspaceId];
  const arg = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = [`p."workspaceId" = $1`];
  if (filter.page !== undefined) where.push(`p.page = ${arg(filter.page)}`);
  if (filter.stepIds !== undefined) where.push(`p."stepId" = ANY(${arg(filter.stepIds)}::text[])`);
  let journey = `NULL::text`;
  let join = "";
  if (filter.journeyId !== undefined) {
    // The journey's runs as a semi-join (its unique index leads with journeyId).
    journey = `${arg(filter.journeyId)}::text`;
    where.push(
      `p."runId" IN (SELECT id FROM "JourneyRun" WHERE "journeyId" = ${journey}${
        filter.versionId !== undefined ? ` AND "versionId" = ${arg(filter.versionId)}` : ""
      })`,
    );
  } else if (byStep) {
    journey = `r."journeyId"`;
    join = `LEFT JOIN "JourneyRun" r ON r.id = p."runId"`;
  }
  const group = byStep
    ? `${journey} AS "journeyId", p."stepId" AS "stepId"`
    : `NULL::text AS "journeyId", NULL::text AS "stepId"`;
  const goal =
    opts.goal === false
      ? "false"
      : `EXISTS (SELECT 1 FROM "RunTrace" t WHERE t."runId" = p."runId" AND t.kind = 'converted')`;
  // One pass over the links (no materialised intermediate: ~10x faster on 100,000 links):
  // submissions and starts are hash-joined per link, the goal probes a partial index of
  // conversions ("RunTrace_converted_idx").
  return db.query<LinkFunnelRow>(
    `SELECT "journeyId", "stepId",
            count(*)::int AS links,
            count(DISTINCT "customerId")::int AS customers,
            (count(*) FILTER (WHERE visits > 0))::int AS visited,
            (count(DISTINCT "customerId") FILTER (WHERE visits > 0))::int AS visitors,
            COALESCE(sum(visits), 0)::int AS visits,
            (count(*) FILTER (WHERE started))::int AS started,
            (count(*) FILTER (WHERE subs > 0))::int AS submitted,
            (count(DISTINCT "customerId") FILTER (WHERE subs > 0))::int AS submitters,
            COALESCE(sum(subs), 0)::int AS submissions,
            count(DISTINCT "runId")::int AS runs,
            (count(DISTINCT "runId") FILTER (WHERE goal))::int AS "reachedGoal"
     FROM (
       SELECT ${group}, p."customerId", p."runId", p.visits, COALESCE(s.n, 0) AS subs,
              st.token IS NOT NULL AS started, ${goal} AS goal
       FROM "Purl" p ${join}
       LEFT JOIN (
         SELECT "purlToken" AS token, count(*)::int AS n FROM "FormSubmission"
         WHERE "workspaceId" = $1 GROUP BY 1
       ) s ON s.token = p.token
       LEFT JOIN (
         SELECT DISTINCT token FROM "FormStart" WHERE "workspaceId" = $1
       ) st ON st.token = p.token
       WHERE ${where.join(" AND ")}
     ) f
     GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
}

/** Visits and submissions per published version of a page (from PageVisit and FormSubmission). */
export async function pageVersionFunnel(
  db: Database,
  workspaceId: string,
  page: { id: string; slug: string },
): Promise<
  { version: number; visits: number; visitors: number; submissions: number; submitters: number }[]
> {
  return db.query(
    `WITH v AS (
       SELECT "pageVersion" AS version, count(*)::int AS visits,
              count(DISTINCT "customerId")::int AS visitors
       FROM "PageVisit" WHERE "workspaceId" = $1 AND page = $2 AND "pageVersion" IS NOT NULL
       GROUP BY 1
     ), s AS (
       SELECT pv.version, count(*)::int AS submissions,
              count(DISTINCT s."customerId")::int AS submitters
       FROM "FormSubmission" s JOIN "PageVersion" pv ON pv.id = s."pageVersionId"
       WHERE pv."pageId" = $3 AND s."workspaceId" = $1
       GROUP BY 1
     )
     SELECT pv.version, COALESCE(v.visits, 0) AS visits, COALESCE(v.visitors, 0) AS visitors,
            COALESCE(s.submissions, 0) AS submissions, COALESCE(s.submitters, 0) AS submitters
     FROM "PageVersion" pv
     LEFT JOIN v ON v.version = pv.version
     LEFT JOIN s ON s.version = pv.version
     WHERE pv."pageId" = $3
     ORDER BY pv.version DESC`,
    [workspaceId, page.slug, page.id],
  );
}

/**
 * The canvas's figures for the steps that made personal links (operate.nodeCounts, polled while
 * a journey is open): links made, opened (unique and total) and with a form sent, per step — no
 * distinct customers or goals, so one pass over the links and the workspace's submissions.
 */
export async function stepLinkCounts(
  db: Database,
  workspaceId: string,
  journeyId: string,
  stepIds: string[],
  versionId?: string,
): Promise<
  { stepId: string; links: number; visited: number; visits: number; submitted: number }[]
> {
  return db.query(
    `SELECT p."stepId", count(*)::int AS links, (count(*) FILTER (WHERE p.visits > 0))::int AS visited,
            COALESCE(sum(p.visits), 0)::int AS visits, count(s.token)::int AS submitted
     FROM "Purl" p
     LEFT JOIN (
       SELECT DISTINCT "purlToken" AS token FROM "FormSubmission" WHERE "workspaceId" = $1
     ) s ON s.token = p.token
     WHERE p."workspaceId" = $1 AND p."stepId" = ANY($2::text[])
       AND p."runId" IN (SELECT id FROM "JourneyRun" WHERE "journeyId" = $3 AND ($4::text IS NULL OR "versionId" = $4))
     GROUP BY 1`,
    [workspaceId, stepIds, journeyId, versionId ?? null],
  );
}
