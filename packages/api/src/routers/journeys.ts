import { Prisma, type JourneyStatus } from "@postpath/db";
import {
  compile,
  draftFromSteps,
  isWarning,
  JourneyDraft,
  parsePlan,
  PlanError,
  templates,
  triggerOf,
  validate,
} from "@postpath/journey";
import type { Plan, StepSpec } from "@postpath/journey";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { marketerProcedure, readerOf, router, viewerProcedure } from "../trpc.ts";
import { IdText, Text } from "../zod.ts";
import { editorCatalog } from "./journeys.catalog.ts";
import { DEFAULT_LIST_LIMIT, listJourneys } from "./journeys.list.ts"; // issue 15
import {
  connectionBounds,
  pagesAndPools,
  segmentIds,
  validationCatalog,
} from "./journeys.connections.ts";
import { diffPlans } from "./journeys.diff.ts";
import { sameTriggerJourneys } from "./journeys.overlap.ts";
import { TestCustomerInput, testCustomer } from "./journeys.testCustomer.ts"; // issue 16
import { couponPools } from "./journeys.couponPools.ts"; // issue 16: pool picker

const Id = z.object({ id: IdText() });

/** A page of the journey list (issue 15: a workspace with 1,000 journeys is read a page at a time). */
const ListInput = z
  .object({
    limit: z.number().int().min(1).max(200).default(DEFAULT_LIST_LIMIT),
    /** The previous page's last row, as listed. */
    cursor: z
      .object({
        updatedAt: z.iso.datetime({ error: "cursor.updatedAt must be a time." }),
        id: IdText(),
      })
      .nullish(),
    search: Text.trim().max(200).optional(),
  })
  .optional();
/** A draft as the canvas saves it: well-formed nodes and edges, but settings may be half-filled
 * (a time zone being typed, quiet hours without an end yet). `validate()` reports what is wrong. */
const SavableDraft = JourneyDraft.extend({ settings: z.record(Text, z.unknown()) });
type SavableDraft = z.infer<typeof SavableDraft>;
const Name = Text.trim().min(1, "Give the journey a name").max(120);
/** One published version of a journey; without `version`, the live one. */
const VersionRef = z.object({
  journeyId: IdText("journeyId"),
  version: z.number().int().positive().optional(),
});
const CONFLICT_MESSAGE =
  "This journey was changed in another tab or by someone else. Reload to see their changes before saving.";

async function livePlan(
  prisma: Prisma.TransactionClient,
  journeyId: string,
): Promise<{ version: number; plan: Plan } | null> {
  const live = await prisma.journeyVersion.findFirst({
    where: { journeyId, status: "LIVE" },
    select: { version: true, plan: true },
  });
  return live ? { version: live.version, plan: parsePlan(live.plan) } : null;
}

/** A blank journey: an event trigger the marketer fills in. */
export function blankDraft(): JourneyDraft {
  return {
    schemaVersion: 1,
    settings: {},
    nodes: [
      {
        id: "trigger",
        type: "trigger.event",
        position: { x: 0, y: 0 },
        data: { event: "", filters: [] },
      },
    ],
    edges: [],
  } as unknown as JourneyDraft;
}

/**
 * Stores `plan` (compiled from the journey's draft) as its next live version, in the caller's
 * transaction: the journey row is locked, the live version superseded, the publish audited. Also
 * used by migration.publish (issue 18), which checks its preview in the same transaction.
 */
export async function insertVersion(
  tx: Prisma.TransactionClient,
  j: { id: string; workspaceId: string; draft: Prisma.JsonValue },
  plan: Plan,
  userId: string,
): Promise<{ id: string; version: number }> {
  const trigger = triggerOf(plan);
  // Lock the journey row so two publishes cannot take the same version number.
  await tx.$executeRaw`SELECT id FROM "Journey" WHERE id = ${j.id} FOR UPDATE`;
  const last = await tx.journeyVersion.findFirst({
    where: { journeyId: j.id },
    orderBy: { version: "desc" },
    select: { version: true },
  });
  const version = (last?.version ?? 0) + 1;
  await tx.journeyVersion.updateMany({
    where: { journeyId: j.id, status: "LIVE" },
    data: { status: "SUPERSEDED" },
  });
  const v = await tx.journeyVersion.create({
    data: {
      journeyId: j.id,
      workspaceId: j.workspaceId,
      version,
      schemaVersion: plan.schemaVersion,
      plan: plan as unknown as Prisma.InputJsonValue,
      // Exactly the document that compiled to this plan (layout and names included).
      document: j.draft as Prisma.InputJsonValue,
      triggerType: trigger.type,
      triggerEvent: trigger.event ?? null,
      publishedById: userId,
    },
    select: { id: true, version: true },
  });
  await tx.journey.update({ where: { id: j.id }, data: { status: "LIVE" } });
  await tx.auditLog.create({
    data: {
      workspaceId: j.workspaceId,
      actorId: userId,
      action: "journey.publish",
      targetType: "Journey",
      targetId: j.id,
      detail: { version },
    },
  });
  return v;
}

/** The editor's journey and its live version; updatedAt as toISOString() writes it (UTC). */
const JOURNEY_FOR_EDITOR = `
SELECT j.id, j.name, j.status, j.draft, j."draftRevision",
       (SELECT v.version FROM "JourneyVersion" v
         WHERE v."journeyId" = j.id AND v.status = 'LIVE' LIMIT 1) AS "liveVersion",
       to_char(j."updatedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"
FROM "Journey" j
WHERE j.id = $1 AND j."workspaceId" = $2`;

async function journeyInWorkspace(
  prisma: Prisma.TransactionClient,
  id: string,
  workspaceId: string,
) {
  const journey = await prisma.journey.findFirst({ where: { id, workspaceId } });
  // Another workspace's journey is "not found", never "forbidden": ids leak nothing.
  if (!journey)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: "No journey with that id in this workspace.",
    });
  return journey;
}

/**
 * Versions with their trigger step, read from each plan once (MATERIALIZED: otherwise the planner
 * may evaluate `plan->>…` — a detoast of the whole plan — once per joined counter row).
 */
const versionTriggers = (where: Prisma.Sql) => Prisma.sql`
  v AS MATERIALIZED (
    SELECT id, "journeyId", plan->>'triggerStepId' AS trigger FROM "JourneyVersion" WHERE ${where}
  )`;

/**
 * How many runs entered each version: its trigger step's counter (the engine keeps it in each
 * transition's transaction), not a count of every run.
 */
async function runsPerVersion(
  prisma: Prisma.TransactionClient,
  versionIds: string[],
): Promise<Map<string, number>> {
  if (versionIds.length === 0) return new Map();
  const rows = await prisma.$queryRaw<{ versionId: string; entered: number }[]>`
    WITH ${versionTriggers(Prisma.sql`id = ANY(${versionIds})`)}
    SELECT v.id AS "versionId", COALESCE(sum(c.entered), 0)::int AS entered
    FROM v JOIN "StepCounter" c ON c."versionId" = v.id AND c."stepId" = v.trigger
    GROUP BY v.id`;
  return new Map(rows.map((r) => [r.versionId, r.entered]));
}

async function storedVersion(
  prisma: Prisma.TransactionClient,
  journeyId: string,
  version: number | undefined,
) {
  const v = await prisma.journeyVersion.findFirst({
    where: version === undefined ? { journeyId, status: "LIVE" } : { journeyId, version },
    select: {
      id: true,
      version: true,
      status: true,
      plan: true,
      document: true,
      publishedAt: true,
      publishedById: true,
    },
  });
  if (!v)
    throw new TRPCError({
      code: "NOT_FOUND",
      message:
        version === undefined
          ? "This journey has no live version."
          : `This journey has no version ${version}.`,
    });
  let plan: Plan;
  try {
    plan = parsePlan(v.plan);
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `Version ${v.version} cannot be read: ${err.message}`,
    });
  }
  return { ...v, plan };
}

/** Steps from the trigger outwards, following branches in order (stored plans keep no order). */
function stepOrder(plan: Plan): Plan["steps"][string][] {
  const seen = new Set<string>();
  const queue = [plan.triggerStepId];
  for (let i = 0; i < queue.length; i++) {
    const step = plan.steps[queue[i] as string];
    if (!step) continue;
    for (const target of Object.values(step.next))
      if (target !== null && !seen.has(target) && !queue.includes(target)) queue.push(target);
    seen.add(step.id);
  }
  const rest = Object.keys(plan.steps)
    .filter((id) => !seen.has(id))
    .sort();
  return [...queue, ...rest].flatMap((id) => (plan.steps[id] ? [plan.steps[id]] : []));
}

/**
 * A published version as a canvas document. Plans keep no layout or canvas names, so steps that
 * are still in `current` (same id and type) keep their position and name; others are laid out
 * in rows from the trigger. Compiling the result gives the version's plan again.
 */
export function draftFromPlan(plan: Plan, current?: SavableDraft | null): JourneyDraft {
  const specs: StepSpec[] = stepOrder(plan).map((s) => ({
    id: s.id,
    type: s.type,
    data: JSON.parse(JSON.stringify(s.config ?? {})) as Record<string, unknown>,
    next: Object.fromEntries(
      Object.entries(s.next).flatMap(([branch, target]) => (target ? [[branch, target]] : [])),
    ),
  }));
  const draft = draftFromSteps(specs, JSON.parse(JSON.stringify(plan.settings)) as object);
  const before = new Map((current?.nodes ?? []).map((n) => [n.id, n]));
  return {
    ...draft,
    nodes: draft.nodes.map((n) => {
      const old = before.get(n.id);
      if (!old || old.type !== n.type) return n;
      const label = old.data.label;
      return {
        ...n,
        position: old.position,
        data: typeof label === "string" ? { ...n.data, label } : n.data,
      };
    }),
  };
}

/** The document a version was published from; older versions (none kept) rebuilt from the plan. */
function versionDocument(
  v: { plan: Plan; document: unknown },
  currentDraft: unknown,
): JourneyDraft {
  // A published document compiled, so its settings are complete: the strict schema reads it.
  const kept = JourneyDraft.safeParse(v.document);
  if (kept.success) return kept.data;
  return draftFromPlan(v.plan, SavableDraft.safeParse(currentDraft).data);
}

export const journeysRouter = router({
  /** issue 15: in journeys.list.ts (two statements; the figures shared briefly by the server). */
  list: viewerProcedure.input(ListInput).query(({ ctx, input }) =>
    listJourneys(ctx.db, ctx.user.workspaceId, ctx.listFiguresMaxAgeMs, readerOf(ctx), {
      limit: input?.limit ?? DEFAULT_LIST_LIMIT,
      cursor: input?.cursor ?? null,
      ...(input?.search ? { search: input.search } : {}),
    }),
  ),

  get: viewerProcedure.input(Id).query(async ({ ctx, input }) => {
    // issue 15: one prepared statement through the driver (two Prisma reads were ~30 % of the
    // editor load's server CPU at 200 loads/s, bench/api-reads).
    const [j] = await ctx.db.query<{
      id: string;
      name: string;
      status: JourneyStatus;
      draft: unknown;
      draftRevision: number;
      liveVersion: number | null;
      updatedAt: string;
    }>(JOURNEY_FOR_EDITOR, [input.id, ctx.user.workspaceId], { prepare: "journeys.get" });
    if (!j)
      throw new TRPCError({
        code: "NOT_FOUND",
        message: "No journey with that id in this workspace.",
      });
    return {
      id: j.id,
      name: j.name,
      status: j.status,
      draft: j.draft as JourneyDraft,
      draftRevision: j.draftRevision,
      liveVersion: j.liveVersion,
      updatedAt: j.updatedAt,
    };
  }),

  create: marketerProcedure
    .input(z.object({ name: Name, draft: JourneyDraft.optional() }))
    .mutation(async ({ ctx, input }) => {
      const j = await ctx.db.prisma.journey.create({
        data: {
          workspaceId: ctx.user.workspaceId,
          name: input.name,
          draft: (input.draft ?? blankDraft()) as unknown as Prisma.InputJsonValue,
        },
        select: { id: true, draftRevision: true },
      });
      return { id: j.id, draftRevision: j.draftRevision };
    }),

  /** Saves the canvas draft. `revision` is what the editor loaded; a newer save elsewhere wins and this one is refused. */
  saveDraft: marketerProcedure
    .input(Id.extend({ draft: SavableDraft, revision: z.number().int().min(0) }))
    .mutation(async ({ ctx, input }) => {
      await journeyInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
      const updated = await ctx.db.prisma.journey.updateMany({
        where: { id: input.id, workspaceId: ctx.user.workspaceId, draftRevision: input.revision },
        data: {
          draft: input.draft as unknown as Prisma.InputJsonValue,
          draftRevision: { increment: 1 },
        },
      });
      if (updated.count === 0) throw new TRPCError({ code: "CONFLICT", message: CONFLICT_MESSAGE });
      const catalog = await validationCatalog(ctx.db, ctx.keyring, ctx.user.workspaceId);
      return {
        revision: input.revision + 1,
        issues: validate(input.draft, catalog),
        savedAt: new Date().toISOString(),
      };
    }),

  /** The template gallery (from @postpath/journey): what "create from template" offers. */
  templates: viewerProcedure.query(() =>
    templates.map((t) => ({
      id: t.id,
      name: t.name,
      description: t.description,
      steps: t.draft.nodes.length,
      /** Pages "Use template" creates too, unless the workspace has one at that address. */
      pages: (t.pages ?? []).map((p) => ({ slug: p.slug, name: p.name })),
    })),
  ),

  /**
   * A draft journey from the gallery, and (issue 14) the landing pages it links to as drafts —
   * each only if the workspace has no page at that address yet (a marketer's page is never
   * replaced). `pages` says which were created and which were already there.
   */
  createFromTemplate: marketerProcedure
    .input(
      z.object({
        templateId: IdText("templateId"),
        name: Name.optional(),
        /** Also create the template's pages (default: yes). */
        withPages: z.boolean().default(true),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const template = templates.find((t) => t.id === input.templateId);
      if (!template)
        throw new TRPCError({
          code: "NOT_FOUND",
          message: `No template "${input.templateId}" in the gallery.`,
        });
      const j = await ctx.db.prisma.journey.create({
        data: {
          workspaceId: ctx.user.workspaceId,
          name: input.name ?? template.name,
          draft: JSON.parse(JSON.stringify(template.draft)) as Prisma.InputJsonValue,
        },
        select: { id: true, draftRevision: true },
      });
      const pages: { id: string; slug: string; name: string; created: boolean }[] = [];
      for (const starter of input.withPages ? (template.pages ?? []) : []) {
        const where = {
          workspaceId_slug: { workspaceId: ctx.user.workspaceId, slug: starter.slug },
        };
        const existing = await ctx.db.prisma.page.findUnique({ where, select: { id: true } });
        if (existing) {
          pages.push({ id: existing.id, slug: starter.slug, name: starter.name, created: false });
          continue;
        }
        try {
          const p = await ctx.db.prisma.page.create({
            data: {
              workspaceId: ctx.user.workspaceId,
              name: starter.name,
              slug: starter.slug,
              draft: JSON.parse(JSON.stringify(starter.document)) as Prisma.InputJsonValue,
            },
            select: { id: true },
          });
          pages.push({ id: p.id, slug: starter.slug, name: starter.name, created: true });
        } catch (err) {
          // Made meanwhile (a double click): theirs stands.
          if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002"))
            throw err;
          const made = await ctx.db.prisma.page.findUniqueOrThrow({ where, select: { id: true } });
          pages.push({ id: made.id, slug: starter.slug, name: starter.name, created: false });
        }
      }
      return { id: j.id, draftRevision: j.draftRevision, pages };
    }),

  /** A new draft journey with a copy of this one's draft (not its versions or runs). */
  duplicate: marketerProcedure
    .input(Id.extend({ name: Name.optional() }))
    .mutation(async ({ ctx, input }) => {
      const source = await journeyInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
      const j = await ctx.db.prisma.journey.create({
        data: {
          workspaceId: source.workspaceId,
          name: input.name ?? `${source.name} (copy)`,
          draft: source.draft as Prisma.InputJsonValue,
        },
        select: { id: true, draftRevision: true },
      });
      return { id: j.id, draftRevision: j.draftRevision };
    }),

  rename: marketerProcedure.input(Id.extend({ name: Name })).mutation(async ({ ctx, input }) => {
    await journeyInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    await ctx.db.prisma.journey.update({ where: { id: input.id }, data: { name: input.name } });
    return { name: input.name };
  }),

  /** Hides the journey from the list. A live or paused journey must be stopped first. */
  archive: marketerProcedure.input(Id).mutation(async ({ ctx, input }) => {
    const j = await journeyInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    if (j.status === "LIVE" || j.status === "PAUSED") {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: "Stop the journey before archiving it: customers are still in it.",
      });
    }
    await ctx.db.prisma.$transaction([
      ctx.db.prisma.journey.update({ where: { id: j.id }, data: { status: "ARCHIVED" } }),
      ctx.db.prisma.auditLog.create({
        data: {
          workspaceId: j.workspaceId,
          actorId: ctx.user.id,
          action: "journey.archive",
          targetType: "Journey",
          targetId: j.id,
          detail: { from: j.status },
        },
      }),
    ]);
    return { status: "ARCHIVED" as const };
  }),

  /** Published versions, newest first. */
  versions: viewerProcedure.input(Id).query(async ({ ctx, input }) => {
    await journeyInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    const versions = await ctx.db.prisma.journeyVersion.findMany({
      where: { journeyId: input.id },
      orderBy: { version: "desc" },
      select: {
        id: true,
        version: true,
        status: true,
        publishedAt: true,
        publishedById: true,
      },
    });
    const runs = await runsPerVersion(
      ctx.db.prisma,
      versions.map((v) => v.id),
    );
    const authorIds = [
      ...new Set(versions.flatMap((v) => (v.publishedById ? [v.publishedById] : []))),
    ];
    const authors = authorIds.length
      ? await ctx.db.prisma.user.findMany({
          where: { id: { in: authorIds } },
          select: { id: true, name: true },
        })
      : [];
    const nameOf = new Map(authors.map((a) => [a.id, a.name]));
    return versions.map((v) => ({
      id: v.id,
      version: v.version,
      status: v.status,
      publishedAt: v.publishedAt.toISOString(),
      publishedBy: v.publishedById ? (nameOf.get(v.publishedById) ?? null) : null,
      runs: runs.get(v.id) ?? 0,
    }));
  }),

  /**
   * One published version, read-only: its plan as a canvas document, and what restoring it would
   * change in the saved draft (null when the draft has problems and cannot be compiled).
   */
  version: viewerProcedure.input(VersionRef).query(async ({ ctx, input }) => {
    const j = await journeyInWorkspace(ctx.db.prisma, input.journeyId, ctx.user.workspaceId);
    const v = await storedVersion(ctx.db.prisma, j.id, input.version);
    const author = v.publishedById
      ? await ctx.db.prisma.user.findUnique({
          where: { id: v.publishedById },
          select: { name: true },
        })
      : null;
    const current = compile(j.draft);
    return {
      journeyId: j.id,
      version: v.version,
      status: v.status,
      publishedAt: v.publishedAt.toISOString(),
      publishedBy: author?.name ?? null,
      runs: (await runsPerVersion(ctx.db.prisma, [v.id])).get(v.id) ?? 0,
      draft: versionDocument(v, j.draft),
      /** The saved draft this was compared with. */
      draftRevision: j.draftRevision,
      draftIssues: current.ok ? 0 : current.errors.length,
      /** From the saved draft to this version: what "restore" would change. */
      diff: current.ok ? diffPlans(current.plan, v.plan) : null,
    };
  }),

  /**
   * Replaces the draft with a published version's document (the marketer then reviews and
   * publishes as usual: a new version; runs in flight keep theirs). `revision` is the draft the
   * editor loaded, as for saveDraft: a newer save elsewhere wins and the restore is refused.
   */
  restoreVersion: marketerProcedure
    .input(VersionRef.extend({ revision: z.number().int().min(0) }))
    .mutation(async ({ ctx, input }) => {
      const j = await journeyInWorkspace(ctx.db.prisma, input.journeyId, ctx.user.workspaceId);
      const v = await storedVersion(ctx.db.prisma, j.id, input.version);
      const draft = versionDocument(v, j.draft);
      await ctx.db.prisma.$transaction(async (tx) => {
        const updated = await tx.journey.updateMany({
          where: { id: j.id, workspaceId: j.workspaceId, draftRevision: input.revision },
          data: {
            draft: draft as unknown as Prisma.InputJsonValue,
            draftRevision: { increment: 1 },
          },
        });
        if (updated.count === 0)
          throw new TRPCError({
            code: "CONFLICT",
            message: `The draft was changed in another tab or by someone else, so version ${v.version} was not restored. Reload to see their changes, then restore again if you still want to.`,
          });
        await tx.auditLog.create({
          data: {
            workspaceId: j.workspaceId,
            actorId: ctx.user.id,
            action: "journey.restoreVersion",
            targetType: "Journey",
            targetId: j.id,
            detail: { version: v.version, revision: input.revision + 1 },
          },
        });
      });
      return {
        version: v.version,
        revision: input.revision + 1,
        issues: validate(draft, await validationCatalog(ctx.db, ctx.keyring, ctx.user.workspaceId)),
      };
    }),

  /**
   * What publishing the saved draft would change compared with the live version. `issues`: the
   * errors that block publishing, or, when it can be published, its warnings.
   */
  diff: viewerProcedure.input(Id).query(async ({ ctx, input }) => {
    const j = await journeyInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    const result = compile(
      j.draft,
      await connectionBounds(ctx.db, ctx.keyring, ctx.user.workspaceId),
    );
    if (!result.ok)
      return {
        ok: false as const,
        issues: result.errors,
        liveVersion: null,
        diff: null,
        sameTrigger: [],
      };
    const live = await livePlan(ctx.db.prisma, j.id);
    const catalog = await validationCatalog(ctx.db, ctx.keyring, ctx.user.workspaceId);
    return {
      ok: true as const,
      issues: validate(j.draft, catalog).filter(isWarning),
      liveVersion: live?.version ?? null,
      diff: diffPlans(live?.plan ?? null, result.plan),
      /** issue 18: other live journeys this trigger also starts (a customer would get both). */
      sameTrigger: await sameTriggerJourneys(
        ctx.db.prisma,
        ctx.user.workspaceId,
        j.id,
        result.plan,
      ),
    };
  }),

  /** Errors and warnings (`severity`), checked against what the workspace has observed. */
  validate: viewerProcedure
    .input(z.object({ draft: z.unknown() }))
    .query(async ({ ctx, input }) => ({
      issues: validate(
        input.draft,
        await validationCatalog(ctx.db, ctx.keyring, ctx.user.workspaceId),
      ),
    })),

  /**
   * The customer attributes and event properties the workspace has observed (a bounded sample,
   * cached for a minute), for the template editor's list of variables and the canvas's own
   * validate(); `{}` parts mean nothing observed yet (and nothing checked).
   */
  catalog: viewerProcedure.query(async ({ ctx }) => ({
    ...(await editorCatalog(ctx.db.prisma, ctx.user.workspaceId)),
    ...(await connectionBounds(ctx.db, ctx.keyring, ctx.user.workspaceId)),
    ...(await segmentIds(ctx.db, ctx.user.workspaceId)), // issue 16
    ...(await pagesAndPools(ctx.db, ctx.user.workspaceId)), // issue 16: page / pool warnings
  })),

  /** issue 16: a real customer for the editor's test run, with their segments and lifecycle stage
   * as the engine reads them (journeys.testCustomer.ts). */
  testCustomer: marketerProcedure.input(TestCustomerInput).query(testCustomer),

  /** issue 16: the workspace's coupon pools (name, codes left) for the coupon step's picker. */
  couponPools: viewerProcedure.query(couponPools),

  /** Compiles the saved draft and stores it as the next live version; runs in flight keep theirs. */
  publish: marketerProcedure.input(Id).mutation(async ({ ctx, input }) => {
    const j = await journeyInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    // A webhook step outside the webhook connection's address is an error here too.
    const result = compile(
      j.draft,
      await connectionBounds(ctx.db, ctx.keyring, ctx.user.workspaceId),
    );
    if (!result.ok) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `The journey has ${result.errors.length} problem(s) to fix before publishing.`,
        cause: Object.assign(new Error("invalid journey"), { issues: result.errors }),
      });
    }
    return ctx.db.prisma.$transaction(async (tx) => {
      const v = await insertVersion(tx, j, result.plan, ctx.user.id);
      return { versionId: v.id, version: v.version };
    });
  }),
});
