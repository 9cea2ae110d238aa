// issue 18, item 2: the preview of a live edit — who is where in the journey's live versions right
// now, counted in Postgres (the (versionId, status, currentStepId) index), with a sample of the
// customers at each step, then @postpath/journey's previewMigration says where each group goes.
import type { Database } from "@postpath/db";
import {
  previewMigration,
  type MigrationChoices,
  type MigrationPreview,
  type Plan,
  type StepPopulation,
  type VersionInfo,
} from "@postpath/journey";
import { parsePlan } from "@postpath/journey";

/** Customers shown per step in the preview (the full list is a download). */
export const MIGRATION_SAMPLE = 5;

/** Step names as drawn, from a canvas document's nodes (`data.label`). */
export function labelsOf(document: unknown): Record<string, string> {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return {};
  const labels: Record<string, string> = {};
  for (const n of nodes as { id?: unknown; data?: { label?: unknown } }[])
    if (typeof n.id === "string" && typeof n.data?.label === "string" && n.data.label.trim())
      labels[n.id] = n.data.label.trim();
  return labels;
}

export interface MigrationSample {
  versionId: string;
  stepId: string;
  customers: { id: string; externalId: string; email: string | null }[];
}

export type MigrationPreviewResult = MigrationPreview & { samples: MigrationSample[] };

export async function migrationPreview(
  db: Database,
  journeyId: string,
  next: { plan: Plan; labels: Record<string, string> },
  choices: MigrationChoices,
): Promise<MigrationPreviewResult> {
  const versions = await db.prisma.journeyVersion.findMany({
    where: { journeyId },
    select: { id: true, version: true, plan: true, document: true },
  });
  const populations = await db.query<StepPopulation>(
    `SELECT "versionId", "currentStepId" AS "stepId",
            count(*) FILTER (WHERE status = 'WAITING' AND "parkedEvent" IS NULL)::int AS waiting,
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
