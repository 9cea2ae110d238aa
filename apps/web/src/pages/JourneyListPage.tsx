import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useMemo, useRef, useState } from "react";
import type { JourneyListItem } from "../api/contract.ts";
import { ConfirmDialog, Dialog } from "../components/Dialog.tsx";
import { formatCount, formatDateTime, formatRate } from "../format.ts";
import { hrefs, navigate } from "../routing.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import { StatusBadge } from "./StatusBadge.tsx";

/** Journeys per page of the list (issue 15: a big workspace is read a page at a time). */
export const JOURNEYS_PER_PAGE = 50;

export function JourneyListPage() {
  const trpc = useTRPC();
  const [search, setSearch] = useState("");
  const searched = useDeferredValue(search.trim());
  const journeys = useInfiniteQuery(
    trpc.journeys.list.infiniteQueryOptions(
      { limit: JOURNEYS_PER_PAGE, ...(searched ? { search: searched } : {}) },
      {
        getNextPageParam: (last) => {
          const end = last.at(-1);
          return last.length === JOURNEYS_PER_PAGE && end
            ? { updatedAt: end.updatedAt, id: end.id }
            : undefined;
        },
        placeholderData: (previous) => previous,
      },
    ),
  );
  const rows = useMemo(() => journeys.data?.pages.flat() ?? [], [journeys.data]);
  const me = useQuery(trpc.auth.me.queryOptions());
  const canEdit = me.data ? me.data.role !== "VIEWER" : false;
  const [creating, setCreating] = useState(false);
  return (
    <section className="page" aria-labelledby="journeys-title">
      <div className="page__title">
        <h1 id="journeys-title">Journeys</h1>
        {canEdit ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New journey
          </button>
        ) : null}
      </div>
      {creating ? <NewJourneyDialog onClose={() => setCreating(false)} /> : null}
      <div className="journeys__search">
        <label htmlFor="journey-search">Find a journey</label>
        <input
          id="journey-search"
          type="search"
          placeholder="Part of its name"
          value={search}
          maxLength={200}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      {journeys.isPending ? (
        <p role="status">Loading journeys…</p>
      ) : journeys.isError ? (
        <p className="form-error" role="alert">
          Could not load journeys: {errorMessage(journeys.error)}
        </p>
      ) : rows.length === 0 && searched ? (
        <p role="status">No journey name contains “{searched}”.</p>
      ) : (
        <>
          <JourneyTable journeys={rows} canEdit={canEdit} />
          {journeys.hasNextPage ? (
            <button
              type="button"
              onClick={() => void journeys.fetchNextPage()}
              disabled={journeys.isFetchingNextPage}
            >
              {journeys.isFetchingNextPage ? "Loading…" : "Show more journeys"}
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}

/** Blank, or one of the gallery's templates. */
function NewJourneyDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const templates = useQuery(trpc.journeys.templates.queryOptions());
  const [name, setName] = useState("");
  const [template, setTemplate] = useState("");
  const queryClient = useQueryClient();
  // The list includes the new journey when it is shown again.
  const opened = {
    onSuccess: async (r: { id: string }) => {
      await queryClient.invalidateQueries({ queryKey: trpc.journeys.list.pathKey() });
      navigate(hrefs.journey(r.id));
    },
  };
  const blank = useMutation(trpc.journeys.create.mutationOptions(opened));
  const fromTemplate = useMutation(trpc.journeys.createFromTemplate.mutationOptions(opened));
  const error = blank.error ?? fromTemplate.error;
  const busy = blank.isPending || fromTemplate.isPending;
  // A blank journey needs a name: said at the field (the server's answer came below the gallery,
  // out of sight, with the field scrolled away).
  const [nameMissing, setNameMissing] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  return (
    <Dialog title="New journey" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (template)
            fromTemplate.mutate({ templateId: template, ...(name.trim() ? { name } : {}) });
          else if (!name.trim()) {
            setNameMissing(true);
            nameRef.current?.focus();
          } else blank.mutate({ name });
        }}
      >
        <div className="field">
          <label htmlFor="new-journey-name">
            Name{template ? <span className="muted"> (optional)</span> : null}
          </label>
          <input
            id="new-journey-name"
            ref={nameRef}
            type="text"
            value={name}
            aria-invalid={nameMissing && !template ? true : undefined}
            aria-describedby={nameMissing && !template ? "new-journey-name-error" : undefined}
            onChange={(e) => {
              setName(e.target.value);
              if (e.target.value.trim()) setNameMissing(false);
            }}
          />
          {nameMissing && !template ? (
            <span id="new-journey-name-error" className="field__error" role="alert">
              Give the journey a name, or choose a template below.
            </span>
          ) : null}
        </div>
        <fieldset className="gallery">
          <legend>Start from</legend>
          <label className="gallery__item">
            <input
              type="radio"
              name="template"
              value=""
              checked={template === ""}
              onChange={() => setTemplate("")}
            />
            <strong>Blank journey</strong>
            <span className="muted">An event trigger to start from.</span>
          </label>
          {templates.data?.map((t) => (
            <label className="gallery__item" key={t.id}>
              <input
                type="radio"
                name="template"
                value={t.id}
                checked={template === t.id}
                onChange={() => setTemplate(t.id)}
              />
              <strong>{t.name}</strong>
              <span className="muted">
                {t.description} ({t.steps} steps)
              </span>
            </label>
          ))}
        </fieldset>
        {error ? (
          <p className="form-error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function JourneyTable({
  journeys,
  canEdit = false,
}: {
  journeys: readonly JourneyListItem[];
  canEdit?: boolean;
}) {
  if (journeys.length === 0) return <p>No journeys yet.</p>;
  // A narrow window scrolls the table sideways in its own box, not the whole page.
  return (
    <div className="table-scroll" role="region" aria-label="Journeys" tabIndex={0}>
      <JourneyRows journeys={journeys} canEdit={canEdit} />
    </div>
  );
}

function JourneyRows({
  journeys,
  canEdit,
}: {
  journeys: readonly JourneyListItem[];
  canEdit: boolean;
}) {
  return (
    <table className="journeys">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Status</th>
          <th scope="col">Live version</th>
          <th scope="col" className="num">
            Entered
          </th>
          <th scope="col" className="num">
            Converted
          </th>
          <th scope="col">Last edited</th>
          {canEdit ? <th scope="col">Actions</th> : null}
        </tr>
      </thead>
      <tbody>
        {journeys.map((journey) => (
          // The name is the keyboard-reachable link; the rest of the row is a larger mouse target.
          <tr
            key={journey.id}
            className="journeys__row"
            onClick={() => navigate(hrefs.journey(journey.id))}
          >
            <th scope="row">
              <a href={hrefs.journey(journey.id)}>{journey.name}</a>
            </th>
            <td>
              <StatusBadge status={journey.status} />
            </td>
            <td>{journey.liveVersion === null ? "—" : `v${journey.liveVersion}`}</td>
            <td className="num">{formatCount(journey.entered)}</td>
            <td className="num">
              {formatCount(journey.converted)}{" "}
              <span className="muted">({formatRate(journey.converted, journey.entered)})</span>
            </td>
            <td>
              <time dateTime={journey.updatedAt}>{formatDateTime(journey.updatedAt)}</time>
            </td>
            {canEdit ? (
              <td onClick={(e) => e.stopPropagation()}>
                <RowActions journey={journey} />
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RowActions({ journey }: { journey: JourneyListItem }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.journeys.list.pathKey() });
  const duplicate = useMutation(trpc.journeys.duplicate.mutationOptions({ onSuccess: refresh }));
  const archive = useMutation(trpc.journeys.archive.mutationOptions({ onSuccess: refresh }));
  const [confirming, setConfirming] = useState(false);
  const running = journey.status === "LIVE" || journey.status === "PAUSED";
  return (
    <div className="row-actions">
      <button
        type="button"
        onClick={() => duplicate.mutate({ id: journey.id })}
        disabled={duplicate.isPending}
        aria-label={`Duplicate ${journey.name}`}
      >
        Duplicate
      </button>
      <button
        type="button"
        onClick={() => setConfirming(true)}
        disabled={running}
        title={running ? "Stop the journey before archiving it" : undefined}
        aria-label={`Archive ${journey.name}`}
      >
        Archive
      </button>
      {duplicate.isError ? (
        <span className="form-error">{errorMessage(duplicate.error)}</span>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title={`Archive “${journey.name}”?`}
          message="It disappears from this list. Its versions and history are kept."
          confirmLabel="Archive"
          busy={archive.isPending}
          error={archive.isError ? errorMessage(archive.error) : null}
          onConfirm={() =>
            archive.mutate({ id: journey.id }, { onSuccess: () => setConfirming(false) })
          }
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </div>
  );
}
