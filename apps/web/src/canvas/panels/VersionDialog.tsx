// One published version, read-only: its steps and where each branch leads, what differs from the
// current draft, and (for marketers) "restore this version as the draft" after a confirmation.
// Restoring only replaces the draft: the marketer reviews it and publishes as usual.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Dialog } from "../../components/Dialog.tsx";
import { formatDateTime } from "../../format.ts";
import { errorMessage, trpcErrorCode, useTRPC } from "../../trpc.ts";
import type { JourneyDraft } from "../draft.ts";
import { branchesOf, stepLabel, summarizeStep } from "../steps/index.ts";
import { DiffList } from "./DiffList.tsx";

export function VersionDialog({
  journeyId,
  version,
  canEdit,
  flush,
  revision,
  onRestored,
  onReload,
  onClose,
}: {
  journeyId: string;
  version: number;
  canEdit: boolean;
  /** Saves the canvas first, so the comparison and the restore see the draft as it is. */
  flush: () => Promise<boolean>;
  /** The draft revision the editor holds: a restore based on it is refused if another tab saved since. */
  revision: number;
  onRestored: (version: number) => void;
  /** After a refused restore: load the draft someone else saved. */
  onReload: () => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState<boolean | null>(canEdit ? null : true);
  useEffect(() => {
    if (!canEdit) return;
    let live = true;
    void flush().then((ok) => live && setSaved(ok));
    return () => {
      live = false;
    };
  }, [canEdit, flush]);
  const view = useQuery({
    ...trpc.journeys.version.queryOptions({ journeyId, version }),
    enabled: saved !== null,
    staleTime: 0,
    gcTime: 0,
  });
  const [confirming, setConfirming] = useState(false);
  const restore = useMutation(
    trpc.journeys.restoreVersion.mutationOptions({
      onSuccess: async (result) => {
        await queryClient.invalidateQueries({ queryKey: trpc.journeys.list.pathKey() });
        onRestored(result.version);
      },
    }),
  );

  let body;
  if (saved === null || view.isPending) {
    body = <p role="status">Loading version {version}…</p>;
  } else if (view.isError) {
    body = (
      <p className="form-error">
        Could not load version {version}: {view.error.message}
      </p>
    );
  } else {
    const v = view.data;
    const same = v.diff?.same === true;
    body = (
      <>
        <p className="muted">
          {v.status === "LIVE" ? "Live" : "Superseded"} · published{" "}
          <time dateTime={v.publishedAt}>{formatDateTime(v.publishedAt)}</time>
          {v.publishedBy ? ` by ${v.publishedBy}` : ""} · {v.runs} run(s)
        </p>
        <h3>Compared with the current draft</h3>
        {v.diff === null ? (
          <p>
            The current draft has {v.draftIssues} problem(s), so it cannot be compared step by step.
          </p>
        ) : same ? (
          <p>The current draft has the same steps and settings as this version.</p>
        ) : (
          <>
            <p>Restoring this version would make these changes to the draft:</p>
            <DiffList diff={v.diff} />
          </>
        )}
        <h3>Steps (read only)</h3>
        <VersionSteps draft={v.draft} version={v.version} />
        {restore.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(restore.error)}{" "}
            {trpcErrorCode(restore.error) === "CONFLICT" ? (
              <button type="button" onClick={onReload}>
                Load the latest version
              </button>
            ) : null}
          </p>
        ) : null}
        {saved === false && canEdit ? (
          <p className="form-error">
            The draft could not be saved (see the message beside “Not saved”), so it cannot be
            replaced.
          </p>
        ) : null}
        {confirming ? (
          <div className="confirm" role="group" aria-label="Confirm restore">
            <p>
              Replace the draft with version {v.version}? The canvas then shows version {v.version}
              &rsquo;s steps and your current draft is replaced. Customers see no change until you
              publish it as a new version; runs in progress keep theirs.
            </p>
            <div className="dialog__actions">
              <button
                type="button"
                onClick={() => {
                  restore.reset();
                  setConfirming(false);
                }}
              >
                Cancel
              </button>
              <button
                type="button"
                className="primary"
                disabled={restore.isPending}
                onClick={() => restore.mutate({ journeyId, version: v.version, revision })}
              >
                Restore version {v.version}
              </button>
            </div>
          </div>
        ) : null}
      </>
    );
  }
  const canRestore = canEdit && saved === true && view.isSuccess && view.data.diff?.same !== true;
  return (
    <Dialog title={`Version ${version}`} onClose={onClose}>
      {body}
      {confirming ? null : (
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          {canEdit ? (
            <button type="button" disabled={!canRestore} onClick={() => setConfirming(true)}>
              Restore this version as the draft…
            </button>
          ) : null}
        </div>
      )}
    </Dialog>
  );
}

/** The version's steps from the trigger on, each with its summary and where its branches lead. */
function VersionSteps({ draft, version }: { draft: JourneyDraft; version: number }) {
  return (
    <ol className="timeline" aria-label={`Steps of version ${version}`}>
      {draft.nodes.map((n) => {
        const name = typeof n.data.label === "string" ? n.data.label : null;
        const out = branchesOf(n.type, n.data).map((b) => {
          const edge = draft.edges.find(
            (e) => e.source === n.id && (e.sourceHandle ?? "next") === b.id,
          );
          return `${b.label || "then"} → ${edge?.target ?? "end"}`;
        });
        return (
          <li key={n.id} data-step={n.id}>
            <strong>{name ?? stepLabel(n.type)}</strong> <code>{n.id}</code>:{" "}
            {summarizeStep(n.type, n.data)}
            {out.length > 0 ? <span className="muted"> · {out.join(" · ")}</span> : null}
          </li>
        );
      })}
    </ol>
  );
}
