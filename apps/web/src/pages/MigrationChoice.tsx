// Issue 18: the publish dialog's part about the customers already inside the journey — keep them
// on their version or move them, per old step where they go ("412 waiting at Reminder (deleted) →
// [step | Exit them]"), what a changed wait does, a sample of the customers and the full list as
// CSV; publishing sends the counts the marketer saw, and the server refuses when they changed.
// MigrationProgress follows the move on the journey page.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import "./MigrationChoice.css";
import { stepLabel } from "../canvas/steps/index.ts";
import { useEditorStore } from "../canvas/store.ts";
import { errorMessage, trpcErrorCode, useTRPC, useTRPCClient } from "../trpc.ts";

export interface Choices {
  mode: "keep" | "move";
  deletedSteps: Record<string, string | null>;
  changedWaits: "keepDueTime" | "fromStart";
}

const KEEP: Choices = { mode: "keep", deletedSteps: {}, changedWaits: "keepDueTime" };
const EXIT = "\u0000exit";
/** The full list stops here (a download of more is a job for an export, not a browser). */
export const MAX_LIST_ROWS = 50_000;

const n = (x: number) => x.toLocaleString("en-US");

/** Steps of the draft being published a customer can be moved to (not the trigger). */
function useTargetSteps(): { id: string; name: string }[] {
  const nodes = useEditorStore((s) => s.nodes);
  return nodes
    .filter((node) => node.type !== "trigger")
    .map((node) => {
      const label = (node.data.config as { label?: unknown } | undefined)?.label;
      return {
        id: node.id,
        name:
          typeof label === "string" && label.trim() ? label.trim() : stepLabel(node.data.stepType),
      };
    });
}

/**
 * The state of the choice and the publish that carries it. `enabled`: the draft compiles and
 * there is a live version (a first publish has nobody inside).
 */
export function useMigrationChoice(journeyId: string, enabled: boolean) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [choices, setChoices] = useState<Choices>(KEEP);
  const preview = useQuery({
    ...trpc.migration.preview.queryOptions({ journeyId, choices }),
    enabled,
    staleTime: 0,
    gcTime: 0,
    placeholderData: keepPreviousData,
  });
  const publish = useMutation(
    trpc.migration.publish.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.migration.progress.queryKey({ journeyId }),
        }),
      onError: (err) => {
        // The numbers changed: show the new ones.
        if (trpcErrorCode(err) === "CONFLICT") void preview.refetch();
      },
    }),
  );
  const lines = preview.data?.lines ?? [];
  // Keeping everyone on their version is today's publish: it needs no count. Moving them needs
  // the count shown (the server checks it) and a choice for every deleted step.
  const ready =
    choices.mode === "keep" ||
    (preview.isSuccess && !preview.isPlaceholderData && preview.data.unmapped.length === 0);
  return {
    journeyId,
    enabled,
    choices,
    setChoices,
    preview,
    publish,
    ready,
    /** Whether publishing goes through migration.publish (moving customers). */
    moving: enabled && choices.mode === "move",
    /** Publishes with the choice and the counts shown. */
    submit: () =>
      publish.mutateAsync({
        journeyId,
        choices,
        seen: lines.map((l) => ({
          versionId: l.versionId,
          stepId: l.stepId,
          customers: l.customers,
        })),
      }),
  };
}

export type MigrationChoiceState = ReturnType<typeof useMigrationChoice>;

function csvCell(v: unknown): string {
  const s =
    v === null || v === undefined
      ? ""
      : typeof v === "object"
        ? JSON.stringify(v)
        : `${v as string}`;
  // A leading =, +, - or @ would be read as a formula by a spreadsheet.
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function DownloadList({ journeyId, choices }: { journeyId: string; choices: Choices }) {
  const client = useTRPCClient();
  const [state, setState] = useState<string | null>(null);
  const download = async () => {
    setState("Preparing the list…");
    try {
      const rows: string[] = [
        ["customer", "email", "version", "step", "status", "goes to"].join(","),
      ];
      let after: string | null = null;
      do {
        const page = await client.migration.customers.query({ journeyId, choices, after });
        for (const r of page.rows)
          rows.push(
            [r.externalId, r.email, r.version, r.step, r.status, r.goes].map(csvCell).join(","),
          );
        after = page.next;
        setState(`Preparing the list… ${n(rows.length - 1)} customers`);
      } while (after && rows.length <= MAX_LIST_ROWS);
      const url = URL.createObjectURL(new Blob([rows.join("\r\n") + "\r\n"], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = "customers-in-flight.csv";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState(
        after
          ? `Downloaded the first ${n(rows.length - 1)} customers (the list stops at ${n(MAX_LIST_ROWS)}).`
          : `Downloaded ${n(rows.length - 1)} customers.`,
      );
    } catch (err) {
      setState(`Could not prepare the list: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (
    <p>
      <button type="button" onClick={() => void download()}>
        Download the full list
      </button>{" "}
      {state ? (
        <span className="muted" role="status">
          {state}
        </span>
      ) : null}
    </p>
  );
}

/** The part of the publish dialog about the customers inside. */
export function MigrationChoice({ m }: { m: MigrationChoiceState }) {
  const steps = useTargetSteps();
  if (!m.enabled) return null;
  const { preview, choices, setChoices } = m;
  if (preview.isPending) return <p role="status">Counting the customers in the journey…</p>;
  if (preview.isError)
    return (
      <p className="form-error">
        Could not count the customers in the journey ({preview.error.message}): they can only be
        kept on their version.
      </p>
    );
  const p = preview.data;
  if (p.customers === 0)
    return (
      <section className="migration" aria-label="Customers in the journey">
        <p>Nobody is in the journey right now. {p.newEntries}</p>
      </section>
    );
  const hasChangedWaits = p.lines.some((l) => l.change === "changed");
  const pick = (stepId: string, value: string) =>
    setChoices((c) => {
      const deletedSteps = { ...c.deletedSteps };
      if (value === "") delete deletedSteps[stepId];
      else deletedSteps[stepId] = value === EXIT ? null : value;
      return { ...c, deletedSteps };
    });
  return (
    <section className="migration" aria-label="Customers in the journey">
      <h3>Customers already in the journey</h3>
      <fieldset>
        <legend>
          {n(p.customers)} {p.customers === 1 ? "customer is" : "customers are"} in progress. What
          happens to them?
        </legend>
        <label>
          <input
            type="radio"
            name="migration-mode"
            checked={choices.mode === "keep"}
            onChange={() => setChoices((c) => ({ ...c, mode: "keep" }))}
          />{" "}
          Keep them on their version: they finish the journey as it was
        </label>
        <label>
          <input
            type="radio"
            name="migration-mode"
            checked={choices.mode === "move"}
            onChange={() => setChoices((c) => ({ ...c, mode: "move" }))}
          />{" "}
          Move them to the new version
        </label>
      </fieldset>
      <ul className="migration__lines" aria-label="Where they go">
        {p.lines.map((l) => {
          const sample = p.samples.find(
            (s) => s.versionId === l.versionId && s.stepId === l.stepId,
          );
          const who = sample?.customers.map((c) => c.email ?? c.externalId) ?? [];
          const deleted =
            choices.mode === "move" && (l.change === "deleted" || l.change === "replaced");
          const chosen = choices.deletedSteps[l.stepId];
          return (
            <li key={`${l.versionId}:${l.stepId}`}>
              {deleted ? (
                <label>
                  {n(l.customers)} {l.parked ? "waiting for an event" : "waiting"} at{" "}
                  <em>{l.label}</em> (
                  {l.change === "deleted" ? "deleted" : "now another kind of step"}) →{" "}
                  <select
                    aria-label={`Where the customers at ${l.label} go`}
                    value={chosen === undefined ? "" : chosen === null ? EXIT : chosen}
                    onChange={(e) => pick(l.stepId, e.target.value)}
                  >
                    <option value="">Choose a step…</option>
                    {steps.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name}
                      </option>
                    ))}
                    <option value={EXIT}>Exit them (they leave the journey)</option>
                  </select>
                </label>
              ) : (
                <span>{l.sentence}</span>
              )}
              {who.length > 0 ? (
                <span className="muted migration__sample">
                  e.g. {who.join(", ")}
                  {l.customers > who.length ? ` and ${n(l.customers - who.length)} more` : ""}
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
      {choices.mode === "move" && hasChangedWaits ? (
        <fieldset>
          <legend>Waits that changed</legend>
          <label>
            <input
              type="radio"
              name="migration-waits"
              checked={choices.changedWaits === "keepDueTime"}
              onChange={() => setChoices((c) => ({ ...c, changedWaits: "keepDueTime" }))}
            />{" "}
            Keep each customer's due time (the new wait applies to new arrivals only)
          </label>
          <label>
            <input
              type="radio"
              name="migration-waits"
              checked={choices.changedWaits === "fromStart"}
              onChange={() => setChoices((c) => ({ ...c, changedWaits: "fromStart" }))}
            />{" "}
            Count the new wait from when each customer started waiting (a 3-day wait made 5 days
            moves a customer who has waited 1 day to 4 days from now)
          </label>
        </fieldset>
      ) : null}
      {choices.mode === "move" && p.unmapped.length > 0 ? (
        <p className="form-error" role="alert">
          Choose where the customers at{" "}
          {p.lines
            .filter((l) => p.unmapped.includes(l.stepId))
            .map((l) => l.label)
            .join(", ")}{" "}
          go before publishing.
        </p>
      ) : null}
      <p className="muted">{p.newEntries}</p>
      <DownloadList journeyId={m.journeyId} choices={choices} />
      {m.publish.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(m.publish.error)}
        </p>
      ) : null}
    </section>
  );
}

/** The move in progress (or just finished) on the journey page. */
export function MigrationProgress({ journeyId }: { journeyId: string }) {
  const trpc = useTRPC();
  const progress = useQuery({
    ...trpc.migration.progress.queryOptions({ journeyId }),
    refetchInterval: (q) => (q.state.data?.status === "RUNNING" ? 1000 : false),
  });
  const m = progress.data;
  if (!m) return null;
  const recent =
    m.status === "RUNNING" ||
    (m.finishedAt !== null && progress.dataUpdatedAt - Date.parse(m.finishedAt) < 15 * 60_000);
  if (!recent) return null;
  const from = `version ${m.fromVersions.join(", ")}`;
  const handled = m.moved + m.exited;
  const text =
    m.status === "RUNNING"
      ? `Moving customers from ${from} to version ${m.toVersion}: ${n(handled)} of ${n(m.total)} done (${n(m.moved)} moved, ${n(m.exited)} left the journey).`
      : m.status === "DONE"
        ? `Moved ${n(m.moved)} ${m.moved === 1 ? "customer" : "customers"} from ${from} to version ${m.toVersion}${m.exited ? `; ${n(m.exited)} left the journey` : ""}${m.kept ? `; ${n(m.kept)} stayed on their version` : ""}.`
        : `Moving customers to version ${m.toVersion} stopped: ${m.error ?? "unknown error"}.`;
  return (
    <div className="journey__notice migration__progress" role="status">
      {text}
      {m.status === "RUNNING" ? (
        <progress max={Math.max(m.total, 1)} value={handled} aria-label="Customers moved" />
      ) : null}
    </div>
  );
}
