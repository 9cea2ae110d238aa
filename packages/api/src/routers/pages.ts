// issue 14: landing pages — Puck block documents with drafts and immutable published versions.
// `/p/:token` (apps/server) serves the published version of the page whose slug a PURL names.
import { Prisma } from "@postpath/db";
import { emptyFunnel, linkFunnel, pageVersionFunnel } from "@postpath/engine";
import {
  PageDocument,
  PageSlug,
  parsePublishedPage,
  validatePageDocument,
} from "@postpath/journey";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { marketerProcedure, router, viewerProcedure } from "../trpc.ts";
import { IdText, Text } from "../zod.ts";

const Id = z.object({ id: IdText() });
const Name = Text.trim()
  .min(1, "Give the page a name")
  .max(120, "Keep the name under 120 characters");
const CONFLICT_MESSAGE =
  "This page was changed in another tab or by someone else. Reload to see their changes before saving.";

/** A new page: a heading the marketer edits. */
export function blankPage(name: string): PageDocument {
  return {
    root: { props: { title: name, accent: "#1f5f8b", schemaVersion: 1 } },
    content: [{ type: "Heading", props: { id: "heading-1", text: name, level: "h1" } }],
  };
}

async function pageInWorkspace(prisma: Prisma.TransactionClient, id: string, workspaceId: string) {
  const page = await prisma.page.findFirst({ where: { id, workspaceId } });
  // Another workspace's page is "not found", never "forbidden": ids leak nothing.
  if (!page)
    throw new TRPCError({ code: "NOT_FOUND", message: "No page with that id in this workspace." });
  return page;
}

function slugTaken(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}

export const pagesRouter = router({
  list: viewerProcedure.query(async ({ ctx }) => {
    const pages = await ctx.db.prisma.page.findMany({
      where: { workspaceId: ctx.user.workspaceId },
      orderBy: { updatedAt: "desc" },
      select: {
        id: true,
        name: true,
        slug: true,
        revision: true,
        publishedVersion: true,
        updatedAt: true,
      },
    });
    return pages.map((p) => ({ ...p, updatedAt: p.updatedAt.toISOString() }));
  }),

  get: viewerProcedure.input(Id).query(async ({ ctx, input }) => {
    const p = await pageInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    const versions = await ctx.db.prisma.pageVersion.findMany({
      where: { pageId: p.id },
      orderBy: { version: "desc" },
      select: { version: true, createdAt: true },
    });
    return {
      id: p.id,
      name: p.name,
      slug: p.slug,
      draft: p.draft as unknown as PageDocument,
      revision: p.revision,
      publishedVersion: p.publishedVersion,
      updatedAt: p.updatedAt.toISOString(),
      versions: versions.map((v) => ({ version: v.version, createdAt: v.createdAt.toISOString() })),
    };
  }),

  /**
   * The page's funnel (issue 14): personal links made for it (the mail drop) → links opened
   * (unique; and openings in all) → links with a form sent (unique; and submissions in all) →
   * runs that made the links and reached their journey's goal. The same per journey step that
   * made links, and visits/submissions per published version. Counted in SQL.
   */
  funnel: viewerProcedure.input(Id).query(async ({ ctx, input }) => {
    const p = await pageInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    const [total, steps, versions] = await Promise.all([
      linkFunnel(ctx.db, p.workspaceId, { page: p.slug }),
      linkFunnel(ctx.db, p.workspaceId, { page: p.slug }, true),
      pageVersionFunnel(ctx.db, p.workspaceId, { id: p.id, slug: p.slug }),
    ]);
    const journeyIds = [...new Set(steps.flatMap((s) => (s.journeyId ? [s.journeyId] : [])))];
    const journeys = await ctx.db.prisma.journey.findMany({
      where: { id: { in: journeyIds }, workspaceId: p.workspaceId },
      select: { id: true, name: true },
    });
    const nameOf = new Map(journeys.map((j) => [j.id, j.name]));
    return {
      ...(total[0] ?? emptyFunnel()),
      steps: steps.map(({ journeyId, stepId, ...counts }) => ({
        journeyId,
        journeyName: journeyId ? (nameOf.get(journeyId) ?? null) : null,
        stepId,
        ...counts,
      })),
      versions,
    };
  }),

  create: marketerProcedure
    .input(z.object({ name: Name, slug: PageSlug, draft: PageDocument.optional() }))
    .mutation(async ({ ctx, input }) => {
      try {
        const p = await ctx.db.prisma.page.create({
          data: {
            workspaceId: ctx.user.workspaceId,
            name: input.name,
            slug: input.slug,
            draft: (input.draft ?? blankPage(input.name)) as unknown as Prisma.InputJsonValue,
          },
          select: { id: true, revision: true, slug: true },
        });
        return p;
      } catch (err) {
        if (slugTaken(err))
          throw new TRPCError({
            code: "CONFLICT",
            message: `Another page already uses the address “${input.slug}”. Choose another.`,
          });
        throw err;
      }
    }),

  /**
   * Saves the editor's draft. `revision` is what the editor loaded; a newer save elsewhere wins
   * and this one is refused. The page is found first (a foreign id is NOT_FOUND whatever the
   * draft), then the draft's shape is checked.
   */
  save: marketerProcedure
    .input(
      Id.extend({
        revision: z.number().int().min(0),
        draft: z.record(Text, z.unknown()),
        name: Name.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await pageInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
      const draft = PageDocument.safeParse(input.draft);
      if (!draft.success)
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: "The page could not be saved: its blocks are not in the expected form.",
          cause: draft.error,
        });
      const updated = await ctx.db.prisma.page.updateMany({
        where: { id: input.id, workspaceId: ctx.user.workspaceId, revision: input.revision },
        data: {
          draft: draft.data as unknown as Prisma.InputJsonValue,
          revision: { increment: 1 },
          ...(input.name === undefined ? {} : { name: input.name }),
        },
      });
      if (updated.count === 0) throw new TRPCError({ code: "CONFLICT", message: CONFLICT_MESSAGE });
      return {
        revision: input.revision + 1,
        issues: validatePageDocument(draft.data),
        savedAt: new Date().toISOString(),
      };
    }),

  /**
   * Validates the saved draft and stores it as the next version, which `/p/:token` serves from
   * now on (also to links sent before: a link names the page, not a version).
   */
  publish: marketerProcedure.input(Id).mutation(async ({ ctx, input }) => {
    const found = await pageInWorkspace(ctx.db.prisma, input.id, ctx.user.workspaceId);
    return ctx.db.prisma.$transaction(async (tx) => {
      // Lock the page row so two publishes cannot take the same version number.
      await tx.$executeRaw`SELECT id FROM "Page" WHERE id = ${found.id} FOR UPDATE`;
      // The draft as it is now, under the lock (a save may have landed since).
      const p = await pageInWorkspace(tx, found.id, ctx.user.workspaceId);
      const issues = validatePageDocument(p.draft);
      if (issues.length > 0)
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: `The page has ${issues.length} problem(s) to fix before publishing: ${issues
            .slice(0, 3)
            .map((i) => `${i.block}: ${i.message}`)
            .join(" ")}`,
          cause: Object.assign(new Error("invalid page"), { issues }),
        });
      const last = await tx.pageVersion.findFirst({
        where: { pageId: p.id },
        orderBy: { version: "desc" },
        select: { version: true },
      });
      const version = (last?.version ?? 0) + 1;
      await tx.pageVersion.create({
        data: {
          pageId: p.id,
          workspaceId: p.workspaceId,
          version,
          // Every prop filled in (defaults applied), so what serves it never meets a gap.
          document: parsePublishedPage(p.draft),
        },
      });
      await tx.page.update({ where: { id: p.id }, data: { publishedVersion: version } });
      await tx.auditLog.create({
        data: {
          workspaceId: p.workspaceId,
          actorId: ctx.user.id,
          action: "page.publish",
          targetType: "Page",
          targetId: p.id,
          detail: { version, slug: p.slug },
        },
      });
      return { version };
    });
  }),
});
