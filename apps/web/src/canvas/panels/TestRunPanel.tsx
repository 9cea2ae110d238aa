// Test run: a test customer and the events it will send, run through the simulator on a virtual
// clock; the path and each step's decisions are drawn on the canvas. issue 16: the customer's
// saved segments (by name) and lifecycle stage count as the engine counts them — a segment trigger,
// "is in segment" splits and coupon rules — and a real customer can be loaded with theirs, as the
// workspace has them now (journeys.testCustomer).
import { compile, simulate, stepModule, triggerOf } from "@postpath/journey";
import type { SimulationResult, SimulationEvent } from "@postpath/journey";
import { useMemo, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { NamePicker } from "../../components/NamePicker.tsx";
import { errorMessage, useTRPCClient } from "../../trpc.ts";
import { useCatalogDetails } from "../catalog.ts";
import { journeyEvents, testEventOptions } from "../pickers.ts";
import { stageName, useSegmentDirectory } from "../segments.ts";
import type { Highlight } from "../store.ts";
import { toDraft, useEditorStore } from "../store.ts";
import type { StepNode } from "../types.ts";
import { canvasNames, decisionWords, plainText } from "./testRunWords.ts";
import type { TestEvent, Unit } from "./testRunStore.ts";
import {
  SAMPLE_CUSTOMER_TEXT,
  UNITS,
  customerText as realCustomerText,
  defaultEvents,
  parseJsonObject,
  parseTestCustomer,
  useTestRunStore,
} from "./testRunStore.ts";

export type { TestEvent } from "./testRunStore.ts";

/** "+0m", "+30s", "+2h 5m", "+7d" after entry. */
export function formatOffset(ms: number): string {
  if (ms <= 0) return "+0m";
  if (ms < UNITS.minutes) return `+${Math.round(ms / 1000)}s`;
  const d = Math.floor(ms / UNITS.days);
  const h = Math.floor((ms % UNITS.days) / UNITS.hours);
  const m = Math.round((ms % UNITS.hours) / UNITS.minutes);
  return `+${[d ? `${d}d` : "", h ? `${h}h` : "", m || (!d && !h) ? `${m}m` : ""].filter(Boolean).join(" ")}`;
}

/** Names steps and words decisions as the canvas shows them (see testRunWords.ts). */
export function timelineWords(nodes: readonly StepNode[]) {
  const names = canvasNames(nodes);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const nameOf = (id: string) => names.get(id) ?? id;
  return {
    nameOf,
    words: (entry: SimulationResult["timeline"][number]) =>
      decisionWords(
        entry.decision,
        entry.detail,
        entry.stepId ? byId.get(entry.stepId) : undefined,
        nameOf,
      ),
  };
}

/** The simulator's timeline as canvas notes: per step, "+7d “Reminder” did not arrive in time" lines in order. */
export function highlightOf(result: SimulationResult, nodes: readonly StepNode[] = []): Highlight {
  const start = result.enteredAt ?? 0;
  const { words } = timelineWords(nodes);
  const notes: Record<string, string[]> = {};
  for (const entry of result.timeline) {
    if (entry.stepId === null) continue;
    (notes[entry.stepId] ??= []).push(`${formatOffset(entry.at - start)} ${words(entry)}`);
  }
  return { path: result.path, notes };
}

export function TestRunPanel() {
  const { setHighlight, highlight } = useEditorStore(
    useShallow((s) => ({ setHighlight: s.setHighlight, highlight: s.highlight })),
  );
  // The event the trigger listens for, until the marketer edits the events.
  const triggerEvent = useEditorStore((s) => {
    const trigger = s.nodes.find((n) => n.data.stepType.startsWith("trigger."));
    const event = (trigger?.data.config as Record<string, unknown> | undefined)?.event;
    return typeof event === "string" ? event : "purchase";
  });
  // The events to pick from: the journey's own, then those the workspace has seen (issue 16).
  const listened = useEditorStore(useShallow((s) => journeyEvents(s.nodes, s.settings)));
  const workspace = useCatalogDetails((s) => s.workspace);
  const eventPicker = useMemo(() => testEventOptions(listened, workspace), [listened, workspace]);
  const test = useTestRunStore(
    useShallow((s) => ({
      customerText: s.customerText,
      events: s.events,
      setCustomerText: s.setCustomerText,
      setEvents: s.setEvents,
    })),
  );
  const customerText = test.customerText ?? SAMPLE_CUSTOMER_TEXT;
  const events = test.events ?? defaultEvents(triggerEvent);
  const { setCustomerText, setEvents } = test;
  const [result, setResult] = useState<SimulationResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = () => {
    setError(null);
    const compiled = compile(toDraft(useEditorStore.getState()));
    if (!compiled.ok) {
      setResult(null);
      setHighlight(null);
      setError(
        `Fix the ${compiled.errors.length} problem(s) listed under Problems before a test run.`,
      );
      return;
    }
    try {
      const customer = parseTestCustomer(customerText, useSegmentDirectory.getState().segments);
      const start = Date.UTC(2026, 0, 15, 9, 0);
      const simEvents: SimulationEvent[] = events.map((e, i) => ({
        at: start + e.after * UNITS[e.unit],
        name: e.name.trim(),
        properties: parseJsonObject(e.properties, `Event ${i + 1}'s properties`),
      }));
      const trigger = triggerOf(compiled.plan);
      const sim = simulate(compiled.plan, customer, simEvents, {
        start,
        until: start + 90 * UNITS.days,
      });
      setResult(sim);
      setHighlight(sim.entered ? highlightOf(sim, useEditorStore.getState().nodes) : null);
      if (!sim.entered)
        setError(
          `The customer did not enter: ${sim.notEntered ?? "the trigger did not match"} (trigger: ${stepModule(trigger.type).label}).`,
        );
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const update = (index: number, patch: Partial<TestEvent>) =>
    setEvents(events.map((e, i) => (i === index ? { ...e, ...patch } : e)));

  return (
    <section className="panel" aria-labelledby="test-title">
      <h2 id="test-title">Test run</h2>
      <p className="muted">
        Runs one test customer through the journey on a simulated clock. Nothing is sent. Message
        previews in the Step panel use this customer and the first event’s properties.
      </p>
      <RealCustomer onLoaded={setCustomerText} />
      <div className="field">
        <label htmlFor="test-customer">Test customer (JSON)</label>
        <textarea
          id="test-customer"
          rows={7}
          value={customerText}
          onChange={(e) => setCustomerText(e.target.value)}
        />
        <p className="field__hint muted">
          <code>segments</code>: the saved segments they are in, by name;{" "}
          <code>lifecycle_stage</code>: New, Repeat, Active, At risk or Lapsed (or null).
        </p>
      </div>
      <fieldset className="field field--group">
        <legend>Events the customer sends</legend>
        {events.map((event, i) => (
          <div className="test-event" key={i}>
            <div className="field">
              <label htmlFor={`test-event-${i}-name`}>Event {i + 1} name</label>
              <NamePicker
                id={`test-event-${i}-name`}
                value={event.name}
                onChange={(name) => update(i, { name })}
                {...eventPicker}
              />
            </div>
            <div className="field field--inline">
              <label htmlFor={`test-event-${i}-after`}>Event {i + 1} after</label>
              <input
                id={`test-event-${i}-after`}
                type="number"
                min={0}
                value={event.after}
                onChange={(e) => update(i, { after: Number(e.target.value) })}
              />
              <select
                aria-label={`Event ${i + 1} unit`}
                value={event.unit}
                onChange={(e) => update(i, { unit: e.target.value as Unit })}
              >
                {Object.keys(UNITS).map((u) => (
                  <option key={u}>{u}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`test-event-${i}-props`}>Event {i + 1} properties (JSON)</label>
              <textarea
                id={`test-event-${i}-props`}
                rows={3}
                value={event.properties}
                onChange={(e) => update(i, { properties: e.target.value })}
              />
            </div>
            <button type="button" onClick={() => setEvents(events.filter((_, j) => j !== i))}>
              Remove event {i + 1}
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() =>
            setEvents([...events, { name: "", after: 1, unit: "days", properties: "{}" }])
          }
        >
          Add event
        </button>
      </fieldset>
      <div className="panel__actions">
        <button type="button" className="primary" onClick={run}>
          Run test
        </button>
        {highlight ? (
          <button
            type="button"
            onClick={() => {
              setHighlight(null);
              setResult(null);
            }}
          >
            Clear
          </button>
        ) : null}
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {result?.entered ? <Timeline result={result} /> : null}
    </section>
  );
}

/**
 * "Use a real customer": their id or email, loaded with their attributes, tags, saved segments and
 * lifecycle stage as the workspace has them now. Shown on demand (it asks the server).
 */
function RealCustomer({ onLoaded }: { onLoaded: (text: string) => void }) {
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          Use a real customer…
        </button>
      </p>
    );
  return <RealCustomerForm onLoaded={onLoaded} />;
}

function RealCustomerForm({ onLoaded }: { onLoaded: (text: string) => void }) {
  const client = useTRPCClient();
  const [query, setQuery] = useState("");
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const load = async () => {
    setBusy(true);
    setStatus(null);
    try {
      const { customer, segmentNames } = await client.journeys.testCustomer.query({
        customer: query,
      });
      onLoaded(realCustomerText(customer, segmentNames));
      const name = customer.attributes.first_name;
      const who = typeof name === "string" && name !== "" ? name : customer.externalId;
      const inSegments =
        segmentNames.length > 0
          ? `in ${segmentNames.length === 1 ? "segment" : "segments"} ${segmentNames.map((n) => `“${n}”`).join(", ")}`
          : "in no saved segment";
      const stage = customer.lifecycleStage
        ? `lifecycle stage ${stageName(customer.lifecycleStage)}`
        : "no lifecycle stage";
      setStatus({
        ok: true,
        text: `Loaded ${who}: ${inSegments}, ${stage} — as the workspace has them now.`,
      });
    } catch (e) {
      const message = e instanceof Error ? errorMessage(e) : String(e);
      setStatus({ ok: false, text: message.replace(/^customer: /, "") });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="field"
      onSubmit={(e) => {
        e.preventDefault();
        void load();
      }}
    >
      <label htmlFor="test-real-customer">Real customer’s id or email</label>
      <div className="field--inline">
        <input
          id="test-real-customer"
          type="text"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit" disabled={busy || query.trim() === ""}>
          {busy ? "Loading…" : "Load customer"}
        </button>
      </div>
      {status ? (
        <p className={status.ok ? "muted" : "form-error"} role={status.ok ? "status" : "alert"}>
          {status.text}
        </p>
      ) : null}
    </form>
  );
}

function Timeline({ result }: { result: SimulationResult }) {
  const start = result.enteredAt ?? 0;
  const nodes = useEditorStore((s) => s.nodes);
  const { nameOf, words } = timelineWords(nodes);
  return (
    <section aria-label="Test run timeline">
      <p role="status">
        Finished: <strong>{result.status}</strong> after {formatOffset(result.endedAt - start)},{" "}
        {result.messages.length} message(s).
      </p>
      <ol className="timeline">
        {result.timeline.map((entry, i) => (
          <li key={i}>
            <span className="timeline__at">{formatOffset(entry.at - start)}</span>{" "}
            <strong>{entry.stepId ? nameOf(entry.stepId) : "Journey"}</strong>: {words(entry)}
          </li>
        ))}
      </ol>
      {result.messages.length > 0 ? (
        <>
          <h3>Messages</h3>
          <ul className="timeline">
            {result.messages.map((m, i) => (
              <li key={i} className="timeline__message">
                <span className="timeline__at">{formatOffset(m.at - start)}</span>{" "}
                <strong>{nameOf(m.stepId)}</strong> ({channelName(m.channel)})
                <MessageText rendered={m.rendered} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

const CHANNEL_NAMES: Readonly<Record<string, string>> = {
  email: "email",
  sms: "SMS",
  push: "push",
  webhook: "webhook",
  notify: "team notification",
};

function channelName(channel: string): string {
  return CHANNEL_NAMES[channel] ?? channel;
}

/** A message as the customer gets it: its subject (or title) and its body, as text. */
function MessageText({ rendered }: { rendered: Record<string, unknown> }) {
  const heading = rendered.subject ?? rendered.title;
  const body = plainText(rendered.body ?? rendered.message ?? rendered.text ?? "");
  return (
    <dl className="timeline__text">
      {heading !== undefined ? (
        <>
          <dt>{rendered.subject !== undefined ? "Subject" : "Title"}</dt>
          <dd>{plainText(heading)}</dd>
        </>
      ) : null}
      {body ? (
        <>
          <dt>Text</dt>
          <dd>{body}</dd>
        </>
      ) : null}
    </dl>
  );
}
