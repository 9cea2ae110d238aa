// issue 16: the Segments area's list — every saved segment with its size and rules in words — and
// the built-in lifecycle stages: each stage's rule stated in words, its size, and the settings a
// marketer can tune (the purchase event and the day thresholds).
import { createColumnHelper } from "@tanstack/react-table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { LIFECYCLE_STAGE_NAMES, type LifecycleSettings } from "@postpath/journey";
import { eventOptions } from "../canvas/pickers.ts";
import { DataTable, type dataTableFeatures } from "../components/DataTable.tsx";
import { NamePicker } from "../components/NamePicker.tsx";
import { formatCount } from "../format.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import type { SegmentRow } from "./contract.ts";
import { segmentsHrefs } from "./routes.ts";
import "./segments.css";

const helper = createColumnHelper<typeof dataTableFeatures, SegmentRow>();
const columns = helper.columns([
  helper.accessor("name", {
    header: "Segment",
    cell: (info) => <a href={segmentsHrefs.segment(info.row.original.id)}>{info.getValue()}</a>,
  }),
  helper.accessor("members", {
    header: "Customers",
    cell: (info) => formatCount(info.getValue()),
  }),
  helper.accessor("rules", {
    header: "Who is in it",
    cell: (info) => (
      <span>
        {info.getValue().join(info.row.original.match === "all" ? " and " : " or ") || "—"}
      </span>
    ),
  }),
]);

export function SegmentListPage() {
  const trpc = useTRPC();
  const list = useQuery(trpc.segments.list.queryOptions());
  const custom = (list.data ?? []).filter((s) => s.kind === "custom") as SegmentRow[];
  return (
    <section className="page segments" aria-labelledby="segments-title">
      <div className="page__title">
        <h1 id="segments-title">Segments</h1>
        <a className="button primary" href={segmentsHrefs.newSegment()}>
          New segment
        </a>
      </div>
      <p className="muted">
        Named groups of customers, by what they are (attributes, consent) and what they did (events
        in a time window). Journeys can start when someone enters or leaves one.
      </p>
      {list.isPending ? <p role="status">Loading segments…</p> : null}
      {list.isError ? (
        <p className="form-error" role="alert">
          Could not load segments: {errorMessage(list.error)}
        </p>
      ) : null}
      {list.isSuccess && custom.length === 0 ? (
        <p>No segments yet. Create one to target customers by behaviour.</p>
      ) : null}
      {custom.length > 0 ? <SegmentTable rows={custom} /> : null}
      <Lifecycle />
    </section>
  );
}

function SegmentTable({ rows }: { rows: SegmentRow[] }) {
  // On a phone the rules column scrolls in its own box rather than widening the page.
  return (
    <div
      className="table-scroll"
      role="region"
      aria-label="Saved segments, scrollable"
      tabIndex={0}
    >
      <DataTable
        label="Saved segments"
        className="journeys segments__table"
        columns={columns}
        rows={rows}
        rowId={(row) => row.id}
      />
    </div>
  );
}

function Lifecycle() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const view = useQuery(trpc.segments.lifecycle.get.queryOptions());
  // issue 16: the purchase event is picked from the events the workspace has seen.
  const catalog = useQuery({ ...trpc.journeys.catalog.queryOptions(), staleTime: 60_000 });
  const [draft, setDraft] = useState<LifecycleSettings | null>(null);
  const save = useMutation(
    trpc.segments.lifecycle.set.mutationOptions({
      onSuccess: async () => {
        setDraft(null);
        await queryClient.invalidateQueries({ queryKey: trpc.segments.pathKey() });
      },
    }),
  );
  if (!view.data) return null;
  const v = view.data;
  const s = draft ?? v.settings;
  const num = (key: keyof LifecycleSettings, label: string) => (
    <label>
      {label}
      <input
        type="number"
        min={1}
        value={String(s[key])}
        onChange={(e) => setDraft({ ...s, [key]: Number(e.target.value) })}
      />
    </label>
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(s);
  };
  return (
    <section className="segments__lifecycle" aria-labelledby="lifecycle-title">
      <h2 id="lifecycle-title">Lifecycle stages</h2>
      <p className="muted">
        Every customer who has bought is in exactly one stage, checked in this order.
        {v.enabled ? "" : " Not switched on yet: save the rules to start."}
      </p>
      <ul className="segments__stages">
        {v.stages.map((st) => (
          <li key={st.stage}>
            <strong>
              {st.segmentId ? (
                <a href={segmentsHrefs.segment(st.segmentId)}>{LIFECYCLE_STAGE_NAMES[st.stage]}</a>
              ) : (
                LIFECYCLE_STAGE_NAMES[st.stage]
              )}
            </strong>{" "}
            — {st.rule}
            {v.enabled ? (
              <span className="muted"> · {formatCount(st.members)} customers</span>
            ) : null}
          </li>
        ))}
      </ul>
      <form className="segments__lifecycle-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="lifecycle-event">Purchase event</label>
          <NamePicker
            id="lifecycle-event"
            value={s.event}
            onChange={(event) => setDraft({ ...s, event })}
            {...eventOptions(catalog.data)}
          />
        </div>
        {num("newDays", "New: first purchase within (days)")}
        {num("repeatCount", "Repeat: at least (purchases)")}
        {num("repeatDays", "Repeat: within (days)")}
        {num("activeDays", "Active: purchased within (days)")}
        {num("lapsedDays", "Lapsed: no purchase for (days)")}
        <button type="submit" className="primary" disabled={save.isPending}>
          {v.enabled ? "Save lifecycle rules" : "Switch on lifecycle stages"}
        </button>
        {save.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(save.error)}
          </p>
        ) : null}
      </form>
    </section>
  );
}
