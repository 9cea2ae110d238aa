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
 * journey (through the link's run), the steps that made them.
 */
export async function linkFunnel(
  db: Database,
  workspaceId: string,
  filter: { page?: string; journeyId?: string; versionId?: string; stepIds?: string[] },
  byStep = false,
): Promise<LinkFunnelRow[]> {
  const params: unknown[] = [workspaceId];
  const where = [`p."workspaceId" = $1`];
  if (filter.page !== undefined) {
    params.push(filter.page);
    where.push(`p.page = $${params.length}`);
  }
  if (filter.stepIds !== undefined) {
    params.push(filter.stepIds);
    where.push(`p."stepId" = ANY($${params.length}::text[])`);
  }
  if (filter.journeyId !== undefined) {
    params.push(filter.journeyId);
    where.push(`r."journeyId" = $${params.length}`);
  }
  if (filter.versionId !== undefined) {
    params.push(filter.versionId);
    where.push(`r."versionId" = $${params.length}`);
  }
  const group = byStep
    ? `r."journeyId" AS "journeyId", p."stepId" AS "stepId"`
    : `NULL::text AS "journeyId", NULL::text AS "stepId"`;
  const rows = await db.query<LinkFunnelRow>(
    `WITH l AS (
       SELECT p.token, p."customerId", p."runId", p.visits, ${group}
       FROM "Purl" p LEFT JOIN "JourneyRun" r ON r.id = p."runId"
       WHERE ${where.join(" AND ")}
     ), f AS (
       SELECT l.*, sub.n AS subs,
              EXISTS (SELECT 1 FROM "FormStart" fs WHERE fs.token = l.token) AS started,
              EXISTS (SELECT 1 FROM "RunTrace" t WHERE t."runId" = l."runId" AND t.kind = 'converted') AS goal
       FROM l CROSS JOIN LATERAL (
         SELECT count(*)::int AS n FROM "FormSubmission" s
         WHERE s."purlToken" = l.token AND s."workspaceId" = $1
       ) sub
     )
     SELECT "journeyId", "stepId",
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
     FROM f GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  return rows;
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
