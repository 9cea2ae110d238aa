// Print run export (issue 14, item 5): 100,000 PURLs of a journey's PURL step exported as CSV and
// as the PDF proof sheet through the real routes (the server app in-process on a fresh database,
// signed in as a marketer, the body read as a browser would and thrown away). Prints seconds,
// rows/s, MB and the peak RSS of this process (sampled every 20 ms) over its RSS before that step
// and over its RSS before the first one (after set-up), against two baselines in the same run:
//   - psql: `COPY (the same rows, same join) TO STDOUT CSV` into /dev/null (Postgres alone);
//   - raw read: the export's own keyset pages (2,000 rows) read in-process, nothing formatted.
//   pnpm bench print-run [--purls 100000] [--skip-pdf]
import { spawn } from "node:child_process";
import { draftFromSteps } from "@postpath/journey";
import {
  CARDS_PER_PAGE,
  findPrintRunSource,
  printRunPdf,
  printRunRows,
  type PrintRunSource,
} from "../apps/server/src/print-run.ts";
import { startHarness, trpcHttp, type Harness } from "../apps/server/src/testing/harness.ts";
import { insertPurls } from "../apps/server/src/testing/print-run.ts";
import { arg, fmt } from "./_engine.ts";

const MB = 1024 * 1024;

/** Samples RSS while `fn` runs; peak growth over the RSS at the start. */
async function measure<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; peakGrowthMb: number; peakMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      value,
      seconds: (performance.now() - t0) / 1000,
      peakGrowthMb: (peak - start) / MB,
      peakMb: peak / MB,
    };
  } finally {
    clearInterval(timer);
  }
}

/** Reads a response body to the end like a browser's stream reader, keeping only counts. */
async function drain(res: Response): Promise<{ bytes: number; newlines: number; tail: string }> {
  if (!res.ok || !res.body) throw new Error(`export answered ${res.status}: ${await res.text()}`);
  const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  let bytes = 0;
  let newlines = 0;
  let last: Uint8Array = new Uint8Array();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    for (let i = 0; i < value.length; i++) if (value[i] === 10) newlines++;
    last = value;
  }
  return { bytes, newlines, tail: Buffer.from(last.subarray(-8)).toString("latin1") };
}

function psqlCopy(url: string, sql: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "psql",
      [url, "-v", "ON_ERROR_STOP=1", "-c", `COPY (${sql}) TO STDOUT WITH CSV HEADER`],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let bytes = 0;
    child.stdout.on("data", (c: Buffer) => (bytes += c.length));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(bytes) : reject(new Error(`psql exited ${code}`)),
    );
  });
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export default async function printRun(args: string[]): Promise<void> {
  const purls = arg(args, "purls", 100_000);
  const h: Harness = await startHarness();
  try {
    const api = trpcHttp(h.baseUrl);
    if ((await api.mutation("auth.signIn", h.marketer)).status !== 200) throw new Error("sign-in");
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "card" },
      { id: "card", type: "action.purl", data: { page: "register" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const created = await api.mutation("journeys.create", { name: "Registration cards", draft });
    const journeyId = (created.body as { result: { data: { id: string } } }).result.data.id;
    if ((await api.mutation("journeys.publish", { id: journeyId })).status !== 200)
      throw new Error("publish");
    const version = await h.db.prisma.journeyVersion.findFirstOrThrow({ where: { journeyId } });

    let t0 = performance.now();
    for (let done = 0; done < purls; done += 50_000) {
      await insertPurls(h.db, {
        workspaceId: h.workspaceId,
        journeyId,
        versionId: version.id,
        stepId: "card",
        prefix: `b${done}`,
        count: Math.min(50_000, purls - done),
      });
    }
    await h.db.exec(`ANALYZE "Customer"; ANALYZE "JourneyRun"; ANALYZE "Message"; ANALYZE "Purl";`);
    console.log(
      `set-up: ${fmt(purls)} customers, runs, messages and PURLs in ${fmt((performance.now() - t0) / 1000, 1)} s (not measured)`,
    );

    const source = (await findPrintRunSource(
      h.db,
      h.workspaceId,
      journeyId,
      "card",
      new Date(Date.now() + 1000),
    )) as PrintRunSource;

    // The plan of one keyset page, to show it is index-driven (no scan of a whole table).
    const plan = await h.db.query<{ "QUERY PLAN": string }>(
      `EXPLAIN SELECT p.token FROM "JourneyRun" r
         JOIN "Message" m ON m."runId" = r.id AND m."stepId" = 'card'
         JOIN "Purl" p ON p."messageId" = m.id
         JOIN "Customer" c ON c.id = p."customerId"
       WHERE r."journeyId" = ${lit(journeyId)} AND r."workspaceId" = ${lit(h.workspaceId)}
         AND (r."customerId", r."entryNumber") >= ('b0-c0050000', 1)
         AND (r."customerId", r."entryNumber", p.token) > ('b0-c0050000', 1, '')
       ORDER BY r."customerId", r."entryNumber", p.token LIMIT 2000`,
    );
    const scans = plan.filter((r) => /Seq Scan/.test(r["QUERY PLAN"]));
    console.log(
      `keyset page plan: ${scans.length === 0 ? "index scans only" : `SEQ SCAN: ${scans.map((s) => s["QUERY PLAN"].trim()).join("; ")}`}`,
    );

    const copySql = `SELECT c."externalId", c.attributes->>'first_name', c.attributes->>'last_name', c.email,
        c.attributes->>'address_line1', c.attributes->>'address_line2', c.attributes->>'postal_code',
        c.attributes->>'city', c.attributes->>'country', ${lit(h.engine.publicUrl + "/p/")} || p.token
      FROM "JourneyRun" r JOIN "Message" m ON m."runId" = r.id AND m."stepId" = 'card'
        JOIN "Purl" p ON p."messageId" = m.id JOIN "Customer" c ON c.id = p."customerId"
      WHERE r."journeyId" = ${lit(journeyId)} ORDER BY r."customerId", r."entryNumber", p.token`;
    const rows: string[][] = [];
    (globalThis as { gc?: () => void }).gc?.();
    const startMb = process.memoryUsage().rss / MB;
    const line = (
      what: string,
      n: number,
      r: { seconds: number; peakGrowthMb: number; peakMb: number },
      bytes?: number,
    ) =>
      rows.push([
        what,
        fmt(r.seconds, 2),
        fmt(n / r.seconds),
        bytes === undefined ? "" : fmt(bytes / MB, 1),
        fmt(r.peakGrowthMb, 1),
        fmt(r.peakMb - startMb, 1),
      ]);

    const copy = await measure(() => psqlCopy(h.db.url, copySql));
    line("baseline: psql COPY … TO STDOUT (CSV)", purls, copy, copy.value);
    const raw = await measure(async () => {
      let n = 0;
      for await (const _ of printRunRows(h.db, source)) n++;
      return n;
    });
    line("baseline: keyset pages read, not formatted", raw.value, raw);

    const url = (file: string) => `${h.baseUrl}/exports/journeys/${journeyId}/steps/card/${file}`;
    const get = (file: string) => fetch(url(file), { headers: { cookie: api.cookie } });
    const summary = await measure(
      async () => (await (await get("summary")).json()) as { purls: number },
    );
    console.log(
      `summary (count for the progress bar): ${fmt(summary.value.purls)} PURLs in ${fmt(summary.seconds * 1000)} ms`,
    );

    const csv = await measure(async () => drain(await get("purls.csv")));
    // Records end in CRLF; with no line breaks inside fields, newlines = header + rows.
    line("export CSV (HTTP, streamed)", csv.value.newlines - 1, csv, csv.value.bytes);
    if (csv.value.newlines - 1 !== purls)
      console.log(`!! CSV has ${csv.value.newlines - 1} rows, expected ${purls}`);

    if (!args.includes("--skip-pdf")) {
      t0 = performance.now();
      const pdf = await measure(async () => drain(await get("proof.pdf")));
      line(`export PDF proof (HTTP, ${CARDS_PER_PAGE} cards/page)`, purls, pdf, pdf.value.bytes);
      if (!pdf.value.tail.includes("%%EOF")) console.log("!! the PDF does not end with %%EOF");
      // The same proof drawn in-process into nothing: what HTTP and the reader add.
      const direct = await measure(async () => {
        let bytes = 0;
        const stream = printRunPdf(printRunRows(h.db, source), {
          publicUrl: h.engine.publicUrl,
          source,
          total: purls,
        });
        for await (const chunk of stream) bytes += (chunk as Buffer).length;
        return bytes;
      });
      line("PDF proof drawn in-process (no HTTP)", purls, direct, direct.value);
    }

    const head = ["", "seconds", "rows/s", "MB", "peak RSS growth MB", "peak RSS over start MB"];
    const widths = head.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
    const pad = (r: string[]) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
    console.log(`\nprint run of ${fmt(purls)} PURLs (goal: ≤ 60 s, RSS growth ≤ 200 MB)`);
    console.log(pad(head));
    for (const r of rows) console.log(pad(r));
  } finally {
    await h.close();
  }
}
