// Print runs (issue 14, item 5): the mail drop of a journey's personal-URL step, for the printer.
//
//   GET /exports/journeys/:journeyId/steps/:stepId/summary    how many cards (JSON; any role)
//   GET /exports/journeys/:journeyId/steps/:stepId/purls.csv  one row per personal URL
//   GET /exports/journeys/:journeyId/steps/:stepId/proof.pdf  one card per personal URL, 10 per A4
//
// Signed in with the web app's session cookie; downloads need the marketer or admin role (they
// hold customers' names and addresses) and are audited (`printRun.export`: who, which step, how
// many rows). A journey of another workspace is 404, like one that does not exist.
//
// Which PURLs: those the step made in any published version of the journey (Purl → Message of
// that step → JourneyRun of that journey), made before the export started and not expired then.
// A customer who went through the step twice (two machines) gets two rows and two cards.
//
// Customer fields come from the customer's attributes: first_name, last_name, email (the
// customer's email first), address_line1, address_line2, postal_code, city, country.
//
// Streaming: rows are read in keyset pages of PAGE_SIZE ordered like the unique index
// JourneyRun(journeyId, customerId, entryNumber), so each page is an index range scan and
// nested-loop lookups (Message by runId, Purl by messageId, Customer by id), never a scan of the
// whole table, and never all rows in memory. The next page is read only when the response has
// taken the previous one (stream backpressure), so a slow client holds one page, not the run.
//
// CSV injection: a text cell starting with = + - @ tab or CR (or their full-width forms) gets a
// leading ' so spreadsheets show it as text instead of running it as a formula (csv-stringify's
// `escape_formulas`). The file is UTF-8 with a byte-order mark so Excel reads accents correctly.
//
// QR codes on the proof are drawn as vector squares from qrcode's module matrix (`QRCode.create`,
// error correction M, mask pattern 0 — see qrPath),
// not embedded PNGs: they stay sharp at any printer resolution, and a PNG per card cost ~2 ms to
// encode plus pdfkit's alpha-channel split (minutes for 100,000 cards instead of seconds). The
// CSV's `qr_image_url` is the PNG (`/p/:token/qr.png`) for printers that want images.
import { existsSync } from "node:fs";
import { PassThrough, Readable, pipeline, type Writable } from "node:stream";
import {
  readCookie,
  recordAudit,
  SESSION_COOKIE,
  userForSession,
  type SessionUser,
} from "@postpath/api";
import type { Database } from "@postpath/db";
import type { DependencyMonitor, EngineContext } from "@postpath/engine";
import { stringify } from "csv-stringify";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import PDFDocument from "pdfkit";
import QRCode from "qrcode";
import { sendUnavailable } from "./health.ts";
import { registerSegmentPrintRun } from "./segment-print-run.ts"; // issue 16

/** Rows read per keyset page. */
export const PAGE_SIZE = 2000;
/** Cards on one A4 proof page (2 columns × 5 rows of 85 × 55 mm). */
export const CARDS_PER_PAGE = 10;

export interface PrintRunSource {
  workspaceId: string;
  journeyId: string;
  journeyName: string;
  stepId: string;
  stepName: string;
  /** Only PURLs made by then, and not expired then, are in the run (count and rows agree). */
  asOf: Date;
}

/** One card / CSV row. Attributes are text as the customer has them (null when missing). */
export interface PrintRunRow {
  token: string;
  customerId: string;
  entryNumber: number;
  externalId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
  /** ISO 8601 (UTC) or null. */
  expiresAt: string | null;
}

// --- the rows ---------------------------------------------------------------------------------

const FROM = `
  FROM "JourneyRun" r
  JOIN "Message" m ON m."runId" = r.id AND m."stepId" = $2
  JOIN "Purl" p ON p."messageId" = m.id
  JOIN "Customer" c ON c.id = p."customerId"
  WHERE r."journeyId" = $1 AND r."workspaceId" = $3
    AND p."workspaceId" = $3 AND c."workspaceId" = $3
    AND p."createdAt" <= $4::timestamp
    AND (p."expiresAt" IS NULL OR p."expiresAt" > $4::timestamp)`;

const COUNT_SQL = `SELECT count(*)::int AS n ${FROM}`;

const PAGE_SQL = `
  SELECT r."customerId" AS "customerId", r."entryNumber" AS "entryNumber", p.token,
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
    AND (r."customerId", r."entryNumber") >= ($5, $6::int)
    AND (r."customerId", r."entryNumber", p.token) > ($5, $6::int, $7)
  ORDER BY r."customerId", r."entryNumber", p.token
  LIMIT $8::int`;

/** Timestamps are stored as UTC `timestamp(3)`: compare with the UTC wall time, no zone. */
const utc = (d: Date) => d.toISOString().replace("Z", "");

function sourceParams(s: PrintRunSource): unknown[] {
  return [s.journeyId, s.stepId, s.workspaceId, utc(s.asOf)];
}

export async function countPrintRun(db: Database, source: PrintRunSource): Promise<number> {
  const [row] = await db.query<{ n: number }>(COUNT_SQL, sourceParams(source));
  return row?.n ?? 0;
}

/** The run's rows, one keyset page at a time (the next page is read when this one is consumed). */
export async function* printRunRows(
  db: Database,
  source: PrintRunSource,
  pageSize = PAGE_SIZE,
): AsyncGenerator<PrintRunRow> {
  let after: [string, number, string] = ["", 0, ""];
  for (;;) {
    const rows = await db.query<PrintRunRow>(
      PAGE_SQL,
      [...sourceParams(source), ...after, pageSize],
      { prepare: "print_run_page" },
    );
    yield* rows;
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = [last.customerId, last.entryNumber, last.token];
  }
}

/**
 * The journey's PURL step as a print-run source, or why not: null when the journey is not in this
 * workspace or the step is published as another kind of step; "unpublished" when no published
 * version has the step (yet: it may be in the draft, or not saved).
 */
export async function findPrintRunSource(
  db: Database,
  workspaceId: string,
  journeyId: string,
  stepId: string,
  asOf: Date,
): Promise<PrintRunSource | "unpublished" | null> {
  if (journeyId.length > 200 || stepId.length > 200) return null;
  const journey = await db.prisma.journey.findFirst({
    where: { id: journeyId, workspaceId },
    select: { id: true, name: true },
  });
  if (!journey) return null;
  const versions = await db.prisma.journeyVersion.findMany({
    where: { journeyId, workspaceId },
    orderBy: { version: "desc" },
    select: { plan: true },
  });
  let published = false;
  for (const v of versions) {
    const step = stepOfPlan(v.plan, stepId);
    if (step) published = true;
    if (step?.type === "action.purl")
      return {
        workspaceId,
        journeyId,
        journeyName: journey.name,
        stepId,
        stepName: labelOf(step.config) ?? "Personal URL / QR",
        asOf,
      };
  }
  return published ? null : "unpublished";
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null;

function stepOfPlan(plan: unknown, stepId: string): { type: unknown; config: unknown } | null {
  if (!isObject(plan) || !isObject(plan.steps)) return null;
  const step = Object.hasOwn(plan.steps, stepId) ? plan.steps[stepId] : undefined;
  return isObject(step) ? { type: step.type, config: step.config } : null;
}

function labelOf(config: unknown): string | null {
  return isObject(config) && typeof config.label === "string" && config.label.trim()
    ? config.label.trim()
    : null;
}

// --- CSV --------------------------------------------------------------------------------------

export const CSV_COLUMNS = [
  "customer_id",
  "first_name",
  "last_name",
  "name",
  "email",
  "address_line1",
  "address_line2",
  "postal_code",
  "city",
  "country",
  "purl",
  "qr_image_url",
  "expires_at",
] as const;

const fullName = (r: PrintRunRow) =>
  [r.firstName, r.lastName]
    .map((s) => s?.trim())
    .filter(Boolean)
    .join(" ");

export const purlUrl = (publicUrl: string, token: string) =>
  `${publicUrl.replace(/\/$/, "")}/p/${token}`;

function csvRecord(r: PrintRunRow, publicUrl: string): string[] {
  const url = purlUrl(publicUrl, r.token);
  return [
    r.externalId,
    r.firstName ?? "",
    r.lastName ?? "",
    fullName(r),
    r.email ?? "",
    r.addressLine1 ?? "",
    r.addressLine2 ?? "",
    r.postalCode ?? "",
    r.city ?? "",
    r.country ?? "",
    url,
    `${url}/qr.png`,
    r.expiresAt ?? "",
  ];
}

/** The rows as CSV (header first), pulled from `rows` only as fast as the reader takes them. */
export function printRunCsv(rows: AsyncIterable<PrintRunRow>, publicUrl: string): Readable {
  const records = Readable.from(
    (async function* () {
      for await (const r of rows) yield csvRecord(r, publicUrl);
    })(),
  );
  const csv = stringify({
    header: true,
    columns: [...CSV_COLUMNS],
    bom: true,
    escape_formulas: true,
    record_delimiter: "\r\n", // RFC 4180, what spreadsheets and print shops expect
  });
  // pipeline: a client that goes away destroys the stringifier, which ends the row generator.
  return pipeline(records, csv, () => undefined);
}

// --- PDF proof --------------------------------------------------------------------------------

const MM = 72 / 25.4;
const A4 = { width: 595.28, height: 841.89 };
const CARD = { width: 85 * MM, height: 55 * MM };
const COLS = 2;
const ROWS = CARDS_PER_PAGE / COLS;
const LEFT = (A4.width - COLS * CARD.width) / 2; // 20 mm
const TOP = (A4.height - ROWS * CARD.height) / 2; // 11 mm
const PAD = 5 * MM;
const QR_SIZE = 34 * MM;
const TEXT_X = PAD + QR_SIZE + 4 * MM;
const TEXT_WIDTH = CARD.width - TEXT_X - PAD;
/** Bytes the proof may have waiting for a slow client before drawing pauses. */
const PDF_BUFFER = 1 << 20;

const n2 = (v: number) => Math.round(v * 100) / 100;

const utf8 = new TextEncoder();

/**
 * The QR code of `url` as one filled path: one rectangle per run of dark modules, in module units
 * (a `cm` scales them), so each card adds a few hundred short operators to the page.
 */
export function qrPath(url: string, x: number, y: number, size: number): string {
  // One byte-mode segment: a URL needs nothing else, and it skips qrcode's segment optimiser.
  // A fixed mask pattern: choosing the best of the 8 (qrcode's default) scores each one and was
  // 60 % of the proof's time (100,000 cards: ~150 s instead of ~40 s on the bench machine). Every
  // mask is valid QR; at 34 mm a module is ~0.9 mm, and rendered proofs decode (jsQR, checked
  // by hand; see bench/README.md "print-run").
  const { modules } = QRCode.create([{ data: utf8.encode(url), mode: "byte" }], {
    errorCorrectionLevel: "M",
    maskPattern: 0,
  });
  const count = modules.size;
  const quiet = 2; // modules of white margin inside `size` (the card is white around it)
  const unit = size / (count + 2 * quiet);
  const ops: string[] = [
    `q ${unit.toFixed(4)} 0 0 ${unit.toFixed(4)} ${n2(x + quiet * unit)} ${n2(y + quiet * unit)} cm`,
  ];
  const data = modules.data;
  for (let row = 0; row < count; row++) {
    let col = 0;
    while (col < count) {
      if (!data[row * count + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < count && data[row * count + col]) col++;
      ops.push(`${start} ${row} ${col - start} 1 re`);
    }
  }
  ops.push("f Q");
  return ops.join("\n");
}

function cropMarks(doc: PDFKit.PDFDocument): void {
  const ops: string[] = [];
  const gap = 2 * MM;
  const len = 5 * MM;
  for (let c = 0; c <= COLS; c++) {
    const x = n2(LEFT + c * CARD.width);
    const top = TOP - gap;
    const bottom = TOP + ROWS * CARD.height + gap;
    ops.push(
      `${x} ${n2(top)} m ${x} ${n2(top - len)} l`,
      `${x} ${n2(bottom)} m ${x} ${n2(bottom + len)} l`,
    );
  }
  for (let r = 0; r <= ROWS; r++) {
    const y = n2(TOP + r * CARD.height);
    const left = LEFT - gap;
    const right = LEFT + COLS * CARD.width + gap;
    ops.push(
      `${n2(left)} ${y} m ${n2(left - len)} ${y} l`,
      `${n2(right)} ${y} m ${n2(right + len)} ${y} l`,
    );
  }
  doc.save().lineWidth(0.25).strokeColor("#000000");
  doc.addContent(`${ops.join("\n")}\nS`);
  doc.restore();
  // Hairline card frames the cutter can follow; the crop marks in the margins are the guides.
  const grid: string[] = [];
  const right = n2(LEFT + COLS * CARD.width);
  const bottom = n2(TOP + ROWS * CARD.height);
  for (let c = 0; c <= COLS; c++) {
    const x = n2(LEFT + c * CARD.width);
    grid.push(`${x} ${n2(TOP)} m ${x} ${bottom} l`);
  }
  for (let r = 0; r <= ROWS; r++) {
    const y = n2(TOP + r * CARD.height);
    grid.push(`${n2(LEFT)} ${y} m ${right} ${y} l`);
  }
  doc.save().lineWidth(0.25).strokeColor("#bbbbbb");
  doc.addContent(`${grid.join("\n")}\nS`);
  doc.restore();
}

/** One line of card text: control characters (a line break in a name) become spaces. */
const oneLine = (s: string | null | undefined) =>
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  (s ?? "").replace(/[\u0000-\u001f\u007f]+/g, " ").trim();

// The PDF's standard fonts (Helvetica, Courier) are not embedded and cover Windows-1252 only (most
// Latin-script names). A line with other characters (Łukasz, Ελένη, Юлия) is set in DejaVu Sans
// when the machine has it (embedded, subset to the glyphs used); otherwise those characters print
// as "?" on the proof. The CSV always has the exact UTF-8 text.
const WIN_ANSI = /^[\x20-\x7e\xa0-\xff€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]*$/;
const UNICODE_FONTS = {
  regular: ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
  bold: ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
};
const unicodeFont = {
  regular: UNICODE_FONTS.regular.find((f) => existsSync(f)) ?? null,
  bold: UNICODE_FONTS.bold.find((f) => existsSync(f)) ?? null,
};

/** Sets the font for `text` (a Unicode font when the standard one lacks a character); the text to draw. */
function useFont(
  doc: PDFKit.PDFDocument,
  text: string,
  weight: "regular" | "bold",
  size: number,
): string {
  const standard = weight === "bold" ? "Helvetica-Bold" : "Helvetica";
  if (WIN_ANSI.test(text)) {
    doc.font(standard).fontSize(size);
    return text;
  }
  const fallback = unicodeFont[weight];
  if (fallback) {
    doc.font(fallback).fontSize(size);
    return text;
  }
  doc.font(standard).fontSize(size);
  return [...text].map((ch) => (WIN_ANSI.test(ch) ? ch : "?")).join("");
}

/** `text` cut to `width` at the current font and size, with an ellipsis when it was cut. */
function fit(doc: PDFKit.PDFDocument, text: string, width: number): string {
  if (doc.widthOfString(text) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (doc.widthOfString(`${text.slice(0, mid)}…`) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo).trimEnd()}…`;
}

/** Courier is monospaced (0.6 em): this many URL characters fit on a line of the card. */
const URL_CHARS = Math.floor(TEXT_WIDTH / (0.6 * 7));

function drawCard(
  doc: PDFKit.PDFDocument,
  r: PrintRunRow,
  publicUrl: string,
  x: number,
  y: number,
): void {
  const url = purlUrl(publicUrl, r.token);
  doc.fillColor("#000000");
  doc.addContent(qrPath(url, x + PAD, y + (CARD.height - QR_SIZE) / 2, QR_SIZE));
  // Text is placed line by line (no wrapping engine): pdfkit's line wrapper was most of the time.
  const tx = x + TEXT_X;
  let ty = y + PAD + 2;
  const name = useFont(doc, oneLine(fullName(r)), "bold", 10);
  doc.text(fit(doc, name, TEXT_WIDTH), tx, ty, { lineBreak: false });
  ty += 16;
  const cityLine = [oneLine(r.postalCode), oneLine(r.city)].filter(Boolean).join(" ");
  for (const line of [
    oneLine(r.addressLine1),
    oneLine(r.addressLine2),
    cityLine,
    oneLine(r.country),
  ]) {
    if (!line) continue;
    doc.text(fit(doc, useFont(doc, line, "regular", 8), TEXT_WIDTH), tx, ty, { lineBreak: false });
    ty += 10;
  }
  doc.font("Courier").fontSize(7);
  let uy = y + CARD.height - PAD - 30;
  for (let i = 0; i < url.length && i < URL_CHARS * 3; i += URL_CHARS) {
    doc.text(url.slice(i, i + URL_CHARS), tx, uy, { lineBreak: false });
    uy += 8;
  }
  const id = useFont(doc, `Customer ${oneLine(r.externalId)}`, "regular", 6);
  doc.fillColor("#666666");
  doc.text(fit(doc, id, TEXT_WIDTH), tx, y + CARD.height - PAD - 5, {
    lineBreak: false,
  });
}

function waitForRoom(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}

/**
 * The proof sheet: A4 pages of 10 cards (85 × 55 mm, no gutters, so one cut serves two cards)
 * with crop marks in the margins and a footer naming the run and the page. Drawing pauses while
 * the reader is more than 1 MB behind, and stops when the reader goes away.
 */
export function printRunPdf(
  rows: AsyncIterable<PrintRunRow>,
  opts: { publicUrl: string; source: PrintRunSource; total: number },
): Readable {
  const out = new PassThrough({ highWaterMark: PDF_BUFFER });
  const doc = new PDFDocument({
    size: "A4",
    margin: 0,
    autoFirstPage: false,
    info: {
      Title: `Print proof: ${opts.source.journeyName} — ${opts.source.stepName}`,
      Creator: "Postpath",
    },
  });
  doc.on("data", (chunk: Buffer) => {
    if (!out.destroyed) out.write(chunk);
  });
  doc.on("end", () => out.end());
  const pages = Math.max(1, Math.ceil(opts.total / CARDS_PER_PAGE));
  const footer = (page: number) => {
    const text = useFont(
      doc,
      oneLine(
        `Postpath print proof · ${opts.source.journeyName} · ${opts.source.stepName} · page ${page} of ${pages} · ${opts.total.toLocaleString("en-US")} cards`,
      ),
      "regular",
      6,
    );
    doc.fillColor("#666666");
    doc.text(
      fit(doc, text, COLS * CARD.width - 20 * MM),
      LEFT + 10 * MM,
      TOP + ROWS * CARD.height + 8 * MM,
      {
        lineBreak: false,
      },
    );
  };
  void (async () => {
    let index = 0;
    let page = 0;
    for await (const r of rows) {
      if (out.destroyed) return; // the client went away; `for await` ends the row reader
      const slot = index % CARDS_PER_PAGE;
      if (slot === 0) {
        // Drawing is CPU work: give other requests (and the socket) a turn every page.
        await new Promise((resolve) => setImmediate(resolve));
        if (out.writableLength > PDF_BUFFER) await waitForRoom(out);
        if (out.destroyed) return;
        doc.addPage({ size: "A4", margin: 0 });
        page++;
        cropMarks(doc);
        footer(page);
      }
      const col = slot % COLS;
      const row = Math.floor(slot / COLS);
      drawCard(doc, r, opts.publicUrl, LEFT + col * CARD.width, TOP + row * CARD.height);
      index++;
    }
    if (index === 0) {
      doc.addPage({ size: "A4", margin: 0 });
      doc.font("Helvetica").fontSize(12).fillColor("#000000");
      doc.text("No personal URLs to print yet.", LEFT, TOP, { width: COLS * CARD.width });
      footer(1);
    }
    doc.end();
  })().catch((err: unknown) => {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return out;
}

// --- HTTP -------------------------------------------------------------------------------------

export interface PrintRunOptions {
  db: Database;
  engine: EngineContext;
  monitor: DependencyMonitor;
}

type Params = { journeyId: string; stepId: string };

const EXPORT_ROLES = new Set(["ADMIN", "MARKETER"]);

/** The signed-in user, or null after answering 503/401. */
export async function signedIn(
  opts: PrintRunOptions,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<SessionUser | null> {
  if (opts.monitor.down() === "postgres") {
    sendUnavailable(reply, "postgres");
    return null;
  }
  const user = await userForSession(opts.db, readCookie(req.headers.cookie, SESSION_COOKIE));
  if (!user) {
    await reply.code(401).send({ error: "Sign in to Postpath to export a print run." });
    return null;
  }
  return user;
}

const NOT_FOUND = "This journey or its personal URL step does not exist in your workspace.";
const UNPUBLISHED =
  "Publish the journey first: a print run lists the personal URLs the published journey has made.";

function fileName(source: PrintRunSource, ext: string): string {
  const slug =
    source.journeyName
      .normalize("NFKD")
      .replace(/[^A-Za-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .toLowerCase()
      .slice(0, 60) || "journey";
  const day = source.asOf.toISOString().slice(0, 10);
  return `print-run-${slug}-${day}.${ext}`;
}

export function registerPrintRun(app: FastifyInstance, opts: PrintRunOptions): void {
  const base = "/exports/journeys/:journeyId/steps/:stepId";
  registerSegmentPrintRun(app, opts); // issue 16: print runs from a segment

  /** The source for a signed-in user (404/409 answered here), or null. */
  async function resolve(
    user: SessionUser,
    params: Params,
    reply: FastifyReply,
  ): Promise<PrintRunSource | null> {
    const found = await findPrintRunSource(
      opts.db,
      user.workspaceId,
      params.journeyId,
      params.stepId,
      new Date(opts.engine.now()),
    );
    if (found === null) await reply.code(404).send({ error: NOT_FOUND });
    else if (found === "unpublished") await reply.code(409).send({ error: UNPUBLISHED });
    else return found;
    return null;
  }

  app.get<{ Params: Params }>(`${base}/summary`, async (req, reply) => {
    const user = await signedIn(opts, req, reply);
    if (!user) return reply;
    const found = await findPrintRunSource(
      opts.db,
      user.workspaceId,
      req.params.journeyId,
      req.params.stepId,
      new Date(opts.engine.now()),
    );
    if (found === null) return reply.code(404).send({ error: NOT_FOUND });
    const canExport = EXPORT_ROLES.has(user.role);
    if (found === "unpublished")
      return reply
        .header("cache-control", "no-store")
        .send({ published: false, purls: 0, pages: 0, cardsPerPage: CARDS_PER_PAGE, canExport });
    const purls = await countPrintRun(opts.db, found);
    return reply.header("cache-control", "no-store").send({
      published: true,
      journeyName: found.journeyName,
      stepName: found.stepName,
      purls,
      pages: Math.max(1, Math.ceil(purls / CARDS_PER_PAGE)),
      cardsPerPage: CARDS_PER_PAGE,
      canExport,
    });
  });

  for (const format of ["csv", "pdf"] as const) {
    const route = format === "csv" ? `${base}/purls.csv` : `${base}/proof.pdf`;
    // No HEAD twin: it would count, audit and start drawing an export nobody receives.
    app.get<{ Params: Params }>(route, { exposeHeadRoute: false }, async (req, reply) => {
      const user = await signedIn(opts, req, reply);
      if (!user) return reply;
      if (!EXPORT_ROLES.has(user.role))
        return reply.code(403).send({
          error:
            "Only marketers and admins can export a print run: it lists customers' names and addresses.",
        });
      const source = await resolve(user, req.params, reply);
      if (!source) return reply;
      const total = await countPrintRun(opts.db, source);
      await recordAudit(
        opts.db,
        user,
        "printRun.export",
        { type: "Journey", id: source.journeyId },
        { stepId: source.stepId, format, rows: total },
      );
      const rows = printRunRows(opts.db, source);
      const publicUrl = opts.engine.publicUrl;
      void reply
        .header("cache-control", "private, no-store")
        .header("x-print-run-rows", String(total))
        .header("content-disposition", `attachment; filename="${fileName(source, format)}"`);
      if (format === "csv")
        return reply.type("text/csv; charset=utf-8").send(printRunCsv(rows, publicUrl));
      return reply
        .type("application/pdf")
        .header("x-print-run-pages", String(Math.max(1, Math.ceil(total / CARDS_PER_PAGE))))
        .send(printRunPdf(rows, { publicUrl, source, total }));
    });
  }
}
