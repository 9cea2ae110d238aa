// Print run (issue 14): on a personal URL step of a published journey, the mail drop for the
// printer — a CSV (one row per card) and a PDF proof sheet (10 cards per A4 page) — downloaded
// from the server's streaming routes (apps/server/src/print-run.ts) with a progress bar.
// The total comes first from `/summary` and again in the download's `x-print-run-rows` header;
// progress counts CSV records (line ends outside quotes) or finished PDF pages as they arrive.
import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { formatCount } from "../../format.ts";
import { useEditorStore } from "../store.ts";

interface Summary {
  published: boolean;
  purls: number;
  pages: number;
  cardsPerPage: number;
  canExport: boolean;
}

type Format = "csv" | "pdf";

type Download =
  | { state: "idle" }
  | { state: "running"; format: Format; done: number; total: number; bytes: number }
  | { state: "saved"; format: Format; rows: number; bytes: number }
  | { state: "failed"; message: string };

/** Counts CSV records as bytes arrive: a line end outside quotes ends a record. */
export function csvRecordCounter(): (chunk: Uint8Array) => number {
  let quoted = false;
  let records = 0;
  return (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0x22) quoted = !quoted;
      else if (b === 0x0a && !quoted) records++;
    }
    return records;
  };
}

const PAGE = "/Type /Page";

/** Counts finished PDF pages (`/Type /Page` objects, not `/Type /Pages`) as bytes arrive. */
export function pdfPageCounter(): (chunk: Uint8Array) => number {
  const decoder = new TextDecoder("latin1");
  let carry = "";
  let pages = 0;
  return (chunk) => {
    const text = carry + decoder.decode(chunk);
    for (let i = text.indexOf(PAGE); i >= 0; i = text.indexOf(PAGE, i + 1)) {
      const next = i + PAGE.length;
      if (next >= text.length) break; // the next byte decides: counted with the next chunk
      if (text[next] !== "s") pages++;
    }
    carry = text.slice(-PAGE.length);
    return pages;
  };
}

const megabytes = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

function fileNameOf(res: Response, fallback: string): string {
  const m = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "");
  return m?.[1] ?? fallback;
}

async function errorOf(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON
  }
  return `The download failed (HTTP ${res.status}). Try again.`;
}

/** The journey id of the loaded canvas (the editor's key is `<journeyId>@<draftRevision>`). */
function journeyIdOf(loadedKey: string | null): string | null {
  if (!loadedKey) return null;
  const at = loadedKey.lastIndexOf("@");
  return at > 0 ? loadedKey.slice(0, at) : loadedKey;
}

export function PrintRunPanel({ stepId }: { stepId: string }) {
  const journeyId = journeyIdOf(useEditorStore((s) => s.loadedKey));
  const base = journeyId
    ? `/exports/journeys/${encodeURIComponent(journeyId)}/steps/${encodeURIComponent(stepId)}`
    : null;
  const summary = useQuery({
    queryKey: ["printRun", journeyId, stepId],
    enabled: base !== null,
    queryFn: async (): Promise<Summary> => {
      const res = await fetch(`${base}/summary`, { credentials: "same-origin" });
      if (!res.ok) throw new Error(await errorOf(res));
      return (await res.json()) as Summary;
    },
  });
  const [download, setDownload] = useState<Download>({ state: "idle" });
  const abort = useRef<AbortController | null>(null);

  async function start(format: Format) {
    if (!base || !summary.data) return;
    const controller = new AbortController();
    abort.current = controller;
    const perRow = format === "pdf" ? summary.data.cardsPerPage : 1;
    let total = summary.data.purls;
    setDownload({ state: "running", format, done: 0, total, bytes: 0 });
    try {
      const res = await fetch(`${base}/${format === "csv" ? "purls.csv" : "proof.pdf"}`, {
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!res.ok || !res.body) throw new Error(await errorOf(res));
      total = Number(res.headers.get("x-print-run-rows") ?? total);
      const count = format === "csv" ? csvRecordCounter() : pdfPageCounter();
      const reader = res.body.getReader();
      const parts: Uint8Array[] = [];
      let bytes = 0;
      let counted = 0;
      let last = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        bytes += value.length;
        counted = count(value);
        const now = performance.now();
        if (now - last > 100) {
          last = now;
          // CSV: records minus the header; PDF: cards on the pages finished so far.
          const rows = Math.min(
            total,
            Math.max(0, format === "csv" ? counted - 1 : counted * perRow),
          );
          setDownload({ state: "running", format, done: rows, total, bytes });
        }
      }
      const rows = format === "csv" ? counted - 1 : total;
      const tail = new TextDecoder("latin1").decode(parts.at(-1)?.subarray(-16));
      if ((format === "csv" && rows !== total) || (format === "pdf" && !tail.includes("%%EOF")))
        throw new Error("The download was cut off before the end. Try again.");
      const blob = new Blob(parts as BlobPart[], {
        type: format === "csv" ? "text/csv;charset=utf-8" : "application/pdf",
      });
      const href = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = href;
      a.download = fileNameOf(res, `print-run.${format}`);
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
      setDownload({ state: "saved", format, rows, bytes });
    } catch (e) {
      setDownload(
        controller.signal.aborted
          ? { state: "idle" }
          : {
              state: "failed",
              message: e instanceof Error ? e.message : "The download failed. Try again.",
            },
      );
    } finally {
      abort.current = null;
    }
  }

  const running = download.state === "running";
  const data = summary.data;
  return (
    <section className="print-run" aria-labelledby={`print-run-${stepId}`}>
      <h3 id={`print-run-${stepId}`}>Print run</h3>
      {summary.isPending && base ? <p className="muted">Counting the cards…</p> : null}
      {summary.isError ? (
        <p className="form-error" role="alert">
          {summary.error.message}
        </p>
      ) : null}
      {data && !data.published ? (
        <p className="muted">
          Publish the journey to print its cards: the print run lists the personal URLs the
          published journey has made.
        </p>
      ) : null}
      {data?.published ? (
        <>
          <p>
            {data.purls === 0
              ? "No personal URLs yet: cards appear here as customers reach this step."
              : `${formatCount(data.purls)} ${data.purls === 1 ? "card" : "cards"} to print (${formatCount(data.pages)} proof ${data.pages === 1 ? "page" : "pages"}, ${data.cardsPerPage} cards per A4 page).`}
          </p>
          <p className="muted">
            The CSV is for the mail house: one row per card with the customer id, name, email,
            address (customer attributes address_line1, address_line2, postal_code, city, country),
            the personal URL and its QR code image. The PDF proof shows every card with its name,
            URL and QR code, with crop marks.
          </p>
          {data.canExport ? (
            <div className="panel__actions">
              {(["csv", "pdf"] as const).map((f) => (
                <button
                  key={f}
                  type="button"
                  disabled={running || data.purls === 0}
                  onClick={() => void start(f)}
                >
                  {f === "csv" ? "Download CSV" : "Download PDF proof"}
                </button>
              ))}
              {running ? (
                <button type="button" onClick={() => abort.current?.abort()}>
                  Cancel
                </button>
              ) : null}
            </div>
          ) : (
            <p className="muted">
              Only marketers and admins can download print runs: they contain customers&apos; names
              and addresses.
            </p>
          )}
        </>
      ) : null}
      {download.state === "running" ? (
        <div role="status" aria-live="polite">
          <progress
            max={Math.max(1, download.total)}
            value={download.done}
            aria-label={download.format === "csv" ? "CSV download" : "PDF proof download"}
            style={{ width: "100%" }}
          />
          <p className="muted">
            {formatCount(download.done)} of {formatCount(download.total)} cards ·{" "}
            {megabytes(download.bytes)} received
          </p>
        </div>
      ) : null}
      {download.state === "saved" ? (
        <p role="status">
          Saved the {download.format === "csv" ? "CSV" : "PDF proof"}: {formatCount(download.rows)}{" "}
          cards, {megabytes(download.bytes)}.
        </p>
      ) : null}
      {download.state === "failed" ? (
        <p className="form-error" role="alert">
          {download.message}
        </p>
      ) : null}
    </section>
  );
}
