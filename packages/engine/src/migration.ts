// issue 18, item 2: the preview of a live edit — who is where in the journey's live versions right
// now, counted in Postgres (the (versionId, status, currentStepId) index), with a sample of the
// customers at each step, then @postpath/journey's previewMigration says where each group goes.
import type { Prisma } from "@postpath/db";
import {
  previewMigration,
  type MigrationChoices,
  type MigrationPreview,
  type Plan,
  type StepPopulation,
  type VersionInfo,
} from "@postpath/journey";
import { destinationOf, parsePlan, registry } from "@postpath/journey";

/** Customers shown per step in the preview (the full list is a download). */
export const MIGRATION_SAMPLE = 5;

/**
 * Step names as drawn, from a canvas document's nodes (`data.label`); a step without one is named
 * by its kind as the canvas shows it ("Send email"), with its id when two share that name.
 */
export function labelsOf(document: unknown): Record<string, string> {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return {};
  const labels: Record<string, string> = {};
  const unnamed: [string, string][] = [];
  for (const n of nodes as { id?: unknown; type?: unknown; data?: { label?: unknown } }[]) {
    if (typeof n.id !== "string") continue;
    if (typeof n.data?.label === "string" && n.data.label.trim())
      labels[n.id] = n.data.label.trim();
    else if (typeof n.type === "string" && n.type in registry)
      unnamed.push([n.id, registry[n.type as keyof typeof registry].label]);
  }
  const taken = Object.values(labels);
  for (const [id, name] of unnamed)
    labels[id] =
      unnamed.filter(([, other]) => other === name).length > 1 || taken.includes(name)
        ? `${name} (${id})`
        : name;
  return labels;
}

export interface MigrationSample {
  versionId: string;
  stepId: string;
  customers: { id: string; externalId: string; email: string | null }[];
}

export type MigrationPreviewResult = MigrationPreview & { samples: MigrationSample[] };

/** What the preview reads through: the database, or the publish transaction (its counts then
 * hold for the version it publishes). */
export interface PreviewDb {
  prisma: Prisma.TransactionClient;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A transaction as a PreviewDb. */
export function previewDbOf(tx: Prisma.TransactionClient): PreviewDb {
  return {
    prisma: tx,
    query: <T>(sql: string, params: unknown[] = []) => tx.$queryRawUnsafe<T[]>(sql, ...params),
  };
}

export async function migrationPreview(
  db: PreviewDb,
  journeyId: string,
  next: { plan: Plan; labels: Record<string, string> },
  choices: MigrationChoices,
): Promise<MigrationPreviewResult> {
  const versions = await db.prisma.journeyVersion.findMany({
    where: { journeyId },
    select: { id: true, version: true, plan: true, document: true },
    orderBy: { version: "asc" },
  });
  const populations = await db.query<StepPopulation>(
    `SELECT "versionId", "currentStepId" AS "stepId",
            count(*) FILTER (WHERE status = 'WAITING' AND "parkedEvent" IS NULL
                             AND (state->>'held') IS DISTINCT FROM 'true')::int AS waiting,
            count(*) FILTER (WHERE status = 'WAITING' AND "parkedEvent" IS NULL
                             AND state->>'held' = 'true')::int AS held,
            count(*) FILTER (WHERE status = 'WAITING' AND "parkedEvent" IS NOT NULL)::int AS parked,
            count(*) FILTER (WHERE status = 'ACTIVE')::int AS active
     FROM "JourneyRun"
     WHERE "versionId" = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING') AND "currentStepId" IS NOT NULL
     GROUP BY 1, 2 ORDER BY 1, 2`,
    [versions.map((v) => v.id)],
  );
  const info: Record<string, VersionInfo> = {};
  for (const v of versions)
    info[v.id] = { version: v.version, plan: parsePlan(v.plan), labels: labelsOf(v.document) };
  const nextVersion = Math.max(0, ...versions.map((v) => v.version)) + 1;
  const preview = previewMigration({
    versions: info,
    next: next.plan,
    nextLabels: next.labels,
    nextVersion,
    populations,
    choices,
  });
  const sampled = await db.query<{
    versionId: string;
    stepId: string;
    id: string;
    externalId: string;
    email: string | null;
  }>(
    `SELECT s."versionId", s."currentStepId" AS "stepId", c.id, c."externalId", c.email
     FROM (SELECT DISTINCT "versionId", "currentStepId" FROM "JourneyRun"
           WHERE "versionId" = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING')) s
     CROSS JOIN LATERAL (
       SELECT r."customerId" FROM "JourneyRun" r
       WHERE r."versionId" = s."versionId" AND r.status IN ('ACTIVE', 'WAITING')
         AND r."currentStepId" = s."currentStepId"
       ORDER BY r."startedAt" LIMIT $2
     ) r
     JOIN "Customer" c ON c.id = r."customerId"`,
    [versions.map((v) => v.id), MIGRATION_SAMPLE],
  );
  const samples: MigrationSample[] = preview.lines.map((l) => ({
    versionId: l.versionId,
    stepId: l.stepId,
    customers: sampled
      .filter((s) => s.versionId === l.versionId && s.stepId === l.stepId)
      .map(({ id, externalId, email }) => ({ id, externalId, email })),
  }));
  return { ...preview, samples };
}

// issue 18, item 3: the move itself (exported with the preview).
export * from "./move.ts";

/** One customer of the full list ("Download the full list"). */
export interface MigrationCustomer {
  runId: string;
  externalId: string;
  email: string | null;
  version: number;
  step: string;
  status: "waiting" | "waiting for an event" | "held by quiet hours" | "in progress";
  goes: string;
}

/** Rows per page of the full list (the download pages through them). */
export const MIGRATION_LIST_PAGE = 1000;

/**
 * The customers in flight on the journey's versions, a keyset page (by run id) at a time, each with
 * where the choices send them.
 */
export async function migrationCustomers(
  db: PreviewDb,
  journeyId: string,
  next: { plan: Plan; labels: Record<string, string> },
  choices: MigrationChoices,
  page: { after?: string | null; limit?: number } = {},
): Promise<{ rows: MigrationCustomer[]; next: string | null }> {
  const limit = Math.min(Math.max(page.limit ?? MIGRATION_LIST_PAGE, 1), MIGRATION_LIST_PAGE);
  const versions = await db.prisma.journeyVersion.findMany({
    where: { journeyId },
    select: { id: true, version: true, plan: true, document: true },
  });
  const info = new Map(
    versions.map((v) => [
      v.id,
      { version: v.version, plan: parsePlan(v.plan), labels: labelsOf(v.document) },
    ]),
  );
  const runs = await db.query<{
    id: string;
    versionId: string;
    stepId: string;
    status: string;
    parked: boolean;
    held: boolean | null;
    externalId: string;
    email: string | null;
  }>(
    `SELECT r.id, r."versionId", r."currentStepId" AS "stepId", r.status::text AS status,
            (r."parkedEvent" IS NOT NULL) AS parked, (r.state->>'held' = 'true') AS held,
            c."externalId", c.email
     FROM "JourneyRun" r JOIN "Customer" c ON c.id = r."customerId"
     WHERE r."versionId" = ANY($1::text[]) AND r.status IN ('ACTIVE', 'WAITING')
       AND r."currentStepId" IS NOT NULL AND r.id > $2
     ORDER BY r.id LIMIT $3`,
    [versions.map((v) => v.id), page.after ?? "", limit],
  );
  const rows = runs.map((r): MigrationCustomer => {
    const v = info.get(r.versionId);
    const label = v?.labels[r.stepId] ?? r.stepId;
    let goes = `stays on version ${v?.version ?? "?"}`;
    if (choices.mode === "move" && v) {
      const d = destinationOf(v.plan, next.plan, r.stepId, choices);
      goes =
        d.kind === "same"
          ? "same step"
          : d.kind === "exit"
            ? "leaves the journey"
            : d.kind === "step"
              ? (next.labels[d.stepId] ?? d.stepId)
              : "no step chosen yet";
    }
    return {
      runId: r.id,
      externalId: r.externalId,
      email: r.email,
      version: v?.version ?? 0,
      step: label,
      status:
        r.status === "ACTIVE"
          ? "in progress"
          : r.parked
            ? "waiting for an event"
            : r.held
              ? "held by quiet hours"
              : "waiting",
      goes,
    };
  });
  return { rows, next: rows.length === limit ? rows.at(-1)!.runId : null };
}
