// issue 16 (item 2): saved segments. Viewers read them (list, one with its rules in words, a
// customer's segments and lifecycle stage, the size preview); marketers create, change and delete
// them and tune the lifecycle stages. Definitions are checked by the shared zod schema (errors name
// the field), references must name segments of the same workspace without cycles, and a segment a
// live journey starts from cannot be deleted. Size previews run on the database within a statement
// timeout. Membership is computed by the engine's `segments` job.
import {
  isStatementTimeout,
  lifecycleSettingsOf,
  loadSegments,
  previewSegment,
  queueSegmentRefresh,
  savedSegmentTrigger,
  saveLifecycle,
  segmentsOfCustomer,
  loadPlan,
  forgetSegments,
  mintSegmentPurls,
  PREVIEW_TIMEOUT_MS,
} from "@postpath/engine";
import {
  describeRule,
  LIFECYCLE_STAGES,
  LifecycleSettings,
  lifecycleRuleWords,
  referencedSegments,
  SegmentDefinition,
  segmentGraphProblem,
} from "@postpath/journey";
import { Prisma } from "@postpath/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import type { ApiContext } from "../trpc.ts";
import { marketerProcedure, router, viewerProcedure } from "../trpc.ts";
import { IdText, Text } from "../zod.ts";

const Name = Text.trim()
  .min(1, { error: "name: enter a name for the segment." })
  .max(120, { error: "name: at most 120 characters." });
const Description = Text.max(1000, { error: "description: at most 1,000 characters." });

type Ctx = ApiContext & { user: NonNullable<ApiContext["user"]> };

async function segmentOr404(ctx: Ctx, id: string) {
  const s = await ctx.db.prisma.segment.findFirst({
    where: { id, workspaceId: ctx.user.workspaceId },
  });
  if (!s)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: "No segment with that id in this workspace.",
    });
  return s;
}

/** The workspace's definitions by id, for references (the one being saved replaced by `self`). */
async function definitionsOf(ctx: Ctx, self?: { id: string; definition: SegmentDefinition }) {
  const all = await loadSegments(ctx.engine, ctx.user.workspaceId, true);
  const map = new Map(all.map((s) => [s.id, { name: s.name, definition: s.definition }]));
  if (self) map.set(self.id, { name: map.get(self.id)?.name ?? "", definition: self.definition });
  return map;
}

/** References must exist in this workspace and not loop back; the message names the rule. */
function checkReferences(
  id: string | null,
  definition: SegmentDefinition,
  others: Map<string, { name: string; definition: SegmentDefinition }>,
): void {
  definition.rules.forEach((r, i) => {
    if (r.kind === "segment" && !others.has(r.segmentId))
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `definition.rules.${i}.segmentId: no segment with that id in this workspace.`,
      });
  });
  const problem = segmentGraphProblem(id, definition, others);
  if (problem)
    throw new TRPCError({ code: "BAD_REQUEST", message: `definition.rules: ${problem}` });
}

/** Live journeys whose segment trigger names this segment. */
async function journeysUsing(ctx: Ctx, segmentId: string): Promise<string[]> {
  const versions = await ctx.db.prisma.journeyVersion.findMany({
    where: {
      workspaceId: ctx.user.workspaceId,
      status: "LIVE",
      triggerType: "trigger.segment",
      journey: { status: { in: ["LIVE", "PAUSED"] } },
    },
    select: { id: true, journey: { select: { name: true } } },
  });
  const names: string[] = [];
  for (const v of versions) {
    try {
      if (savedSegmentTrigger(await loadPlan(ctx.engine, v.id))?.segmentId === segmentId)
        names.push(v.journey.name);
    } catch {
      // an unreadable plan uses nothing
    }
  }
  return names;
}

function words(definition: SegmentDefinition, names: Map<string, { name: string }>): string[] {
  return definition.rules.map((r) => describeRule(r, (id) => names.get(id)?.name ?? "(deleted)"));
}

function uniqueName(err: unknown): never {
  if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")
    throw new TRPCError({
      code: "CONFLICT",
      message: "name: another segment in this workspace already has that name.",
    });
  throw err;
}

export const segmentsRouter = router({
  /** Every saved segment with its size (members now) and rules in words. */
  list: viewerProcedure.query(async ({ ctx }) => {
    const ws = ctx.user.workspaceId;
    const rows = await ctx.db.prisma.segment.findMany({
      where: { workspaceId: ws },
      orderBy: [{ kind: "asc" }, { name: "asc" }],
    });
    const counts = await ctx.db.query<{ segmentId: string; n: number }>(
      `SELECT m."segmentId", count(*)::int AS n FROM "SegmentMembership" m
       JOIN "Segment" s ON s.id = m."segmentId" WHERE s."workspaceId" = $1 GROUP BY m."segmentId"`,
      [ws],
    );
    const size = new Map(counts.map((c) => [c.segmentId, c.n]));
    const names = new Map(rows.map((r) => [r.id, { name: r.name }]));
    return rows.map((r) => {
      const d = SegmentDefinition.safeParse(r.definition);
      return {
        id: r.id,
        name: r.name,
        description: r.description,
        kind: r.kind as "custom" | "lifecycle",
        stage: r.stage,
        members: size.get(r.id) ?? 0,
        rules: d.success ? words(d.data, names) : [],
        match: d.success ? d.data.match : "all",
        updatedAt: r.updatedAt,
      };
    });
  }),

  get: viewerProcedure.input(z.object({ id: IdText("id") })).query(async ({ ctx, input }) => {
    const s = await segmentOr404(ctx, input.id);
    const d = SegmentDefinition.safeParse(s.definition);
    const all = await definitionsOf(ctx);
    const members = await ctx.db.prisma.segmentMembership.count({ where: { segmentId: s.id } });
    return {
      id: s.id,
      name: s.name,
      description: s.description,
      kind: s.kind as "custom" | "lifecycle",
      stage: s.stage,
      definition: d.success ? d.data : null,
      rules: d.success ? words(d.data, all) : [],
      members,
      usedBy: await journeysUsing(ctx, s.id),
      updatedAt: s.updatedAt,
    };
  }),

  create: marketerProcedure
    .input(
      z.object({ name: Name, description: Description.default(""), definition: SegmentDefinition }),
    )
    .mutation(async ({ ctx, input }) => {
      checkReferences(null, input.definition, await definitionsOf(ctx));
      const s = await ctx.db.prisma.segment
        .create({
          data: {
            workspaceId: ctx.user.workspaceId,
            name: input.name,
            description: input.description,
            definition: input.definition as unknown as Prisma.InputJsonValue,
          },
        })
        .catch(uniqueName);
      await recordAudit(
        ctx.db,
        ctx.user,
        "segment.create",
        { type: "segment", id: s.id },
        {
          name: s.name,
        },
      );
      await queueSegmentRefresh(ctx.engine, ctx.user.workspaceId, s.id);
      return { id: s.id };
    }),

  update: marketerProcedure
    .input(
      z.object({
        id: IdText("id"),
        name: Name.optional(),
        description: Description.optional(),
        definition: SegmentDefinition.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const s = await segmentOr404(ctx, input.id);
      if (s.kind === "lifecycle" && (input.definition || input.name))
        throw new TRPCError({
          code: "BAD_REQUEST",
          message:
            "definition: a lifecycle stage is built in; change its rules in the lifecycle settings.",
        });
      if (input.definition)
        checkReferences(
          s.id,
          input.definition,
          await definitionsOf(ctx, { id: s.id, definition: input.definition }),
        );
      await ctx.db.prisma.segment
        .update({
          where: { id: s.id },
          data: {
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.definition
              ? { definition: input.definition as unknown as Prisma.InputJsonValue }
              : {}),
          },
        })
        .catch(uniqueName);
      await recordAudit(
        ctx.db,
        ctx.user,
        "segment.update",
        { type: "segment", id: s.id },
        {
          definition: Boolean(input.definition),
        },
      );
      if (input.definition) await queueSegmentRefresh(ctx.engine, ctx.user.workspaceId, s.id);
      else forgetSegments(ctx.user.workspaceId);
      return { id: s.id };
    }),

  /** Refused while a live journey starts from it or another segment includes it (both named). */
  delete: marketerProcedure
    .input(z.object({ id: IdText("id") }))
    .mutation(async ({ ctx, input }) => {
      const s = await segmentOr404(ctx, input.id);
      if (s.kind === "lifecycle")
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: "id: lifecycle stages are built in and cannot be deleted.",
        });
      const journeys = await journeysUsing(ctx, s.id);
      if (journeys.length > 0)
        throw new TRPCError({
          code: "CONFLICT",
          message: `The live journey${journeys.length > 1 ? "s" : ""} ${journeys.map((j) => `"${j}"`).join(", ")} start${journeys.length > 1 ? "" : "s"} from this segment: change or stop ${journeys.length > 1 ? "them" : "it"} first.`,
        });
      const others = await definitionsOf(ctx);
      const including = [...others.entries()]
        .filter(([id, o]) => id !== s.id && referencedSegments(o.definition).includes(s.id))
        .map(([, o]) => `"${o.name}"`);
      if (including.length > 0)
        throw new TRPCError({
          code: "CONFLICT",
          message: `The segment ${including.join(", ")} includes this one: change it first.`,
        });
      await ctx.db.prisma.segment.delete({ where: { id: s.id } });
      forgetSegments(ctx.user.workspaceId);
      await recordAudit(
        ctx.db,
        ctx.user,
        "segment.delete",
        { type: "segment", id: s.id },
        {
          name: s.name,
        },
      );
      return { deleted: true };
    }),

  /** Size and 20 sample customers of a definition being edited, computed by Postgres. */
  preview: viewerProcedure
    .input(z.object({ definition: SegmentDefinition, id: IdText("id").optional() }))
    .query(async ({ ctx, input }) => {
      // The segment being edited must be this workspace's (another's id: not found, as elsewhere).
      if (input.id) await segmentOr404(ctx, input.id);
      const all = await definitionsOf(
        ctx,
        input.id ? { id: input.id, definition: input.definition } : undefined,
      );
      checkReferences(input.id ?? null, input.definition, all);
      try {
        return await previewSegment(
          ctx.engine,
          ctx.user.workspaceId,
          input.definition,
          (id) => all.get(id)?.definition,
          { ...(input.id ? { self: input.id } : {}), timeoutMs: PREVIEW_TIMEOUT_MS },
        );
      } catch (err) {
        if (isStatementTimeout(err))
          throw new TRPCError({
            code: "TIMEOUT",
            message: `definition: counting this segment took longer than ${PREVIEW_TIMEOUT_MS / 1000} s; narrow it (a shorter window, an event filter) and try again.`,
          });
        throw err;
      }
    }),

  /** A customer's segments and lifecycle stage (the profile page). */
  ofCustomer: viewerProcedure
    .input(z.object({ customerId: IdText("customerId") }))
    .query(async ({ ctx, input }) => {
      const c = await ctx.db.prisma.customer.findFirst({
        where: { id: input.customerId, workspaceId: ctx.user.workspaceId },
        select: { id: true },
      });
      if (!c)
        throw new TRPCError({
          code: "NOT_FOUND",
          message: "No customer with that id in this workspace.",
        });
      return segmentsOfCustomer(ctx.engine, ctx.user.workspaceId, c.id);
    }),

  /**
   * issue 14 item 5: a print run from a segment — one personal URL for `page` per member (a re-run
   * of the same drop mints only for new members); the CSV and PDF proof are the server's
   * `/exports/segments/:id/drops/:drop/pages/:page/…` downloads.
   */
  mintPurls: marketerProcedure
    .input(
      z.object({
        id: IdText("id"),
        page: Text.trim().min(1, { error: "page: choose a page." }).max(200),
        drop: Text.trim()
          .min(1, { error: "drop: name the mail drop." })
          .max(60, { error: "drop: at most 60 characters." })
          .regex(/^[A-Za-z0-9 _.-]+$/, {
            error: "drop: letters, digits, spaces, dots, dashes and underscores only.",
          })
          .default("main"),
        expiresInDays: z
          .number({ error: "expiresInDays: enter a number of days." })
          .int({ error: "expiresInDays: a whole number of days." })
          .min(1, { error: "expiresInDays: at least 1 day." })
          .max(3650, { error: "expiresInDays: at most 3650 days." })
          .optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const s = await segmentOr404(ctx, input.id);
      const page = await ctx.db.prisma.page.findFirst({
        where: { workspaceId: ctx.user.workspaceId, slug: input.page },
        select: { slug: true, publishedVersion: true },
      });
      if (!page)
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: "page: no page with that address in this workspace.",
        });
      const result = await mintSegmentPurls(ctx.engine, {
        workspaceId: ctx.user.workspaceId,
        segmentId: s.id,
        page: page.slug,
        drop: input.drop,
        expiresAt: input.expiresInDays
          ? new Date(ctx.engine.now() + input.expiresInDays * 86_400_000)
          : null,
      });
      await recordAudit(
        ctx.db,
        ctx.user,
        "printRun.mint",
        { type: "segment", id: s.id },
        {
          page: page.slug,
          drop: input.drop,
          created: result.created,
        },
      );
      return {
        ...result,
        drop: input.drop,
        page: page.slug,
        published: page.publishedVersion !== null,
      };
    }),

  lifecycle: router({
    /** The rules (defaults until tuned), each stage's rule in words and its segment. */
    get: viewerProcedure.query(async ({ ctx }) => {
      const settings = await lifecycleSettingsOf(ctx.engine, ctx.user.workspaceId);
      const segs = await ctx.db.prisma.segment.findMany({
        where: { workspaceId: ctx.user.workspaceId, kind: "lifecycle" },
        select: { id: true, stage: true, _count: { select: { members: true } } },
      });
      const words = lifecycleRuleWords(settings);
      return {
        settings,
        enabled: segs.length > 0,
        stages: LIFECYCLE_STAGES.map((stage) => {
          const s = segs.find((x) => x.stage === stage);
          return {
            stage,
            rule: words[stage],
            segmentId: s?.id ?? null,
            members: s?._count.members ?? 0,
          };
        }),
      };
    }),
    /** Saves the rules and rewrites the five stage segments; their membership follows. */
    set: marketerProcedure.input(LifecycleSettings).mutation(async ({ ctx, input }) => {
      const ids = await saveLifecycle(ctx.engine, ctx.user.workspaceId, input);
      await recordAudit(
        ctx.db,
        ctx.user,
        "segment.lifecycle",
        { type: "workspace", id: ctx.user.workspaceId },
        {
          event: input.event,
        },
      );
      for (const id of Object.values(ids))
        await queueSegmentRefresh(ctx.engine, ctx.user.workspaceId, id);
      return { segmentIds: ids };
    }),
  }),
});
