// Publish: saves, then shows what changed since the live version and publishes on confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Dialog } from "../../components/Dialog.tsx";
import { hrefs } from "../../routing.ts";
import { MigrationChoice, useMigrationChoice } from "../../pages/MigrationChoice.tsx"; // issue 18
import { errorMessage, useTRPC, useTRPCClient } from "../../trpc.ts";
import { SAMPLE_CUSTOMER } from "../sample.ts";
import { useEditorStore } from "../store.ts";
import { DiffList } from "./DiffList.tsx";
import { distinctStepNames } from "../stepNames.ts";

/** Who the same-trigger warning speaks of: the sample customer ("Ada would enter both…"). */
const someone =
  typeof SAMPLE_CUSTOMER.attributes.first_name === "string"
    ? SAMPLE_CUSTOMER.attributes.first_name
    : "A customer";

export function PublishDialog({
  journeyId,
  journeyName = "this journey",
  flush,
  onClose,
}: {
  journeyId: string;
  /** For the same-trigger warning ("Ada would enter both 'Welcome' and 'Post-purchase'"). */
  journeyName?: string;
  flush: () => Promise<boolean>;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  // issue 18: warnings name the step as the canvas does ("Registration link + QR:"), not its id.
  const names = distinctStepNames(useEditorStore((s) => s.nodes));
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    void flush().then((ok) => live && setSaved(ok));
    return () => {
      live = false;
    };
  }, [flush]);
  const diff = useQuery({
    ...trpc.journeys.diff.queryOptions({ id: journeyId }),
    enabled: saved === true,
    staleTime: 0,
    gcTime: 0,
  });
  // issue 18: with customers inside a live version, publishing carries the keep/move choice.
  const client = useTRPCClient();
  const migration = useMigrationChoice(
    journeyId,
    diff.data?.ok === true && diff.data.liveVersion !== null,
  );
  const publish = useMutation({
    mutationFn: (): Promise<{ version: number; migrationId?: string | null }> =>
      migration.moving ? migration.submit() : client.journeys.publish.mutate({ id: journeyId }),
    onSuccess: async () => {
      // A test run drew the draft's path; the canvas now shows the live version's counts.
      useEditorStore.getState().setHighlight(null);
      await Promise.all([
        queryClient.invalidateQueries({
          queryKey: trpc.journeys.get.queryKey({ id: journeyId }),
        }),
        queryClient.invalidateQueries({
          queryKey: trpc.journeys.versions.queryKey({ id: journeyId }),
        }),
        queryClient.invalidateQueries({ queryKey: trpc.journeys.list.pathKey() }),
      ]);
    },
  });

  let body;
  if (publish.isSuccess) {
    body = (
      <>
        <p role="status">
          Published version {publish.data.version}. New customers enter it from now on;{" "}
          {publish.data.migrationId
            ? "the customers inside are being moved to it (progress on the journey page)."
            : "runs in progress keep theirs."}
        </p>
        <div className="dialog__actions">
          <button type="button" className="primary" onClick={onClose}>
            Close
          </button>
        </div>
      </>
    );
  } else if (saved === false) {
    body = (
      <p className="form-error">
        The draft could not be saved, so it cannot be published. See the message beside “Not saved”.
      </p>
    );
  } else if (saved === null || diff.isPending) {
    body = <p role="status">Checking what changed…</p>;
  } else if (diff.isError) {
    body = (
      <p className="form-error">Could not compare with the live version: {diff.error.message}</p>
    );
  } else if (!diff.data.ok || !diff.data.diff) {
    body = (
      <p className="form-error">
        The journey has {diff.data.issues.length} problem(s) to fix first.
      </p>
    );
  } else {
    const d = diff.data.diff;
    const unchanged = d.same && diff.data.liveVersion !== null;
    body = (
      <>
        <p>
          {diff.data.liveVersion === null
            ? "This is the first version: every step is new."
            : `Changes since live version ${diff.data.liveVersion}:`}
        </p>
        {unchanged ? (
          <p role="status">Nothing changed since the live version: there is nothing to publish.</p>
        ) : null}
        <DiffList diff={d} showAdded={diff.data.liveVersion !== null} />
        {diff.data.sameTrigger.length > 0 ? (
          <ul className="publish__overlap" aria-label="Same trigger">
            {diff.data.sameTrigger.map((o) => (
              <li key={o.journeyId} role="alert">
                <span className="status status--paused">Warning</span> {someone}{" "}
                {o.certain ? "would" : "may"} enter both “{journeyName}” and “
                <a href={hrefs.journey(o.journeyId)}>{o.name}</a>” on {o.on}
                {o.certain ? "" : " (if the event matches both journeys' filters)"}, and get both
                journeys' messages.
              </li>
            ))}
          </ul>
        ) : null}
        {diff.data.issues.length > 0 ? (
          <>
            <p>
              {diff.data.issues.length === 1 ? "A warning" : `${diff.data.issues.length} warnings`}{" "}
              (they don't prevent publishing):
            </p>
            <ul aria-label="Warnings">
              {diff.data.issues.map((w, i) => (
                <li key={i}>
                  <span className="status status--paused">Warning</span>{" "}
                  {w.nodeId ? (
                    <span className="muted">{names.get(w.nodeId) ?? "A removed step"}: </span>
                  ) : null}
                  {w.message}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        <MigrationChoice m={migration} />
        {publish.isError && !migration.publish.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(publish.error)}
          </p>
        ) : null}
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            disabled={publish.isPending || unchanged || !migration.ready}
            title={unchanged ? "Nothing changed since the live version" : undefined}
            onClick={() => publish.mutate()}
          >
            Publish now
          </button>
        </div>
      </>
    );
  }
  return (
    <Dialog title="Publish journey" onClose={onClose}>
      {body}
      {!publish.isSuccess && (saved === false || diff.isError || (diff.data && !diff.data.ok)) ? (
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      ) : null}
    </Dialog>
  );
}
