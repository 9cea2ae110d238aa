// Print runs from a segment (issue 14 item 5, issue 16): the mail drop of the personal URLs
// `segments.mintPurls` made for a segment's members and a page, for the printer — the same CSV
// and PDF proof as a journey's PURL step (print-run.ts), streamed in keyset pages.
//
//   GET /exports/segments/:segmentId/drops/:drop/pages/:page/summary    how many cards (JSON)
//   GET /exports/segments/:segmentId/drops/:drop/pages/:page/purls.csv  one row per personal URL
//   GET /exports/segments/:segmentId/drops/:drop/pages/:page/proof.pdf  one card per URL
//
// Same sign-in, roles (downloads: marketers and admins) and audit (`printRun.export`) as the
// journey print run; a segment of another workspace is 404.
import { recordAudit } from "@postpath/api";
import type { Database } from "@postpath/db";
import { segmentDropRunId } from "@postpath/engine";
import type { FastifyInstance } from "fastify";
import {
  CARDS_PER_PAGE,
  PAGE_SIZE,
  printRunCsv,
  printRunPdf,
  signedIn,
  type PrintRunOptions,
  type PrintRunRow,
  type PrintRunSource,
} from "./print-run.ts";

export interface SegmentPrintRun {
  workspaceId: string;
  segmentId: string;
  segmentName: string;
  runId: string;
  page: string;
  asOf: Date;
}

const FROM = `
  FROM "Purl" p JOIN "Customer" c ON c.id = p."customerId"
  WHERE p."workspaceId" = $1 AND p.page = $2 AND p."runId" = $3 AND c."workspaceId" = $1
    AND p."createdAt" <= $4::timestamp
    AND (p."expiresAt" IS NULL OR p."expiresAt" > $4::timestamp)`;

const COUNT_SQL = `SELECT count(*)::int AS n ${FROM}`;

const PAGE_SQL = `
  SELECT p."customerId" AS "customerId", 1 AS "entryNumber", p.token,
         c."externalId" AS "externalId",
         COALESCE(c.email, c.attributes->>'email') AS email,
         c.attributes->>'first_name' AS "firstName",
         c.attributes->>'last_name' AS "lastName",
         c.attributes->>'address_line1' AS "addressLine1",
         c.attributes->>'address_line2' AS "addressLine2",
         c.attributes->>'postal_code' AS "postalCode",
         c.attributes->>'city' AS city,
         c.attributes->>'country' AS country,
         to_char(p."expiresAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "expiresAt"
  ${FROM}
    AND (p."customerId", p.token) > ($5, $6)
  ORDER BY p."customerId", p.token
  LIMIT $7::int`;

const utc = (d: Date) => d.toISOString().replace("Z", "");
const params = (s: SegmentPrintRun) => [s.workspaceId, s.page, s.runId, utc(s.asOf)];

export async function countSegmentPrintRun(db: Database, s: SegmentPrintRun): Promise<number> {
  const [row] = await db.query<{ n: number }>(COUNT_SQL, params(s));
  return row?.n ?? 0;
}

export async function* segmentPrintRunRows(
  db: Database,
  s: SegmentPrintRun,
  pageSize = PAGE_SIZE,
): AsyncGenerator<PrintRunRow> {
  let after: [string, string] = ["", ""];
  for (;;) {
    const rows = await db.query<PrintRunRow>(PAGE_SQL, [...params(s), ...after, pageSize], {
      prepare: "segment_print_run_page",
    });
    yield* rows;
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = [last.customerId, last.token];
  }
}

type Params = { segmentId: string; drop: string; page: string };

const NOT_FOUND = "This segment does not exist in your workspace.";

export function registerSegmentPrintRun(app: FastifyInstance, opts: PrintRunOptions): void {
  const base = "/exports/segments/:segmentId/drops/:drop/pages/:page";

  async function find(workspaceId: string, p: Params): Promise<SegmentPrintRun | null> {
    if (p.segmentId.length > 100 || p.drop.length > 60 || p.page.length > 200) return null;
    const s = await opts.db.prisma.segment.findFirst({
      where: { id: p.segmentId, workspaceId },
      select: { id: true, name: true },
    });
    if (!s) return null;
    return {
      workspaceId,
      segmentId: s.id,
      segmentName: s.name,
      runId: segmentDropRunId(s.id, p.drop),
      page: p.page,
      asOf: new Date(opts.engine.now()),
    };
  }

  /** What the shared CSV / PDF writers print as the run's title. */
  const asSource = (s: SegmentPrintRun): PrintRunSource => ({
    workspaceId: s.workspaceId,
    journeyId: s.segmentId,
    journeyName: `Segment ${s.segmentName}`,
    stepId: s.page,
    stepName: `page ${s.page}`,
    asOf: s.asOf,
  });

  app.get<{ Params: Params }>(`${base}/summary`, async (req, reply) => {
    const user = await signedIn(opts, req, reply);
    if (!user) return reply;
    const run = await find(user.workspaceId, req.params);
    if (!run) return reply.code(404).send({ error: NOT_FOUND });
    const purls = await countSegmentPrintRun(opts.db, run);
    return reply.header("cache-control", "no-store").send({
      segmentName: run.segmentName,
      page: run.page,
      purls,
      pages: Math.max(1, Math.ceil(purls / CARDS_PER_PAGE)),
      cardsPerPage: CARDS_PER_PAGE,
      canExport: user.role === "ADMIN" || user.role === "MARKETER",
    });
  });

  for (const format of ["csv", "pdf"] as const) {
    const route = format === "csv" ? `${base}/purls.csv` : `${base}/proof.pdf`;
    app.get<{ Params: Params }>(route, { exposeHeadRoute: false }, async (req, reply) => {
      const user = await signedIn(opts, req, reply);
      if (!user) return reply;
      if (user.role !== "ADMIN" && user.role !== "MARKETER")
        return reply.code(403).send({
          error:
            "Only marketers and admins can export a print run: it lists customers' names and addresses.",
        });
      const run = await find(user.workspaceId, req.params);
      if (!run) return reply.code(404).send({ error: NOT_FOUND });
      const total = await countSegmentPrintRun(opts.db, run);
      await recordAudit(
        opts.db,
        user,
        "printRun.export",
        { type: "Segment", id: run.segmentId },
        { page: run.page, drop: req.params.drop, format, rows: total },
      );
      const rows = segmentPrintRunRows(opts.db, run);
      const publicUrl = opts.engine.publicUrl;
      const slug =
        run.segmentName
          .normalize("NFKD")
          .replace(/[^A-Za-z0-9]+/g, "-")
          .replace(/^-+|-+$/g, "")
          .toLowerCase()
          .slice(0, 60) || "segment";
      void reply
        .header("cache-control", "private, no-store")
        .header("x-print-run-rows", String(total))
        .header(
          "content-disposition",
          `attachment; filename="print-run-${slug}-${run.asOf.toISOString().slice(0, 10)}.${format}"`,
        );
      if (format === "csv")
        return reply.type("text/csv; charset=utf-8").send(printRunCsv(rows, publicUrl));
      return reply
        .type("application/pdf")
        .header("x-print-run-pages", String(Math.max(1, Math.ceil(total / CARDS_PER_PAGE))))
        .send(printRunPdf(rows, { publicUrl, source: asSource(run), total }));
    });
  }
}
