import { useQuery } from "@tanstack/react-query";
import type { JourneyListItem } from "../api/contract.ts";
import { formatCount, formatDateTime, formatRate } from "../format.ts";
import { hrefs, navigate } from "../routing.ts";
import { useTRPC } from "../trpc.ts";
import { StatusBadge } from "./StatusBadge.tsx";

export function JourneyListPage() {
  const trpc = useTRPC();
  const journeys = useQuery(trpc.journeys.list.queryOptions());
  return (
    <section className="page" aria-labelledby="journeys-title">
      <h1 id="journeys-title">Journeys</h1>
      {journeys.isPending ? (
        <p role="status">Loading journeys…</p>
      ) : journeys.isError ? (
        <p className="form-error" role="alert">
          Could not load journeys: {journeys.error.message}
        </p>
      ) : (
        <JourneyTable journeys={journeys.data} />
      )}
    </section>
  );
}

export function JourneyTable({ journeys }: { journeys: readonly JourneyListItem[] }) {
  if (journeys.length === 0) return <p>No journeys yet.</p>;
  return (
    <table className="journeys">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Status</th>
          <th scope="col">Live version</th>
          <th scope="col" className="num">
            Entered
          </th>
          <th scope="col" className="num">
            Converted
          </th>
          <th scope="col">Last edited</th>
        </tr>
      </thead>
      <tbody>
        {journeys.map((journey) => (
          // The name is the keyboard-reachable link; the rest of the row is a larger mouse target.
          <tr key={journey.id} className="journeys__row" onClick={() => navigate(hrefs.journey(journey.id))}>
            <th scope="row">
              <a href={hrefs.journey(journey.id)}>{journey.name}</a>
            </th>
            <td>
              <StatusBadge status={journey.status} />
            </td>
            <td>{journey.liveVersion === null ? "—" : `v${journey.liveVersion}`}</td>
            <td className="num">{formatCount(journey.entered)}</td>
            <td className="num">
              {formatCount(journey.converted)} <span className="muted">({formatRate(journey.converted, journey.entered)})</span>
            </td>
            <td>
              <time dateTime={journey.updatedAt}>{formatDateTime(journey.updatedAt)}</time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
