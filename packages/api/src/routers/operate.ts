// Operating live journeys (engine issue): pause / resume / stop, per-node counts for the canvas
// overlay, a customer's runs with their traces, and manual/bulk enrolment with progress.
// Handlers are thin: the engine does the work and throws OperateError, mapped here to TRPCError.
import {
  customerRuns,
  enrolmentProgress,
  nodeCounts,
  OperateError,
  pauseJourney,
  resumeJourney,
  startEnrolment,
  stopJourney,
} from "@postpath/engine";
import { Condition, MatchMode } from "@postpath/journey";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import {
  marketerProcedure,
  router,
  viewerProcedure,
  type ApiContext,
  type SessionUser,
} from "../trpc.ts";
import { IdText, Text } from "../zod.ts";
import { RUN_STATUS_WORDS, stepNames, traceWords, untilOf } from "./customers.words.ts";

const JourneyId = z.object({ journeyId: IdText("journeyId") });

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof OperateError) throw new TRPCError({ code: err.code, message: err.message });
    throw err;
  }
}

/** Runs an operation and, once it succeeded, records who did it in the audit log. */
async function audited<T extends { status: string }>(
  ctx: { db: ApiContext["db"]; user: SessionUser },
  action: string,
  journeyId: string,
  fn: () => Promise<T>,
): Promise<T> {
  const result = await mapped(fn);
  await recordAudit(
    ctx.db,
    ctx.user,
    action,
    { type: "Journey", id: journeyId },
    { status: result.status },
  );
  return result;
}

export const operateRouter = router({
  pause: marketerProcedure
    .input(JourneyId)
    .mutation(({ ctx, input }) =>
      audited(ctx, "journey.pause", input.journeyId, () =>
        pauseJourney(ctx.engine, ctx.user.workspaceId, input.journeyId),
      ),
    ),

  resume: marketerProcedure
    .input(JourneyId)
    .mutation(({ ctx, input }) =>
      audited(ctx, "journey.resume", input.journeyId, () =>
        resumeJourney(ctx.engine, ctx.user.workspaceId, input.journeyId),
      ),
    ),

  /** Exits every run in flight (each gets a "run.exited" trace: journey stopped). */
  stop: marketerProcedure.input(JourneyId).mutation(({ ctx, input }) =>
    audited(ctx, "journey.stop", input.journeyId, async () => ({
      status: (await stopJourney(ctx.engine, ctx.user.workspaceId, input.journeyId)).status,
    })),
  ),

  nodeCounts: viewerProcedure
    .input(JourneyId.extend({ versionId: IdText("versionId").optional() }))
    .query(({ ctx, input }) =>
      mapped(() => nodeCounts(ctx.engine, ctx.user.workspaceId, input.journeyId, input.versionId)),
    ),

  customerRuns: viewerProcedure
    .input(
      JourneyId.extend({
        customer: Text.trim().min(1, "Enter the customer's id or e-mail address.").max(255),
      }),
    )
    .query(async ({ ctx, input }) => {
      const runs = await mapped(() =>
        customerRuns(ctx.engine, ctx.user.workspaceId, input.journeyId, input.customer),
      );
      // issue 18: the live trace in words, with the steps' names as drawn on the canvas (the
      // raw kind, step id and detail stay for "Show on canvas").
      const versions = await ctx.db.prisma.journeyVersion.findMany({
        where: {
          id: { in: [...new Set(runs.map((r) => r.versionId))] },
          workspaceId: ctx.user.workspaceId,
        },
        select: { id: true, plan: true, document: true },
      });
      const namesOf = new Map(versions.map((v) => [v.id, stepNames(v.plan, v.document)]));
      return runs.map((r) => {
        const names = namesOf.get(r.versionId) ?? new Map<string, string>();
        const nameOf = (id: string | null) => (id ? (names.get(id) ?? null) : null);
        return {
          ...r,
          statusWords: RUN_STATUS_WORDS[r.status] ?? r.status,
          currentStep: nameOf(r.currentStepId),
          traces: r.traces.map((t) => ({
            ...t,
            stepName: nameOf(t.stepId),
            text: traceWords(t.kind, t.detail, nameOf(t.stepId), nameOf),
            until: untilOf(t.detail),
          })),
        };
      });
    }),

  enrol: marketerProcedure
    .input(
      JourneyId.extend({
        externalIds: z
          .array(Text.trim().min(1, "Enter a customer id.").max(255))
          .min(1, "List at least one customer.")
          .max(100_000)
          .optional(),
        segment: z
          .object({
            conditions: z.array(Condition).min(1, "Add at least one condition."),
            match: MatchMode.default("all"),
          })
          .optional(),
        properties: z.record(Text, z.unknown()).optional(),
      }).refine((i) => Boolean(i.externalIds) !== Boolean(i.segment), {
        message: "Choose customers by id or by segment (one of the two).",
      }),
    )
    .mutation(({ ctx, input }) =>
      mapped(async () => {
        const { enrolmentId } = await startEnrolment(ctx.engine, {
          workspaceId: ctx.user.workspaceId,
          journeyId: input.journeyId,
          criteria: {
            externalIds: input.externalIds,
            segment: input.segment,
            properties: input.properties ?? {},
          },
          createdById: ctx.user.id,
        });
        return { enrolmentId };
      }),
    ),

  enrolment: viewerProcedure
    .input(z.object({ enrolmentId: IdText("enrolmentId") }))
    .query(({ ctx, input }) =>
      mapped(async () => {
        const p = await enrolmentProgress(ctx.engine, ctx.user.workspaceId, input.enrolmentId);
        return {
          done: p.done,
          total: p.total,
          status: p.status,
          enrolled: p.enrolled,
          skipped: p.skipped,
          error: p.error,
        };
      }),
    ),
});
