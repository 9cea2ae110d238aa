// issue 16: a customer's profile — Profile (attributes, tags, consent per channel), Timeline (their
// events, newest first) and Journeys (every run with a readable trace and the messages as sent);
// admins can erase the customer (right to erasure) after typing their id.
import * as AlertDialog from "@radix-ui/react-alert-dialog";
import * as Tabs from "@radix-ui/react-tabs";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { countOf, formatDateTime } from "../format.ts";
import { navigate } from "../routing.ts";
import { errorMessage, trpcErrorCode, useTRPC } from "../trpc.ts";
import type { CustomerProfile, CustomerRun } from "./contract.ts";
import { MessageViewer } from "./MessageViewer.tsx";
import { customersHrefs } from "./routes.ts";
import { CustomerSegments } from "../segments-area/CustomerSegments.tsx"; // issue 16: segments, stage
import "./customers.css";

export function CustomerProfilePage({ id, canErase }: { id: string; canErase: boolean }) {
  const trpc = useTRPC();
  const profile = useQuery(trpc.customers.get.queryOptions({ id }));
  if (profile.isPending)
    return (
      <p className="page" role="status">
        Loading customer…
      </p>
    );
  if (profile.isError)
    return (
      <section className="page">
        <p className="form-error" role="alert">
          {trpcErrorCode(profile.error) === "NOT_FOUND"
            ? "This customer does not exist here (erased, or never seen)."
            : `Could not load the customer: ${errorMessage(profile.error)}`}
        </p>
        <a href={customersHrefs.customers()}>Back to customers</a>
      </section>
    );
  const c = profile.data;
  return (
    <section className="page customers" aria-labelledby="customer-title">
      <a href={customersHrefs.customers()}>← Customers</a>
      <div className="page__title">
        <h1 id="customer-title">{c.name ?? c.externalId}</h1>
        {canErase ? <EraseCustomer customer={c} /> : null}
      </div>
      <p className="muted">
        Customer id <code>{c.externalId}</code> · first seen {formatDateTime(c.createdAt)} ·{" "}
        {countOf(c.counts.events, "event")} · {countOf(c.counts.runs, "journey run")}
      </p>
      <Tabs.Root defaultValue="profile" className="customers__tabs">
        <Tabs.List aria-label="Customer" className="customers__tablist">
          <Tabs.Trigger value="profile">Profile</Tabs.Trigger>
          <Tabs.Trigger value="timeline">Timeline</Tabs.Trigger>
          <Tabs.Trigger value="journeys">Journeys</Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="profile">
          <ProfileTab customer={c} />
        </Tabs.Content>
        <Tabs.Content value="timeline">
          <TimelineTab id={c.id} />
        </Tabs.Content>
        <Tabs.Content value="journeys">
          <JourneysTab id={c.id} />
        </Tabs.Content>
      </Tabs.Root>
    </section>
  );
}

const CONSENT_WORDS = {
  subscribed: "Subscribed",
  unsubscribed: "Unsubscribed",
  "never asked": "Never asked",
} as const;

function ProfileTab({ customer: c }: { customer: CustomerProfile }) {
  return (
    <div className="customers__profile">
      <section aria-labelledby="contact-title">
        <h2 id="contact-title">Contact</h2>
        <dl className="customers__fields">
          <dt>Email</dt>
          <dd>{c.email ?? "—"}</dd>
          <dt>Phone</dt>
          <dd>{c.phone ?? "—"}</dd>
          <dt>Time zone</dt>
          <dd>{c.timezone ?? "Workspace default"}</dd>
        </dl>
      </section>
      <CustomerSegments customerId={c.id} />
      <section aria-labelledby="consent-title">
        <h2 id="consent-title">Consent</h2>
        <table className="journeys">
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col">State</th>
              <th scope="col">How</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {c.consent.map((s) => (
              <tr key={s.channel}>
                <th scope="row">{s.label}</th>
                <td>
                  <span className={`status status--${s.status.replace(" ", "-")}`}>
                    {CONSENT_WORDS[s.status]}
                  </span>
                </td>
                <td>{s.source ?? "—"}</td>
                <td>{s.changedAt ? formatDateTime(s.changedAt) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="tags-title">
        <h2 id="tags-title">Tags</h2>
        {c.tags.length ? (
          <ul className="customers__tags">
            {c.tags.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
        ) : (
          <p className="muted">No tags.</p>
        )}
      </section>
      <section aria-labelledby="attributes-title">
        <h2 id="attributes-title">Attributes</h2>
        {c.attributes.length ? (
          <dl className="customers__fields">
            {c.attributes.map((a) => (
              <div key={a.key} className="customers__field">
                <dt>{a.key}</dt>
                <dd>{a.value}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="muted">No attributes yet.</p>
        )}
      </section>
    </div>
  );
}

function TimelineTab({ id }: { id: string }) {
  const trpc = useTRPC();
  const events = useInfiniteQuery(
    trpc.customers.timeline.infiniteQueryOptions(
      { id, limit: 50 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  if (events.isPending) return <p role="status">Loading events…</p>;
  if (events.isError)
    return (
      <p className="form-error" role="alert">
        Could not load events: {errorMessage(events.error)}
      </p>
    );
  const items = events.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <p className="muted">No events yet.</p>;
  return (
    <>
      <ol className="customers__timeline" aria-label="Events, newest first">
        {items.map((e) => (
          <li key={e.id}>
            <time dateTime={e.timestamp}>{formatDateTime(e.timestamp)}</time>{" "}
            <strong>{e.name}</strong>
            {e.properties.length ? (
              <dl className="customers__props">
                {e.properties.map((p) => (
                  <div key={p.key}>
                    <dt>{p.key}</dt>
                    <dd>{p.value}</dd>
                  </div>
                ))}
              </dl>
            ) : null}
          </li>
        ))}
      </ol>
      {events.hasNextPage ? (
        <button
          type="button"
          onClick={() => void events.fetchNextPage()}
          disabled={events.isFetchingNextPage}
        >
          {events.isFetchingNextPage ? "Loading…" : "Older events"}
        </button>
      ) : null}
    </>
  );
}

function JourneysTab({ id }: { id: string }) {
  const trpc = useTRPC();
  const runs = useInfiniteQuery(
    trpc.customers.runs.infiniteQueryOptions(
      { id, limit: 20 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const [viewing, setViewing] = useState<string | null>(null);
  if (runs.isPending) return <p role="status">Loading journeys…</p>;
  if (runs.isError)
    return (
      <p className="form-error" role="alert">
        Could not load journeys: {errorMessage(runs.error)}
      </p>
    );
  const items = runs.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <p className="muted">This customer has not been in a journey.</p>;
  return (
    <>
      {items.map((run) => (
        <RunTrace key={run.id} run={run} onView={setViewing} />
      ))}
      {runs.hasNextPage ? (
        <button
          type="button"
          onClick={() => void runs.fetchNextPage()}
          disabled={runs.isFetchingNextPage}
        >
          {runs.isFetchingNextPage ? "Loading…" : "Older journeys"}
        </button>
      ) : null}
      {viewing ? <MessageViewer id={viewing} onClose={() => setViewing(null)} /> : null}
    </>
  );
}

export function RunTrace({ run, onView }: { run: CustomerRun; onView: (id: string) => void }) {
  const titleId = `run-${run.id}`;
  return (
    <article className="customers__run" aria-labelledby={titleId}>
      <h3 id={titleId}>
        <a href={`#/journeys/${encodeURIComponent(run.journeyId)}`}>{run.journeyName}</a>
        {run.versionNumber ? (
          <span className="muted"> · version {run.versionNumber}</span>
        ) : null}{" "}
        <span className="status">{run.statusWords}</span>
      </h3>
      <p className="muted">
        Started {formatDateTime(run.startedAt)}
        {run.endedAt ? ` · ended ${formatDateTime(run.endedAt)}` : ""}
        {run.currentStep && !run.endedAt ? ` · now at “${run.currentStep}”` : ""}
      </p>
      <ol className="customers__trace" aria-label={`What happened in ${run.journeyName}`}>
        {run.trace.map((t) => (
          <li key={t.id}>
            <time dateTime={t.at}>{formatDateTime(t.at)}</time>
            {t.stepName ? <span className="customers__step">{t.stepName}</span> : null}
            <span>
              {t.text}
              {t.until ? ` until ${formatDateTime(t.until)}` : ""}
            </span>
            {t.messageId ? (
              <button type="button" className="link" onClick={() => onView(t.messageId!)}>
                View message
              </button>
            ) : null}
          </li>
        ))}
      </ol>
      {run.messages.length ? (
        <>
          <h4>Messages</h4>
          <ul className="customers__trace" aria-label={`Messages in ${run.journeyName}`}>
            {run.messages.map((m) => (
              <li key={m.id}>
                <time dateTime={m.sentAt ?? m.createdAt}>
                  {formatDateTime(m.sentAt ?? m.createdAt)}
                </time>
                {m.stepName ? <span className="customers__step">{m.stepName}</span> : null}
                <span>
                  {m.channelWords}
                  {m.recipient ? ` to ${m.recipient}` : ""} · {m.statusWords}
                </span>
                <button type="button" className="link" onClick={() => onView(m.id)}>
                  View message
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </article>
  );
}

function EraseCustomer({ customer }: { customer: CustomerProfile }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState("");
  const [open, setOpen] = useState(false);
  const erase = useMutation(
    trpc.customers.erase.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        await queryClient.invalidateQueries({ queryKey: trpc.customers.pathKey() });
        navigate(customersHrefs.customers());
      },
    }),
  );
  return (
    <AlertDialog.Root
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) setTyped("");
      }}
    >
      <AlertDialog.Trigger asChild>
        <button type="button" className="danger">
          Erase customer…
        </button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-backdrop" />
        <AlertDialog.Content className="dialog customers__erase">
          <AlertDialog.Title>Erase {customer.name ?? customer.externalId}?</AlertDialog.Title>
          <AlertDialog.Description>
            Their profile, events, journey runs and traces, messages, personal links, page visits,
            form answers and consent history are deleted for good. Journeys they are in stop for
            them. A later event with the same id starts a new, empty profile. This is recorded in
            the audit log.
          </AlertDialog.Description>
          <label>
            Type the customer id <code>{customer.externalId}</code> to confirm
            <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
          </label>
          {erase.isError ? (
            <p className="form-error" role="alert">
              Could not erase: {errorMessage(erase.error)}
            </p>
          ) : null}
          <div className="dialog__actions">
            <AlertDialog.Cancel asChild>
              <button type="button">Cancel</button>
            </AlertDialog.Cancel>
            <button
              type="button"
              className="danger"
              disabled={typed !== customer.externalId || erase.isPending}
              onClick={() => erase.mutate({ id: customer.id, confirmExternalId: typed })}
            >
              {erase.isPending ? "Erasing…" : "Erase for good"}
            </button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
