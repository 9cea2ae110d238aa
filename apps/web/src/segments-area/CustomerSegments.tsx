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
  if (!q.data) return null;
  const custom = q.data.segments.filter((s) => s.kind !== "lifecycle");
  return (
    <section aria-labelledby="segments-title">
      <h2 id="segments-title">Segments</h2>
      <p>
        Lifecycle stage:{" "}
        <strong>{q.data.stage ? STAGE_WORDS[q.data.stage] : "no purchase yet"}</strong>
      </p>
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
