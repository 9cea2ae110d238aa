// issue 14: the Pages area — the workspace's landing pages, and "New page".
import { PageSlug } from "@postpath/journey";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Dialog } from "../components/Dialog.tsx";
import { formatDateTime } from "../format.ts";
import { navigate } from "../routing.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import type { PageListItem } from "./contract.ts";
import { pagesHrefs, slugFromName } from "./routes.ts";

export function PageListPage() {
  const trpc = useTRPC();
  const pages = useQuery(trpc.pages.list.queryOptions());
  const me = useQuery(trpc.auth.me.queryOptions());
  const canEdit = me.data ? me.data.role !== "VIEWER" : false;
  const [creating, setCreating] = useState(false);
  return (
    <section className="page" aria-labelledby="pages-title">
      <div className="page__title">
        <h1 id="pages-title">Pages</h1>
        {canEdit ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New page
          </button>
        ) : null}
      </div>
      <p className="muted">
        Landing pages your customers open from a personal link or QR code. Publish a page to make it
        visible; its links keep working when you publish changes.
      </p>
      {creating ? <NewPageDialog onClose={() => setCreating(false)} /> : null}
      {pages.isPending ? (
        <p role="status">Loading pages…</p>
      ) : pages.isError ? (
        <p className="form-error" role="alert">
          Could not load pages: {pages.error.message}
        </p>
      ) : (
        <PageTable pages={pages.data} />
      )}
    </section>
  );
}

export function PageTable({ pages }: { pages: readonly PageListItem[] }) {
  if (pages.length === 0) return <p>No pages yet.</p>;
  // A narrow window scrolls the table sideways in its own box, not the whole page.
  return (
    <div className="table-scroll" role="region" aria-label="Pages" tabIndex={0}>
      <PageRows pages={pages} />
    </div>
  );
}

function PageRows({ pages }: { pages: readonly PageListItem[] }) {
  return (
    <table className="journeys">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Address</th>
          <th scope="col">Status</th>
          <th scope="col">Last edited</th>
        </tr>
      </thead>
      <tbody>
        {pages.map((page) => (
          // The name is the keyboard-reachable link; the rest of the row is a larger mouse target.
          <tr
            key={page.id}
            className="journeys__row"
            onClick={() => navigate(pagesHrefs.page(page.id))}
          >
            <th scope="row">
              <a href={pagesHrefs.page(page.id)}>{page.name}</a>
            </th>
            <td>
              <code>{page.slug}</code>
            </td>
            <td>
              {page.publishedVersion === null ? (
                <span className="status status--draft">Draft</span>
              ) : (
                <span className="status status--live">Published v{page.publishedVersion}</span>
              )}
            </td>
            <td>
              <time dateTime={page.updatedAt}>{formatDateTime(page.updatedAt)}</time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A name and an address (suggested from the name until the marketer types one). */
function NewPageDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState<string | null>(null);
  const address = slug ?? slugFromName(name);
  const [tried, setTried] = useState(false);
  const create = useMutation(
    trpc.pages.create.mutationOptions({
      onSuccess: async (r) => {
        // The list includes the new page when it is shown again.
        await queryClient.invalidateQueries({ queryKey: trpc.pages.list.queryKey() });
        navigate(pagesHrefs.page(r.id));
      },
    }),
  );
  const nameProblem = name.trim() ? null : "Give the page a name.";
  const checked = PageSlug.safeParse(address);
  const addressProblem = checked.success ? null : (checked.error.issues[0]?.message ?? null);
  return (
    <Dialog title="New page" onClose={onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setTried(true);
          if (nameProblem || addressProblem) return;
          create.mutate({ name: name.trim(), slug: address });
        }}
      >
        <div className="field">
          <label htmlFor="new-page-name">Name</label>
          <input
            id="new-page-name"
            type="text"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={tried && nameProblem ? true : undefined}
            aria-describedby={tried && nameProblem ? "new-page-name-error" : undefined}
          />
          {tried && nameProblem ? (
            <span id="new-page-name-error" className="field__error">
              {nameProblem}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="new-page-slug">Page address</label>
          <input
            id="new-page-slug"
            type="text"
            value={address}
            onChange={(e) => setSlug(e.target.value)}
            aria-invalid={tried && addressProblem ? true : undefined}
            aria-describedby="new-page-slug-help"
          />
          <span id="new-page-slug-help" className="muted">
            {tried && addressProblem ? (
              <span className="field__error">{addressProblem}</span>
            ) : (
              "A journey's personal-link step names the page by this address."
            )}
          </span>
        </div>
        {create.error ? (
          <p className="form-error" role="alert">
            {errorMessage(create.error)}
          </p>
        ) : null}
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
