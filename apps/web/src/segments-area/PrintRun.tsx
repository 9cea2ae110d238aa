// issue 14 item 5 / issue 16: a print run from a segment — one personal URL per member for a
// landing page (a re-run of the same mail drop mints only for new members), then the printer's
// CSV and the PDF proof sheet, streamed by the server.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatCount } from "../format.ts";
import { errorMessage, useTRPC } from "../trpc.ts";

export function PrintRun({ segmentId }: { segmentId: string }) {
  const trpc = useTRPC();
  const [page, setPage] = useState("");
  const [drop, setDrop] = useState("main");
  const mint = useMutation(trpc.segments.mintPurls.mutationOptions());
  // The landing page is chosen from the workspace's pages by name (it was a free-text "address",
  // the page's slug, which a marketer had to look up in Pages: walk 2026-12-05).
  const pages = useQuery(trpc.pages.list.queryOptions());
  const submit = (e: FormEvent) => {
    e.preventDefault();
    mint.mutate({ id: segmentId, page: page.trim(), drop: drop.trim() });
  };
  const done = mint.data;
  const base = done
    ? `/exports/segments/${encodeURIComponent(segmentId)}/drops/${encodeURIComponent(done.drop)}/pages/${encodeURIComponent(done.page)}`
    : null;
  return (
    <section className="segments__print" aria-labelledby="print-title">
      <h2 id="print-title">Print run</h2>
      <p className="muted">
        Make a personal URL and QR code for every customer in this segment, for a landing page, then
        download the mail drop for the printer. Running the same mail drop again only adds customers
        who joined since.
      </p>
      <form className="segments__lifecycle-form" onSubmit={submit}>
        <label>
          Landing page
          <select
            value={page}
            onChange={(e) => setPage(e.target.value)}
            disabled={!pages.data?.length}
          >
            <option value="">
              {pages.isPending
                ? "Loading pages…"
                : pages.data?.length
                  ? "Choose a page"
                  : "No pages yet: make one in Pages"}
            </option>
            {pages.data?.map((p) => (
              <option key={p.id} value={p.slug}>
                {p.publishedVersion === null ? `${p.name} (not published yet)` : p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mail drop name
          <input value={drop} onChange={(e) => setDrop(e.target.value)} />
        </label>
        <button type="submit" disabled={!page.trim() || mint.isPending}>
          {mint.isPending ? "Making links…" : "Make personal URLs"}
        </button>
      </form>
      {pages.isError ? (
        <p className="form-error" role="alert">
          Could not load the pages: {errorMessage(pages.error)}
        </p>
      ) : null}
      {mint.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(mint.error)}
        </p>
      ) : null}
      {done && base ? (
        <p role="status">
          {formatCount(done.members)} customers · {formatCount(done.created)} new links.{" "}
          <a href={`${base}/purls.csv`}>Download CSV</a> ·{" "}
          <a href={`${base}/proof.pdf`}>Download PDF proof</a>
          {done.published ? null : " (the page is not published yet: publish it before mailing)"}
        </p>
      ) : null}
    </section>
  );
}
