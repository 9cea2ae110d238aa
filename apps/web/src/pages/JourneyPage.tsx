import { useQuery } from "@tanstack/react-query";
import { JourneyCanvas } from "../canvas/JourneyCanvas.tsx";
import { formatDateTime } from "../format.ts";
import { hrefs } from "../routing.ts";
import { trpcErrorCode, useTRPC } from "../trpc.ts";
import { StatusBadge } from "./StatusBadge.tsx";

export function JourneyPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const journey = useQuery(trpc.journeys.get.queryOptions({ id }));

  if (journey.isPending) return <p className="page" role="status">Loading journey…</p>;
  if (journey.isError) {
    return (
      <section className="page">
        <p className="form-error" role="alert">
          {trpcErrorCode(journey.error) === "NOT_FOUND" ? "This journey does not exist." : `Could not load the journey: ${journey.error.message}`}
        </p>
        <a href={hrefs.journeys()}>Back to journeys</a>
      </section>
    );
  }

  const j = journey.data;
  return (
    <section className="journey" aria-labelledby="journey-title">
      <header className="journey__header">
        <a href={hrefs.journeys()} className="journey__back">
          ← Journeys
        </a>
        <h1 id="journey-title">{j.name}</h1>
        <StatusBadge status={j.status} />
        <span className="muted">
          {j.liveVersion === null ? "Not published" : `Live v${j.liveVersion}`} · draft revision {j.draftRevision} · edited{" "}
          <time dateTime={j.updatedAt}>{formatDateTime(j.updatedAt)}</time>
        </span>
      </header>
      <JourneyCanvas draftKey={`${j.id}@${j.draftRevision}`} draft={j.draft} />
    </section>
  );
}
