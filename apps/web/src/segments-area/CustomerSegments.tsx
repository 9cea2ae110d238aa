// issue 16: a customer's lifecycle stage and saved segments, for the profile page.
import { useQuery } from "@tanstack/react-query";
import { formatDateTime } from "../format.ts";
import { useTRPC } from "../trpc.ts";
import { segmentsHrefs } from "./routes.ts";

const STAGE_WORDS: Record<string, string> = {
  new: "New",
  repeat: "Repeat",
  active: "Active",
  at_risk: "At risk",
  lapsed: "Lapsed",
};

export function CustomerSegments({ customerId }: { customerId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.segments.ofCustomer.queryOptions({ customerId }));
  // No stage: the customer has not bought, or the stages are not switched on (then "no purchase
  // yet" was wrong for a customer with purchases: seen in the walk of 2026-12-05).
  const lifecycle = useQuery({
    ...trpc.segments.lifecycle.get.queryOptions(),
    enabled: q.data !== undefined && q.data.stage === null,
  });
  if (!q.data) return null;
  const custom = q.data.segments.filter((s) => s.kind !== "lifecycle");
  return (
    <section aria-labelledby="segments-title">
      <h2 id="segments-title">Segments</h2>
      {q.data.stage ? (
        <p>
          Lifecycle stage: <strong>{STAGE_WORDS[q.data.stage]}</strong>
        </p>
      ) : lifecycle.data?.enabled === false ? (
        <p>
          Lifecycle stage: <span className="muted">stages are not switched on</span> (
          <a href={segmentsHrefs.segments()}>Segments</a> sets them up).
        </p>
      ) : lifecycle.data?.enabled ? (
        <p>
          Lifecycle stage: <strong>no purchase yet</strong>
        </p>
      ) : null}
      {custom.length === 0 ? (
        <p className="muted">In no saved segment.</p>
      ) : (
        <ul>
          {custom.map((s) => (
            <li key={s.id}>
              <a href={segmentsHrefs.segment(s.id)}>{s.name}</a>{" "}
              <span className="muted">since {formatDateTime(String(s.since))}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
