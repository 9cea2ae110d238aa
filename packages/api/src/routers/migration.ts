// Editing a live journey (issue 18): `preview` shows, before publishing the saved draft, where the
// customers already inside would go — per step of the live versions, counted now; `publish`
// publishes with the marketer's choice (keep them on their version, or move them) after checking,
// in the publishing transaction, that the counts the marketer saw still hold; `progress` follows
// the move the workers make; `customers` pages through the full list (the dialog's download).
import { countChanges, compile, type MigrationChoices } from "@postpath/journey";
import {
  enqueueMigration,
  labelsOf,
  latestMigration,
  migrationCustomers,
  migrationPreview,
  MIGRATION_LIST_PAGE,
  previewDbOf,
  type StoredChoices,
} from "@postpath/engine";
import type { Prisma } from "@postpath/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { marketerProcedure, router, viewerProcedure, type ApiContext } from "../trpc.ts";
import { IdText } from "../zod.ts";
import { connectionBounds } from "./journeys.connections.ts";
import { insertVersion } from "./journeys.ts";

const Choices = z.object({
  mode: z.enum(["keep", "move"], {
    error: "Choose whether customers stay on their version or move.",
  }),
  /** Per deleted step: a step id of the new version, or null to let its customers leave. */
  deletedSteps: z.record(IdText("deletedSteps"), IdText("deletedSteps").nullable()).default({}),
  changedWaits: z.enum(["keepDueTime", "fromStart"]).default("keepDueTime"),
});

/** The counts the marketer saw in the preview (per version and step). */
const Seen = z
  .array(
    z.object({
      versionId: IdText("seen.versionId"),
      stepId: IdText("seen.stepId"),
      customers: z.number().int().min(0),
    }),
  )
  .max(5000, "Too many preview lines: review the preview again.");

async function draftOf(
  ctx: { db: ApiContext["db"]; keyring?: ApiContext["keyring"] },
  journeyId: string,
  workspaceId: string,
  strict: boolean,
) {
  const j = await ctx.db.prisma.journey.findFirst({
    where: { id: journeyId, workspaceId },
    select: { id: true, workspaceId: true, draft: true },
  });
  if (!j) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
  const compiled = strict
    ? compile(j.draft, await connectionBounds(ctx.db, ctx.keyring, workspaceId))
    : compile(j.draft);
  if (!compiled.ok)
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: "The draft has errors to fix before it can be published.",
      cause: Object.assign(new Error("invalid journey"), { issues: compiled.errors }),
    });
  return { j, plan: compiled.plan, labels: labelsOf(j.draft) };
}

const listOf = (xs: string[]) =>
  xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} and ${xs.at(-1)}`;

export const migrationRouter = router({
  preview: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId"), choices: Choices }))
    .query(async ({ ctx, input }) => {
      const { j, plan, labels } = await draftOf(ctx, input.journeyId, ctx.user.workspaceId, false);
      return migrationPreview(ctx.db, j.id, { plan, labels }, input.choices);
    }),

  /**
   * Publishes the saved draft with the marketer's choice for the customers already inside. Moving
   * them: the counts the preview showed (`seen`) are counted again in the publishing transaction,
   * and a difference refuses the publish with the new numbers (CONFLICT); every deleted step with
   * customers needs a choice (a step, or leaving); then a worker job moves them in batches.
   */
  publish: marketerProcedure
    .input(z.object({ journeyId: IdText("journeyId"), choices: Choices, seen: Seen.default([]) }))
    .mutation(async ({ ctx, input }) => {
      const { j, plan, labels } = await draftOf(ctx, input.journeyId, ctx.user.workspaceId, true);
      const choices: MigrationChoices = input.choices;
      const published = await ctx.db.prisma.$transaction(async (tx) => {
        // The journey row first: two publishes (or a publish and a preview check) queue here.
        await tx.$executeRaw`SELECT id FROM "Journey" WHERE id = ${j.id} FOR UPDATE`;
        let migration: { id: string } | null = null;
        if (choices.mode === "move") {
          const preview = await migrationPreview(previewDbOf(tx), j.id, { plan, labels }, choices);
          const changes = countChanges(input.seen, preview.lines);
          if (changes.length > 0)
            throw new TRPCError({
              code: "CONFLICT",
              message: `The numbers changed: ${listOf(changes.slice(0, 3))}${changes.length > 3 ? ` (and ${changes.length - 3} more)` : ""} — review the preview again.`,
            });
          const byStep = new Map(preview.lines.map((l) => [l.stepId, l]));
          const name = (id: string) => byStep.get(id)?.label ?? id;
          if (preview.invalidTargets.length > 0)
            throw new TRPCError({
              code: "BAD_REQUEST",
              message: `Choose a step of the new version for the customers at ${listOf(preview.invalidTargets.map(name))}: the step chosen is not in it.`,
            });
          if (preview.unmapped.length > 0)
            throw new TRPCError({
              code: "BAD_REQUEST",
              message: `Choose where the customers at ${listOf(preview.unmapped.map(name))} (${preview.unmapped.length === 1 ? "a deleted step" : "deleted steps"}) go: a step of the new version, or let them leave the journey.`,
            });
          const v = await insertVersion(tx, j, plan, ctx.user.id);
          if (preview.customers > 0) {
            const stored: StoredChoices = { ...choices, labels };
            migration = await tx.journeyMigration.create({
              data: {
                workspaceId: j.workspaceId,
                journeyId: j.id,
                fromVersionIds: [...new Set(preview.lines.map((l) => l.versionId))],
                toVersionId: v.id,
                choices: stored as unknown as Prisma.InputJsonValue,
                total: preview.customers,
                createdById: ctx.user.id,
              },
              select: { id: true },
            });
          }
          return { versionId: v.id, version: v.version, migrationId: migration?.id ?? null };
        }
        const v = await insertVersion(tx, j, plan, ctx.user.id);
        return { versionId: v.id, version: v.version, migrationId: null };
      });
      // After the commit: the job finds its row. A lost enqueue is repaired by `progress`.
      if (published.migrationId) await enqueueMigration(ctx.engine, published.migrationId, 0);
      return published;
    }),

  /** The journey's latest move of customers to a new version, as it goes. */
  progress: viewerProcedure
    .input(z.object({ journeyId: IdText("journeyId") }))
    .query(async ({ ctx, input }) => {
      const j = await ctx.db.prisma.journey.findFirst({
        where: { id: input.journeyId, workspaceId: ctx.user.workspaceId },
        select: { id: true },
      });
      if (!j) throw new TRPCError({ code: "NOT_FOUND", message: "No such journey." });
      const m = await latestMigration(ctx.engine, j.id);
      // A job lost between the publish's commit and its enqueue (or to Redis): asked for again.
      if (m?.status === "RUNNING")
        await enqueueMigration(ctx.engine, m.id, m.pass).catch(() => undefined);
      return m;
    }),

  /** The customers in flight and where they would go, a page at a time (the full list's CSV). */
  customers: viewerProcedure
    .input(
      z.object({
        journeyId: IdText("journeyId"),
        choices: Choices,
        after: IdText("after").nullish(),
        limit: z.number().int().min(1).max(MIGRATION_LIST_PAGE).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { j, plan, labels } = await draftOf(ctx, input.journeyId, ctx.user.workspaceId, false);
      return migrationCustomers(ctx.db, j.id, { plan, labels }, input.choices, {
        after: input.after ?? null,
        ...(input.limit ? { limit: input.limit } : {}),
      });
    }),
});
