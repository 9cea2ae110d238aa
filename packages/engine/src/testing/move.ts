// Issue 18 tests: a move of the runs in flight, as migration.publish starts one — the migration row
// (its total counted from the runs there now), queued for the workers, waited for until done.
import type { MigrationChoices } from "@postpath/journey";
import { enqueueMigration, type StoredChoices } from "../move.ts";
import { runProgress, waitFor, type EngineHarness } from "./harness.ts";

export async function moveRuns(
  h: EngineHarness,
  journeyId: string,
  from: string[],
  to: string,
  choices: MigrationChoices,
  labels: Record<string, string> = {},
) {
  const m = await h.db.prisma.journeyMigration.create({
    data: {
      workspaceId: h.workspaceId,
      journeyId,
      fromVersionIds: from,
      toVersionId: to,
      choices: { ...choices, labels } satisfies StoredChoices,
      total: await h.db.prisma.journeyRun.count({
        where: { versionId: { in: from }, status: { in: ["ACTIVE", "WAITING"] } },
      }),
    },
  });
  await enqueueMigration(h.ctx, m.id, 0);
  return waitFor(
    "the migration to finish",
    async () => {
      const r = await h.db.prisma.journeyMigration.findUniqueOrThrow({ where: { id: m.id } });
      return r.status === "DONE" ? r : null;
    },
    { progress: () => runProgress(h.db, journeyId) },
  );
}
