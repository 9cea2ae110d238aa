// Operating a published journey: versions (view one read-only, restore it as the draft), pause /
// resume / stop (confirmed), and one customer's path and trace.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { JourneyStatus } from "../../api/contract.ts";
import type { CustomerRun } from "../../api/operate.ts";
import { useOperateClient } from "../../api/operate.ts";
import { ConfirmDialog } from "../../components/Dialog.tsx";
import { formatDateTime } from "../../format.ts";
import { errorMessage, useTRPC } from "../../trpc.ts";
import { useEditorStore } from "../store.ts";
import { VersionDialog } from "./VersionDialog.tsx";

type Action = "pause" | "resume" | "stop";

const CONFIRM: Record<Action, { title: string; message: string; label: string }> = {
  pause: {
    title: "Pause this journey?",
    message:
      "No new customers enter and runs stop where they are until you resume. Nothing is lost.",
    label: "Pause journey",
  },
  resume: {
    title: "Resume this journey?",
    message: "Customers enter again and paused runs continue.",
    label: "Resume journey",
  },
  stop: {
    title: "Stop this journey?",
    message:
      "No new customers enter and every run in progress ends now. This cannot be undone; publish again to restart.",
    label: "Stop journey",
  },
};

export function OperatePanel({
  journeyId,
  status,
  canEdit,
  draft,
}: {
  journeyId: string;
  status: JourneyStatus;
  canEdit: boolean;
  /** The editor's draft, for viewing and restoring versions (see VersionDialog). */
  draft: {
    flush: () => Promise<boolean>;
    revision: number;
    onRestored: (version: number) => void;
    onReload: () => void;
  };
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const operate = useOperateClient();
  const versions = useQuery(trpc.journeys.versions.queryOptions({ id: journeyId }));
  const [confirm, setConfirm] = useState<Action | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const action = useMutation({
    mutationFn: (a: Action) => operate[a].mutate({ journeyId }),
    onSuccess: async () => {
      setConfirm(null);
      await queryClient.invalidateQueries({
        queryKey: trpc.journeys.get.queryKey({ id: journeyId }),
      });
      await queryClient.invalidateQueries({ queryKey: trpc.journeys.list.pathKey() });
    },
  });

  return (
    <section className="panel" aria-labelledby="operate-title">
      <h2 id="operate-title">Operate</h2>
      {canEdit ? (
        <div className="panel__actions">
          {status === "LIVE" ? (
            <button type="button" onClick={() => setConfirm("pause")}>
              Pause…
            </button>
          ) : null}
          {status === "PAUSED" ? (
            <button type="button" onClick={() => setConfirm("resume")}>
              Resume…
            </button>
          ) : null}
          {status === "LIVE" || status === "PAUSED" ? (
            <button type="button" className="danger" onClick={() => setConfirm("stop")}>
              Stop…
            </button>
          ) : null}
        </div>
      ) : null}
      {confirm ? (
        <ConfirmDialog
          title={CONFIRM[confirm].title}
          message={CONFIRM[confirm].message}
          confirmLabel={CONFIRM[confirm].label}
          busy={action.isPending}
          error={action.isError ? errorMessage(action.error) : null}
          onConfirm={() => action.mutate(confirm)}
          onCancel={() => {
            action.reset();
            setConfirm(null);
          }}
        />
      ) : null}

      <h3>Versions</h3>
      {versions.isPending ? (
        <p role="status">Loading versions…</p>
      ) : versions.isError ? (
        <p className="form-error">Could not load versions: {versions.error.message}</p>
      ) : versions.data.length === 0 ? (
        <p>Not published yet.</p>
      ) : (
        <table className="versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Published</th>
              <th scope="col" className="num">
                Runs
              </th>
              <th scope="col" aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {versions.data.map((v) => (
              <tr key={v.id}>
                <th scope="row">v{v.version}</th>
                <td>{v.status === "LIVE" ? "Live" : "Superseded"}</td>
                <td>
                  <time dateTime={v.publishedAt}>{formatDateTime(v.publishedAt)}</time>
                  {v.publishedBy ? ` by ${v.publishedBy}` : ""}
                </td>
                <td className="num">{v.runs}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`View version ${v.version}`}
                    onClick={() => setViewing(v.version)}
                  >
                    View
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {viewing !== null ? (
        <VersionDialog
          journeyId={journeyId}
          version={viewing}
          canEdit={canEdit}
          flush={draft.flush}
          revision={draft.revision}
          onRestored={draft.onRestored}
          onReload={draft.onReload}
          onClose={() => setViewing(null)}
        />
      ) : null}
      <RefusedEntries />
      <CustomerSearch journeyId={journeyId} />
    </section>
  );
}

/** Why an entry was refused, in a marketer's words (EntrySkip reasons, issue 13). */
const REFUSAL: Record<string, string> = {
  activeRun: "Already in this journey",
  enteredBefore: "Enters only once",
  maxEntries: "Entry limit reached",
  coolingDown: "Still cooling down",
  filter: "Didn't meet the trigger's conditions",
  concurrentEntry: "Another entry came first",
  noEntryValue: "Missing the value entries are counted by",
};
const refusalWords = (reason: string) => REFUSAL[reason] ?? reason;

/** Customers the trigger asked to enter and the journey refused, by reason (from the live counts). */
function RefusedEntries() {
  const counts = useEditorStore((s) => s.counts);
  const byReason = new Map<string, number>();
  for (const c of Object.values(counts ?? {}))
    for (const [reason, n] of Object.entries(c.refused ?? {}))
      byReason.set(reason, (byReason.get(reason) ?? 0) + n);
  if (byReason.size === 0) return null;
  return (
    <section aria-labelledby="refused-entries-title">
      <h3 id="refused-entries-title">Not entered</h3>
      <dl className="refused-entries">
        {[...byReason].map(([reason, n]) => (
          <div key={reason}>
            <dt>{refusalWords(reason)}</dt>
            <dd>{n.toLocaleString("en-US")}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function CustomerSearch({ journeyId }: { journeyId: string }) {
  const operate = useOperateClient();
  const [customer, setCustomer] = useState("");
  const [submitted, setSubmitted] = useState<string | null>(null);
  const runs = useQuery({
    queryKey: ["operate", "customerRuns", journeyId, submitted],
    queryFn: () => operate.customerRuns.query({ journeyId, customer: submitted ?? "" }),
    enabled: submitted !== null,
  });
  const setHighlight = useEditorStore((s) => s.setHighlight);

  const show = (run: CustomerRun) => {
    const path: string[] = [];
    const notes: Record<string, string[]> = {};
    for (const t of run.traces) {
      if (!t.stepId) continue;
      if (path[path.length - 1] !== t.stepId) path.push(t.stepId);
      (notes[t.stepId] ??= []).push(`${formatDateTime(t.at)} ${t.kind}`);
    }
    setHighlight({ path, notes });
  };

  return (
    <section aria-labelledby="customer-search-title">
      <h3 id="customer-search-title">Customer path</h3>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(customer.trim());
        }}
      >
        <label htmlFor="customer-search">Customer id or email</label>
        <input
          id="customer-search"
          type="search"
          value={customer}
          onChange={(e) => setCustomer(e.target.value)}
        />
        <button type="submit" disabled={customer.trim() === ""}>
          Find
        </button>
      </form>
      {runs.isFetching ? <p role="status">Searching…</p> : null}
      {runs.isError ? <p className="form-error">Could not search: {runs.error.message}</p> : null}
      {runs.data?.length === 0 ? <p>This customer has not entered this journey.</p> : null}
      {runs.data?.map((run) =>
        run.status === NOT_ENTERED ? (
          <p key={run.runId} className="run run--refused">
            v{run.versionNumber} · Not entered {formatDateTime(run.startedAt)}:{" "}
            {refusalWords(refusedReason(run))}
          </p>
        ) : (
          <details key={run.runId} className="run" open={runs.data.length === 1}>
            <summary>
              v{run.versionNumber} · {run.statusWords} · entered {formatDateTime(run.startedAt)}
              {run.currentStep ? ` · at ${run.currentStep}` : ""}
            </summary>
            <button type="button" onClick={() => show(run)}>
              Show on canvas
            </button>
            <ol className="timeline">
              {run.traces.map((t, i) => (
                <li key={i}>
                  <span className="timeline__at">{formatDateTime(t.at)}</span>{" "}
                  {t.stepName ? <strong>{t.stepName}</strong> : null} {t.text}
                  {t.until ? ` until ${formatDateTime(t.until)}` : ""}
                </li>
              ))}
            </ol>
          </details>
        ),
      )}
    </section>
  );
}

/** A refused entry among a customer's runs (engine operate.ts REFUSED_ENTRY). */
const NOT_ENTERED = "NOT_ENTERED";
function refusedReason(run: CustomerRun): string {
  const detail = run.traces[0]?.detail;
  return detail !== null && typeof detail === "object" && "reason" in detail
    ? String(detail.reason)
    : "";
}
