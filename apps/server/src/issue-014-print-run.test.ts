// Print runs (issue 14, item 5) on the real app: a published journey's PURL step exports a CSV
// and a PDF proof sheet through the streaming routes, signed in with the web session cookie.
import { randomBytes } from "node:crypto";
import { hashPassword } from "@postpath/api";
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CARDS_PER_PAGE,
  CSV_COLUMNS,
  findPrintRunSource,
  printRunRows,
  type PrintRunSource,
} from "./print-run.ts";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";
import { insertPurls } from "./testing/print-run.ts";

/** RFC 4180 parser for checking what we wrote (quotes, doubled quotes, CRLF inside quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else field += ch;
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

const pageObjects = (pdf: Buffer) =>
  (pdf.toString("latin1").match(/\/Type \/Page\b(?!s)/g) ?? []).length;

const ADA = {
  first_name: "Ada",
  last_name: "Lovelace",
  address_line1: "12 St James's Square",
  address_line2: "Flat 3",
  postal_code: "SW1Y 4JH",
  city: "London",
  country: "GB",
};
const TRICKY = {
  first_name: 'Jean "JJ", Jr.',
  last_name: "O'Neil\nSecond line",
  city: "Saint-Denis, Réunion – Łódź", // Ł is not in the PDF standard fonts
};
const FORMULA = {
  first_name: "=cmd|' /C calc'!A0",
  last_name: "+SUM(1;2)",
  address_line1: "-2+3",
  city: "@risk",
  country: "\tTAB",
};

describe("print run of a journey's personal URL step", () => {
  let h: Harness;
  let api: ReturnType<typeof trpcHttp>;
  let journeyId: string;
  let url: (file: string) => string;

  const writeAuth = () => ({
    authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
    "content-type": "application/json",
  });
  const send = async (path: string, body: unknown) => {
    const res = await fetch(`${h.baseUrl}/v1/${path}`, {
      method: "POST",
      headers: writeAuth(),
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  const get = (file: string, cookie: string | null) =>
    fetch(url(file), { headers: cookie ? { cookie } : {} });

  beforeAll(async () => {
    h = await startHarness();
    api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const draft = draftFromSteps(
      [
        { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "card" },
        {
          id: "card",
          type: "action.purl",
          data: { page: "register", params: { serial: "{{ event.serial }}" } },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ],
      { entry: { mode: "afterExit" } },
    );
    const created = await api.mutation("journeys.create", { name: "Registration cards", draft });
    expect(created.status).toBe(200);
    journeyId = created.body.result.data.id as string;
    expect((await api.mutation("journeys.publish", { id: journeyId })).status).toBe(200);
    url = (file) => `${h.baseUrl}/exports/journeys/${journeyId}/steps/card/${file}`;

    await send("identify", { userId: "ada", traits: { email: "ada@example.com", ...ADA } });
    await send("identify", { userId: "jean", traits: TRICKY });
    await send("identify", { userId: "mallory", traits: FORMULA });
    // Ada bought two machines: two runs, two personal URLs, two cards.
    const purchase = (userId: string, serial: string) =>
      send("track", {
        userId,
        event: "purchase",
        properties: { serial },
        messageId: `buy-${serial}`,
      });
    await purchase("ada", "SN-1");
    await waitFor(
      "Ada's first run to end",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) === 1,
    );
    await purchase("ada", "SN-2");
    await purchase("jean", "SN-3");
    await purchase("mallory", "SN-4");
    await waitFor(
      "four personal URLs",
      async () => (await h.db.prisma.purl.count({ where: { workspaceId: h.workspaceId } })) === 4,
      { progress: () => h.db.prisma.purl.count() },
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it("exports one CSV row per personal URL with the customer's name and address", async () => {
    const res = await get("purls.csv", api.cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="print-run-registration-cards-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(res.headers.get("x-print-run-rows")).toBe("4");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 BOM for spreadsheets
    const [header, ...rows] = parseCsv(bytes.subarray(3).toString("utf8"));
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(4);
    const col = (row: string[], name: (typeof CSV_COLUMNS)[number]) =>
      row[CSV_COLUMNS.indexOf(name)];
    const purls = await h.db.prisma.purl.findMany({ where: { workspaceId: h.workspaceId } });
    const customers = await h.db.prisma.customer.findMany({
      where: { workspaceId: h.workspaceId },
    });
    const externalOf = new Map(customers.map((c) => [c.id, c.externalId]));
    const base = h.engine.publicUrl.replace(/\/$/, "");
    // Every PURL once, with its own customer.
    expect(rows.map((r) => `${col(r, "customer_id")} ${col(r, "purl")}`).sort()).toEqual(
      purls.map((p) => `${externalOf.get(p.customerId)} ${base}/p/${p.token}`).sort(),
    );
    for (const r of rows) expect(col(r, "qr_image_url")).toBe(`${col(r, "purl")}/qr.png`);

    const adas = rows.filter((r) => col(r, "customer_id") === "ada");
    expect(adas).toHaveLength(2);
    expect(adas[0]).toEqual([
      "ada",
      "Ada",
      "Lovelace",
      "Ada Lovelace",
      "ada@example.com",
      ADA.address_line1,
      ADA.address_line2,
      ADA.postal_code,
      ADA.city,
      ADA.country,
      col(adas[0]!, "purl"),
      col(adas[0]!, "qr_image_url"),
      "",
    ]);

    // Commas, quotes and a line break survive the round trip.
    const jean = rows.find((r) => col(r, "customer_id") === "jean")!;
    expect(col(jean, "first_name")).toBe(TRICKY.first_name);
    expect(col(jean, "last_name")).toBe(TRICKY.last_name);
    expect(col(jean, "name")).toBe(`${TRICKY.first_name} ${TRICKY.last_name}`);
    expect(col(jean, "city")).toBe(TRICKY.city);

    // Cells a spreadsheet would run as formulas start with ' (shown as text).
    const mallory = rows.find((r) => col(r, "customer_id") === "mallory")!;
    expect(col(mallory, "first_name")).toBe(`'${FORMULA.first_name}`);
    expect(col(mallory, "last_name")).toBe(`'${FORMULA.last_name}`);
    expect(col(mallory, "name")).toBe(`'${FORMULA.first_name} ${FORMULA.last_name}`);
    expect(col(mallory, "address_line1")).toBe(`'${FORMULA.address_line1}`);
    expect(col(mallory, "city")).toBe(`'${FORMULA.city}`);
    expect(col(mallory, "country")).toBe(`'${FORMULA.country}`);
    for (const r of rows)
      for (const cell of r) expect(cell.startsWith("=") || cell.startsWith("+")).toBe(false);

    // The QR image URL is served.
    const qr = await fetch(col(adas[0]!, "qr_image_url")!.replace(base, h.baseUrl));
    expect(qr.headers.get("content-type")).toBe("image/png");
  });

  it("exports a PDF proof with one card per personal URL, 10 per A4 page", async () => {
    const res = await get("proof.pdf", api.cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("x-print-run-pages")).toBe("1");
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(pdf.subarray(-6).toString("latin1")).toMatch(/%%EOF\s*$/);
    expect(pageObjects(pdf)).toBe(1);
  });

  it("counts in the summary what the downloads contain, and audits who exported how many", async () => {
    const summary = await get("summary", api.cookie);
    expect(summary.status).toBe(200);
    expect(await summary.json()).toMatchObject({
      published: true,
      journeyName: "Registration cards",
      purls: 4,
      pages: 1,
      cardsPerPage: CARDS_PER_PAGE,
      canExport: true,
    });
    const marketer = await h.db.prisma.user.findFirstOrThrow({
      where: { email: h.marketer.email },
    });
    const audits = await h.db.prisma.auditLog.findMany({
      where: { workspaceId: h.workspaceId, action: "printRun.export" },
      orderBy: { at: "asc" },
    });
    // A HEAD request starts no export (and is not audited as one).
    const head = await fetch(url("proof.pdf"), { method: "HEAD", headers: { cookie: api.cookie } });
    expect(head.status).toBe(404);
    expect(
      await h.db.prisma.auditLog.count({
        where: { workspaceId: h.workspaceId, action: "printRun.export" },
      }),
    ).toBe(audits.length);
    expect(audits.map((a) => [a.actorId, a.targetId, a.detail])).toEqual(
      expect.arrayContaining([
        [marketer.id, journeyId, { stepId: "card", format: "csv", rows: 4 }],
        [marketer.id, journeyId, { stepId: "card", format: "pdf", rows: 4 }],
      ]),
    );
  });

  it("pages through many PURLs by keyset without losing or repeating one", async () => {
    const version = await h.db.prisma.journeyVersion.findFirstOrThrow({ where: { journeyId } });
    await insertPurls(h.db, {
      workspaceId: h.workspaceId,
      journeyId,
      versionId: version.id,
      stepId: "card",
      prefix: "bulk",
      count: 41,
    });
    // A run that went through the step twice (a loop) has two links: both are printed.
    await h.db.query(
      `WITH m AS (
         INSERT INTO "Message" (id, "workspaceId", "runId", "stepId", "runSeq", channel, "idempotencyKey", "customerId")
         VALUES ('bulk-loop', $1, 'bulk-r0000003', 'card', 2, 'purl', 'bulk-loop-key', 'bulk-c0000003')
         RETURNING id, "idempotencyKey", "createdAt"
       )
       INSERT INTO "MessageKey" ("idempotencyKey", "messageId", "createdAt")
       SELECT "idempotencyKey", id, "createdAt" FROM m`,
      [h.workspaceId],
    );
    await h.db.query(
      `INSERT INTO "Purl" (token, "workspaceId", "runId", "customerId", "messageId", page)
       VALUES ('bulkt0000003b', $1, 'bulk-r0000003', 'bulk-c0000003', 'bulk-loop', 'register')`,
      [h.workspaceId],
    );
    // An expired link is not printed; one made by another step is not in this step's run.
    await h.db.prisma.purl.update({
      where: { token: "bulkt0000007" },
      data: { expiresAt: new Date(Date.now() - 60_000) },
    });
    await h.db.prisma.message.updateMany({
      where: { id: "bulk-m0000008" },
      data: { stepId: "other" },
    });
    const source = (await findPrintRunSource(
      h.db,
      h.workspaceId,
      journeyId,
      "card",
      new Date(),
    )) as PrintRunSource;
    const all: string[] = [];
    for await (const r of printRunRows(h.db, source, 1000)) all.push(r.token);
    expect(all).toHaveLength(4 + 41 + 1 - 2);
    expect(all).toContain("bulkt0000003b");
    expect(all).not.toContain("bulkt0000007");
    expect(all).not.toContain("bulkt0000008");
    for (const size of [1, 3, 7]) {
      const paged: string[] = [];
      for await (const r of printRunRows(h.db, source, size)) paged.push(r.token);
      expect(paged).toEqual(all);
    }

    const csv = await get("purls.csv", api.cookie);
    expect(parseCsv((await csv.text()).replace(/^\uFEFF/, ""))).toHaveLength(1 + 44);
    const pdf = Buffer.from(await (await get("proof.pdf", api.cookie)).arrayBuffer());
    expect(pageObjects(pdf)).toBe(Math.ceil(44 / CARDS_PER_PAGE));
  });

  it("refuses without a session (401), viewers' downloads (403), other workspaces (404)", async () => {
    for (const file of ["summary", "purls.csv", "proof.pdf"]) {
      expect((await get(file, null)).status).toBe(401);
      expect((await get(file, "pp_session=not-a-session")).status).toBe(401);
    }

    // A viewer sees how many cards there are but cannot download names and addresses.
    const password = "correct horse battery";
    const viewerEmail = `viewer-${randomBytes(4).toString("hex")}@example.com`;
    await h.db.prisma.user.create({
      data: {
        workspaceId: h.workspaceId,
        email: viewerEmail,
        name: "Vera",
        role: "VIEWER",
        passwordHash: await hashPassword(password),
      },
    });
    const viewer = trpcHttp(h.baseUrl);
    expect((await viewer.mutation("auth.signIn", { email: viewerEmail, password })).status).toBe(
      200,
    );
    const summary = await get("summary", viewer.cookie);
    expect(summary.status).toBe(200);
    expect(await summary.json()).toMatchObject({ canExport: false });
    for (const file of ["purls.csv", "proof.pdf"]) {
      const res = await get(file, viewer.cookie);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/marketers and admins/);
    }

    // An admin of the workspace may export.
    const admin = trpcHttp(h.baseUrl);
    expect((await admin.mutation("auth.signIn", h.admin)).status).toBe(200);
    expect((await get("purls.csv", admin.cookie)).status).toBe(200);

    // A marketer of another workspace: this journey does not exist for them.
    const otherEmail = `other-${randomBytes(4).toString("hex")}@example.com`;
    const other = await h.db.prisma.workspace.create({
      data: {
        name: "Other Co",
        slug: `other-${randomBytes(4).toString("hex")}`,
        users: {
          create: {
            email: otherEmail,
            name: "Otto",
            role: "MARKETER",
            passwordHash: await hashPassword(password),
          },
        },
      },
    });
    const outsider = trpcHttp(h.baseUrl);
    expect((await outsider.mutation("auth.signIn", { email: otherEmail, password })).status).toBe(
      200,
    );
    for (const file of ["summary", "purls.csv", "proof.pdf"])
      expect((await get(file, outsider.cookie)).status).toBe(404);
    expect(
      await h.db.prisma.auditLog.count({
        where: { workspaceId: other.id, action: "printRun.export" },
      }),
    ).toBe(0);
  });

  it("answers 404 for a step that is not a personal URL step and 409 before publishing", async () => {
    const unknown = await fetch(`${h.baseUrl}/exports/journeys/${journeyId}/steps/x/purls.csv`, {
      headers: { cookie: api.cookie },
    });
    expect(unknown.status).toBe(404);
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "p" },
      { id: "p", type: "action.purl", data: { page: "register" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const created = await api.mutation("journeys.create", { name: "Not yet", draft });
    const draftId = created.body.result.data.id as string;
    const res = await fetch(`${h.baseUrl}/exports/journeys/${draftId}/steps/p/proof.pdf`, {
      headers: { cookie: api.cookie },
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toMatch(/Publish the journey first/);
    const summary = await fetch(`${h.baseUrl}/exports/journeys/${draftId}/steps/p/summary`, {
      headers: { cookie: api.cookie },
    });
    expect(await summary.json()).toMatchObject({ published: false, purls: 0 });
  });
});
