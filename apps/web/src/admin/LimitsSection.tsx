import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../trpc.ts";
import { Loading, MutationError, type Outputs } from "./common.tsx";

type Limits = Outputs["limits"]["get"];
type Unit = "minutes" | "hours" | "days" | "weeks";

export function LimitsSection() {
  const trpc = useTRPC();
  const limits = useQuery(trpc.limits.get.queryOptions());
  return (
    <>
      <h2>Sending limits</h2>
      <Loading query={limits} what="sending limits">
        {(data) => <LimitsForm initial={data} />}
      </Loading>
    </>
  );
}

function LimitsForm({ initial }: { initial: Limits }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const save = useMutation(
    trpc.limits.update.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.limits.pathFilter()),
    }),
  );
  const [quiet, setQuiet] = useState(initial.quietHours !== null);
  const [start, setStart] = useState(initial.quietHours?.start ?? "21:00");
  const [end, setEnd] = useState(initial.quietHours?.end ?? "08:00");
  const [mode, setMode] = useState<"hold" | "skip">(initial.quietHours?.mode ?? "hold");
  const [cap, setCap] = useState(initial.frequencyCap !== null);
  const [capMax, setCapMax] = useState(String(initial.frequencyCap?.max ?? 3));
  const [capAmount, setCapAmount] = useState(String(initial.frequencyCap?.period.amount ?? 1));
  const [capUnit, setCapUnit] = useState<Unit>(
    (initial.frequencyCap?.period.unit as Unit | undefined) ?? "days",
  );
  const [perMinute, setPerMinute] = useState(
    initial.maxPerMinute === null ? "" : String(initial.maxPerMinute),
  );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({
          quietHours: quiet ? { start, end, mode } : null,
          frequencyCap: cap
            ? { max: Number(capMax), period: { amount: Number(capAmount), unit: capUnit } }
            : null,
          maxPerMinute: perMinute.trim() ? Number(perMinute) : null,
        });
      }}
    >
      <fieldset>
        <legend>
          <label>
            <input type="checkbox" checked={quiet} onChange={(e) => setQuiet(e.target.checked)} />{" "}
            Quiet hours (customer&apos;s local time)
          </label>
        </legend>
        <label htmlFor="quiet-start">From</label>{" "}
        <input
          id="quiet-start"
          type="time"
          disabled={!quiet}
          value={start}
          onChange={(e) => setStart(e.target.value)}
        />{" "}
        <label htmlFor="quiet-end">until</label>{" "}
        <input
          id="quiet-end"
          type="time"
          disabled={!quiet}
          value={end}
          onChange={(e) => setEnd(e.target.value)}
        />{" "}
        <select
          aria-label="During quiet hours"
          disabled={!quiet}
          value={mode}
          onChange={(e) => setMode(e.target.value as "hold" | "skip")}
        >
          <option value="hold">hold messages until the end</option>
          <option value="skip">skip messages</option>
        </select>
      </fieldset>
      <fieldset>
        <legend>
          <label>
            <input type="checkbox" checked={cap} onChange={(e) => setCap(e.target.checked)} />{" "}
            Frequency cap per customer
          </label>
        </legend>
        at most{" "}
        <input
          aria-label="Messages"
          type="number"
          min={1}
          disabled={!cap}
          value={capMax}
          onChange={(e) => setCapMax(e.target.value)}
        />{" "}
        messages per{" "}
        <input
          aria-label="Period"
          type="number"
          min={1}
          disabled={!cap}
          value={capAmount}
          onChange={(e) => setCapAmount(e.target.value)}
        />{" "}
        <select
          aria-label="Period unit"
          disabled={!cap}
          value={capUnit}
          onChange={(e) => setCapUnit(e.target.value as Unit)}
        >
          <option value="minutes">minutes</option>
          <option value="hours">hours</option>
          <option value="days">days</option>
          <option value="weeks">weeks</option>
        </select>
      </fieldset>
      <div className="field">
        <label htmlFor="limits-per-minute">Workspace messages per minute (empty: unlimited)</label>
        <input
          id="limits-per-minute"
          type="number"
          min={1}
          value={perMinute}
          onChange={(e) => setPerMinute(e.target.value)}
        />
      </div>
      <MutationError error={save.error} />
      {save.isSuccess ? <p role="status">Saved.</p> : null}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save limits
      </button>
    </form>
  );
}
