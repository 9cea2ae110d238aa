// issue 14, item 6: a page's funnel above the editor — cards (personal links) sent → visited →
// registered (a form sent) → reached the journey's goal, with rates, per journey step and per
// published version. The figures come from `pages.funnel` (counted in SQL on the server).
import { useQuery } from "@tanstack/react-query";
import { formatCount, formatRate } from "../format.ts";
import { hrefs } from "../routing.ts";
import { useTRPC } from "../trpc.ts";
import type { FunnelCounts, PageFunnelData } from "./contract.ts";

/** The funnel as one line: "Cards sent 1,204 → Visited 530 (44%) → Registered 212 (40%) → …". */
export function funnelSentence(f: FunnelCounts): string {
  const rate = (n: number, of: number) => (of > 0 ? ` (${formatRate(n, of)})` : "");
  return [
    `Cards sent ${formatCount(f.links)}`,
    `Visited ${formatCount(f.visited)}${rate(f.visited, f.links)}`,
    `Registered ${formatCount(f.submitted)}${rate(f.submitted, f.visited)}`,
    `Reached goal ${formatCount(f.reachedGoal)}`,
  ].join(" → ");
}

const DEFINITIONS: [string, string][] = [
  ["Cards sent", "Personal links (cards, QR codes) the journeys made for this page."],
  [
    "Visited",
    "Links opened at least once — each customer's link counts once (unique). Total visits counts every opening, reloads included.",
  ],
  [
    "Started the form",
    "Links whose form someone began to fill in (a field was selected). Counted without any script, by the page's own stylesheet: a browser that loads no styles is not counted.",
  ],
  [
    "Registered",
    "Links through which a form on the page was sent. A double click or a reload of the form is one submission.",
  ],
  [
    "Reached goal",
    "Journey runs that made these links and reached the journey's goal (of all those runs).",
  ],
];

/** The funnel of one page: the line as a summary, details (steps, versions, definitions) inside. */
export function PageFunnel({ funnel }: { funnel: PageFunnelData }) {
  const named = new Map<string, number>();
  for (const s of funnel.steps)
    named.set(s.journeyId ?? "", (named.get(s.journeyId ?? "") ?? 0) + 1);
  const seen = new Map<string, number>();
  const stepName = (s: PageFunnelData["steps"][number]) => {
    const journey = s.journeyName ?? "A journey no longer there";
    if ((named.get(s.journeyId ?? "") ?? 0) < 2) return journey;
    const n = (seen.get(s.journeyId ?? "") ?? 0) + 1;
    seen.set(s.journeyId ?? "", n);
    return `${journey} (personal link step ${n})`;
  };
  return (
    <details className="page-funnel">
      <summary>
        <strong>Funnel:</strong> <span className="page-funnel__line">{funnelSentence(funnel)}</span>
      </summary>
      <dl className="page-funnel__stages">
        <div>
          <dt>Cards sent</dt>
          <dd>{formatCount(funnel.links)}</dd>
          <dd className="muted">to {formatCount(funnel.customers)} customers</dd>
        </div>
        <div>
          <dt>Visited</dt>
          <dd>{formatCount(funnel.visited)}</dd>
          <dd className="muted">
            {formatRate(funnel.visited, funnel.links)} of cards · {formatCount(funnel.visits)} total
            visits
          </dd>
        </div>
        <div>
          <dt>Started the form</dt>
          <dd>{formatCount(funnel.started)}</dd>
          <dd className="muted">{formatRate(funnel.started, funnel.visited)} of visitors</dd>
        </div>
        <div>
          <dt>Registered</dt>
          <dd>{formatCount(funnel.submitted)}</dd>
          <dd className="muted">
            {formatRate(funnel.submitted, funnel.visited)} of visitors ·{" "}
            {formatCount(funnel.submissions)} forms sent
          </dd>
        </div>
        <div>
          <dt>Reached goal</dt>
          <dd>{formatCount(funnel.reachedGoal)}</dd>
          <dd className="muted">
            {formatRate(funnel.reachedGoal, funnel.runs)} of {formatCount(funnel.runs)} journey runs
          </dd>
        </div>
      </dl>
      {funnel.steps.length > 0 ? (
        <table className="page-funnel__table">
          <caption>By journey</caption>
          <thead>
            <tr>
              <th scope="col">Journey</th>
              <th scope="col">Cards sent</th>
              <th scope="col">Visited</th>
              <th scope="col">Registered</th>
              <th scope="col">Reached goal</th>
            </tr>
          </thead>
          <tbody>
            {funnel.steps.map((s) => (
              <tr key={`${s.journeyId ?? ""}/${s.stepId ?? ""}`}>
                <th scope="row">
                  {s.journeyId && s.journeyName ? (
                    <a href={hrefs.journey(s.journeyId)}>{stepName(s)}</a>
                  ) : (
                    stepName(s)
                  )}
                </th>
                <td>{formatCount(s.links)}</td>
                <td>
                  {formatCount(s.visited)} ({formatRate(s.visited, s.links)})
                </td>
                <td>
                  {formatCount(s.submitted)} ({formatRate(s.submitted, s.visited)})
                </td>
                <td>{formatCount(s.reachedGoal)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {funnel.versions.length > 0 ? (
        <table className="page-funnel__table">
          <caption>By published version</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Visitors</th>
              <th scope="col">Total visits</th>
              <th scope="col">Forms sent</th>
            </tr>
          </thead>
          <tbody>
            {funnel.versions.map((v) => (
              <tr key={v.version}>
                <th scope="row">Version {v.version}</th>
                <td>{formatCount(v.visitors)}</td>
                <td>{formatCount(v.visits)}</td>
                <td>{formatCount(v.submissions)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <dl className="page-funnel__definitions">
        {DEFINITIONS.map(([term, text]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{text}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

/** The page's funnel, refreshed every half minute while the page is open. */
export function PageFunnelPanel({ pageId }: { pageId: string }) {
  const trpc = useTRPC();
  const funnel = useQuery({
    ...trpc.pages.funnel.queryOptions({ id: pageId }),
    refetchInterval: 30_000,
  });
  if (!funnel.data)
    return funnel.isError ? (
      <p className="page-funnel muted">The funnel could not be loaded just now.</p>
    ) : null;
  return <PageFunnel funnel={funnel.data} />;
}
