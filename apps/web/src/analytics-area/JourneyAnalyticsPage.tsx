// issue 17, items 4–5: a journey's analytics — per-step figures per version (or all versions
// added up), a per-day chart over a chosen range, and the A/B tests of its random splits with
// the rule each verdict follows. Loaded lazily (App.tsx), so Recharts stays out of the canvas.
import * as Tabs from "@radix-ui/react-tabs";
import { createColumnHelper } from "@tanstack/react-table";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { DataTable, type dataTableFeatures } from "../components/DataTable.tsx";
import { CurrencyProvider, Money } from "../components/Money.tsx";
import { lastDays, RangePicker } from "../components/RangePicker.tsx";
import { formatCount, formatDateTime, formatRate } from "../format.ts";
import { hrefs } from "../routing.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import type { ArmReport, DayFigures, Experiment, StepFigures, StepsAnswer } from "./contract.ts";
import "./analytics.css";

const ALL = "all";
const percent = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;

export function JourneyAnalyticsPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const journey = useQuery(trpc.journeys.get.queryOptions({ id }));
  const steps = useQuery(trpc.analytics.steps.queryOptions({ journeyId: id }));
  const [version, setVersion] = useState<string>(ALL);
  const name = journey.data?.name;

  return (
    <section className="page analytics" aria-labelledby="analytics-title">
      <a href={hrefs.journey(id)}>← Back to the journey</a>
      <h1 id="analytics-title">{name ? `Analytics: ${name}` : "Journey analytics"}</h1>
      {steps.isPending ? (
        <p role="status">Loading figures…</p>
      ) : steps.isError ? (
        <p className="form-error" role="alert">
          Could not load the figures: {errorMessage(steps.error)}
        </p>
      ) : (
        <CurrencyProvider value={steps.data.currency}>
          <VersionPicker answer={steps.data} value={version} onChange={setVersion} />
          <Tabs.Root defaultValue="steps" className="analytics__tabs">
            <Tabs.List aria-label="Analytics" className="analytics__tablist">
              <Tabs.Trigger value="steps">Steps</Tabs.Trigger>
              <Tabs.Trigger value="daily">Per day</Tabs.Trigger>
              <Tabs.Trigger value="tests">A/B tests</Tabs.Trigger>
            </Tabs.List>
            <Tabs.Content value="steps">
              <StepTable steps={stepsOf(steps.data, version)} />
              <p className="analytics__rule">
                <strong>How conversions and revenue are attributed:</strong> {steps.data.rule}{" "}
                <a
                  href={exportHref(id, "steps.csv", version === ALL ? {} : { versionId: version })}
                >
                  Download this table (CSV)
                </a>
              </p>
              <Definitions rule={steps.data.rule} />
            </Tabs.Content>
            <Tabs.Content value="daily">
              <DailyChart journeyId={id} rule={steps.data.rule} />
            </Tabs.Content>
            <Tabs.Content value="tests">
              <Experiments journeyId={id} version={version} answer={steps.data} />
            </Tabs.Content>
          </Tabs.Root>
        </CurrencyProvider>
      )}
    </section>
  );
}

/** issue 17: the server's CSV export of an analytics table (signed in with the session cookie). */
function exportHref(journeyId: string, file: string, query: Record<string, string>): string {
  const q = new URLSearchParams(query).toString();
  return `/exports/journeys/${encodeURIComponent(journeyId)}/analytics/${file}${q ? `?${q}` : ""}`;
}

function stepsOf(answer: StepsAnswer, version: string): StepFigures[] {
  if (version === ALL) return answer.all;
  return answer.versions.find((v) => v.versionId === version)?.steps ?? [];
}

function VersionPicker({
  answer,
  value,
  onChange,
}: {
  answer: StepsAnswer;
  value: string;
  onChange: (v: string) => void;
}) {
  return (
    <label className="analytics__version">
      Figures of
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value={ALL}>All versions (added up)</option>
        {answer.versions.map((v) => (
          <option key={v.versionId} value={v.versionId}>
            Version {v.version}
            {v.status === "LIVE" ? " (live)" : ""} — published {formatDateTime(v.publishedAt)}
          </option>
        ))}
      </select>
    </label>
  );
}

const stepHelper = createColumnHelper<typeof dataTableFeatures, StepFigures>();
const stepColumns = stepHelper.columns([
  stepHelper.accessor("name", {
    header: "Step",
    cell: (info) => (
      <>
        {info.getValue()}
        {info.row.original.kind !== info.getValue() ? (
          <span className="muted"> · {info.row.original.kind}</span>
        ) : null}
      </>
    ),
  }),
  stepHelper.accessor("entered", { header: "Entered", cell: (i) => formatCount(i.getValue()) }),
  stepHelper.accessor("waitingNow", {
    header: "Waiting now",
    cell: (i) => formatCount(i.getValue()),
  }),
  stepHelper.accessor("sent", { header: "Sent", cell: (i) => formatCount(i.getValue()) }),
  stepHelper.accessor("failed", { header: "Failed", cell: (i) => formatCount(i.getValue()) }),
  stepHelper.accessor("converted", {
    header: "Converted",
    cell: (i) => formatCount(i.getValue()),
  }),
  stepHelper.display({
    id: "rate",
    header: "Conversion rate",
    cell: (i) => formatRate(i.row.original.converted, i.row.original.entered),
  }),
  // issue 17: from the rollups (see Definitions).
  stepHelper.accessor("delivered", {
    header: "Delivered",
    cell: (i) => formatCount(i.getValue()),
  }),
  stepHelper.accessor("uniqueOpens", {
    header: "Opened",
    cell: (i) => (
      <span title={`${formatCount(i.row.original.opened)} opens in all`}>
        {formatCount(i.getValue())} · {formatRate(i.getValue(), i.row.original.delivered)}
      </span>
    ),
  }),
  stepHelper.accessor("uniqueClicks", {
    header: "Clicked",
    cell: (i) => (
      <span title={`${formatCount(i.row.original.clicked)} clicks in all`}>
        {formatCount(i.getValue())} · {formatRate(i.getValue(), i.row.original.delivered)}
      </span>
    ),
  }),
  stepHelper.accessor("conversions", {
    header: "Attributed conversions",
    cell: (i) => formatCount(i.getValue()),
  }),
  stepHelper.accessor("revenue", {
    header: "Revenue",
    cell: (i) => <Money value={i.getValue()} />,
  }),
  stepHelper.accessor("revenuePerRecipient", {
    header: "Revenue per recipient",
    cell: (i) => <Money value={i.getValue()} />,
  }),
]);

/** issue 18: shown when customers were moved between versions by a live edit (see Definitions). */
const movedColumn = stepHelper.display({
  id: "moved",
  header: "Moved by a live edit",
  cell: (i) => {
    const { movedIn, movedOut } = i.row.original;
    const parts = [
      ...(movedIn ? [`${formatCount(movedIn)} in`] : []),
      ...(movedOut ? [`${formatCount(movedOut)} out`] : []),
    ];
    return parts.length ? parts.join(" · ") : "—";
  },
});

function StepTable({ steps }: { steps: StepFigures[] }) {
  const moved = steps.some((s) => s.movedIn > 0 || s.movedOut > 0);
  const columns = useMemo(() => (moved ? [...stepColumns, movedColumn] : stepColumns), [moved]);
  if (steps.length === 0) return <p className="muted">This journey has not been published yet.</p>;
  // Thirteen columns are wider than a 1280 px window: the table scrolls in its own box.
  return (
    <div className="table-scroll" role="region" aria-label="Figures per step" tabIndex={0}>
      <DataTable
        label="Figures per step"
        className="journeys analytics__table"
        columns={columns}
        rows={steps}
        rowId={(row) => row.stepId}
      />
    </div>
  );
}

function Definitions({ rule }: { rule: string }) {
  return (
    <details className="analytics__definitions" id="definitions">
      <summary>How these figures are counted</summary>
      <dl>
        <dt>Entered</dt>
        <dd>
          Times a customer reached the step (a customer who enters the journey twice counts twice).
        </dd>
        <dt>Waiting now</dt>
        <dd>Customers at the step at this moment, waiting or about to move on.</dd>
        <dt>Sent / Failed</dt>
        <dd>
          Messages the step handed to the provider, and those that could not be sent or that the
          provider later reported as bounced or failed.
        </dd>
        <dt>Converted</dt>
        <dd>
          Customers who reached the journey's goal while at the step (one conversion per journey
          entry).
        </dd>
        <dt>Conversion rate</dt>
        <dd>Converted ÷ entered, for the step.</dd>
        <dt>Delivered</dt>
        <dd>
          Messages the provider accepted, less those it later reported as bounced or failed. Only
          providers with delivery reports set up (Admin → Channel credentials) report back; for the
          others this is what they accepted. Bounced and failed reports count under Failed.
        </dd>
        <dt>Opened / Clicked</dt>
        <dd>
          Messages opened or clicked at least once, and that share of delivered messages; hover for
          every open or click counted. Opens are counted only when the workspace turned on the open
          pixel, and some inboxes load or block images on their own.
        </dd>
        <dt>Attributed conversions, revenue</dt>
        <dd>{rule}</dd>
        <dt>Revenue per recipient</dt>
        <dd>Attributed revenue ÷ entered, for the step.</dd>
        <dt>Moved by a live edit</dt>
        <dd>
          Customers moved to this step from an older version (in), or from this step to a newer
          version (out), when the journey was republished with “move them”. A moved customer is not
          counted again as entered, nor as having left the step.
        </dd>
        <dt>All versions</dt>
        <dd>
          Each version's figures added up per step; a step keeps its figures when republished.
        </dd>
      </dl>
    </details>
  );
}

function DailyChart({ journeyId, rule }: { journeyId: string; rule: string }) {
  const trpc = useTRPC();
  const [range, setRange] = useState(() => lastDays(30));
  const { from, to } = range;
  const daily = useQuery({
    ...trpc.analytics.daily.queryOptions({ journeyId, from, to }),
    enabled: Boolean(from && to),
  });
  const totals = useMemo(() => sum(daily.data ?? []), [daily.data]);
  return (
    <div className="analytics__daily">
      <RangePicker value={range} onChange={setRange} />
      {daily.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(daily.error)}
        </p>
      ) : daily.isPending ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <p aria-label="Totals of the range">
            {formatCount(totals.entries)} entries · {formatCount(totals.sends)} messages sent ·{" "}
            {formatCount(totals.conversions)} conversions · <Money value={totals.revenue} /> revenue
          </p>
          <figure className="analytics__chart" aria-label="Entries, sends and conversions per day">
            <LineChart width={760} height={280} data={daily.data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis allowDecimals={false} />
              <YAxis yAxisId="revenue" orientation="right" />
              <Tooltip />
              <Legend />
              <Line type="monotone" dataKey="entries" name="Entries" stroke="#2563eb" dot={false} />
              <Line type="monotone" dataKey="sends" name="Sends" stroke="#16a34a" dot={false} />
              <Line
                type="monotone"
                dataKey="conversions"
                name="Conversions"
                stroke="#dc2626"
                dot={false}
              />
              <Line
                type="monotone"
                dataKey="revenue"
                name="Revenue (right axis)"
                yAxisId="revenue"
                stroke="#a16207"
                dot={false}
              />
            </LineChart>
            <figcaption className="muted">
              Days in UTC. Entries: customers who entered the journey that day. Sends: messages
              sent. Conversions and revenue: attributed conversions and their orders (each order id
              once), on the day of the order. {rule}{" "}
              <a href={exportHref(journeyId, "daily.csv", { from, to })}>Download (CSV)</a>
            </figcaption>
          </figure>
        </>
      )}
    </div>
  );
}

function sum(days: DayFigures[]) {
  return days.reduce(
    (s, d) => ({
      entries: s.entries + d.entries,
      sends: s.sends + d.sends,
      conversions: s.conversions + d.conversions,
      revenue: s.revenue + d.revenue,
    }),
    { entries: 0, sends: 0, conversions: 0, revenue: 0 },
  );
}

function Experiments({
  journeyId,
  version,
  answer,
}: {
  journeyId: string;
  version: string;
  answer: StepsAnswer;
}) {
  const trpc = useTRPC();
  const experiments = useQuery(trpc.analytics.experiments.queryOptions({ journeyId }));
  if (experiments.isPending) return <p role="status">Loading…</p>;
  if (experiments.isError)
    return (
      <p className="form-error" role="alert">
        Could not load the A/B tests: {errorMessage(experiments.error)}
      </p>
    );
  const shown = experiments.data.filter((e) => version === ALL || e.versionId === version);
  if (shown.length === 0)
    return (
      <p className="muted">
        No A/B tests here: add a “Random split” step to the journey to compare variants.
      </p>
    );
  const nameOf = (e: Experiment) =>
    answer.versions
      .find((v) => v.versionId === e.versionId)
      ?.steps.find((s) => s.stepId === e.stepId)?.name ?? "Random split";
  return (
    <>
      {shown.map((e) => (
        <ExperimentCard key={`${e.versionId}:${e.stepId}`} experiment={e} name={nameOf(e)} />
      ))}
    </>
  );
}

const VERDICT_WORDS = {
  collecting: "Collecting",
  sampleRatioMismatch: "Check the split",
  winner: "Winner",
  baselineWins: "Baseline wins",
  noDifference: "No measurable difference",
} as const;

function ExperimentCard({ experiment, name }: { experiment: Experiment; name: string }) {
  const { report } = experiment;
  const baseline = report.arms.find((a) => a.id === report.baselineId);
  const titleId = `test-${experiment.versionId}-${experiment.stepId}`;
  const verdict = report.verdict;
  return (
    <article className="analytics__test" aria-labelledby={titleId}>
      <h2 id={titleId}>
        “{name}” <span className="muted">(version {experiment.version})</span>
      </h2>
      {verdict.kind === "sampleRatioMismatch" ? (
        <p className="analytics__warning" role="alert">
          The recipients are not divided as the split is set up, so the assignment or the tracking
          may be broken. Results are withheld until the cause is found.
        </p>
      ) : null}
      {verdict.kind === "collecting" ? (
        <p className="analytics__progress">
          <label>
            Collecting: {formatCount(verdict.smallestArm)} of {formatCount(verdict.neededPerArm)}{" "}
            recipients
            <progress value={verdict.smallestArm} max={verdict.neededPerArm} />
          </label>
          <span className="muted"> (the smallest variant so far)</span>
        </p>
      ) : null}
      <p className={`analytics__verdict analytics__verdict--${verdict.kind}`}>
        <strong>
          {VERDICT_WORDS[verdict.kind]}
          {verdict.kind === "winner" || verdict.kind === "baselineWins"
            ? `: ${report.arms.find((a) => a.id === verdict.armId)?.label ?? ""}`
            : ""}
        </strong>{" "}
        — {report.summary}
      </p>
      <ArmTable
        arms={report.arms}
        baselineId={report.baselineId}
        baselineLabel={baseline?.label ?? "the baseline"}
      />
      <p className="muted analytics__rule">
        Conversion: the journey's goal reached after the split (one per journey entry). Revenue per
        recipient: orders (each order id once) within 5 days after the split, divided by the
        variant's recipients. The interval is a 95 % Wilson interval; chance to be best is Bayesian
        (shown beside the verdict, not used for it).
      </p>
    </article>
  );
}

function ArmTable({
  arms,
  baselineId,
  baselineLabel,
}: {
  arms: ArmReport[];
  baselineId: string;
  baselineLabel: string;
}) {
  return (
    <div className="table-scroll" role="region" aria-label="Variants" tabIndex={0}>
      <table className="journeys analytics__table">
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Recipients</th>
            <th scope="col">Conversion rate (95 % interval)</th>
            <th scope="col">Revenue per recipient</th>
            <th scope="col">Uplift vs {baselineLabel}</th>
            <th scope="col">Chance to be best</th>
          </tr>
        </thead>
        <tbody>
          {arms.map((a) => (
            <tr key={a.id}>
              <th scope="row">{a.label}</th>
              <td>{formatCount(a.recipients)}</td>
              <td>
                {percent(a.conversionRate)}{" "}
                <span className="muted">
                  ({percent(a.conversionInterval.low)} – {percent(a.conversionInterval.high)})
                </span>
              </td>
              <td>
                <Money value={a.revenuePerRecipient} />
              </td>
              <td>
                {a.uplift !== null
                  ? `${a.uplift >= 0 ? "+" : ""}${percent(a.uplift)}`
                  : a.id === baselineId
                    ? "Baseline"
                    : "—"}
              </td>
              <td>{percent(a.chanceToBeBest, 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
