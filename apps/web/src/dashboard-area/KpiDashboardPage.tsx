// issue 17, item 6: the workspace KPI dashboard — repeat-purchase rate, time to second purchase,
// average order value and revenue influenced by journeys over a chosen range, with charts and
// the rule behind each figure beside it. Lazy-loaded (App.tsx), so Recharts stays out of the
// canvas bundle; every table can be downloaded as CSV.
import { useQuery } from "@tanstack/react-query";
import { createColumnHelper, type TableOptions } from "@tanstack/react-table";
import { DataTable, type dataTableFeatures } from "../components/DataTable.tsx";
import { CurrencyProvider, Money } from "../components/Money.tsx";
import { useState, type ReactNode } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { LIFECYCLE_STAGE_NAMES } from "@postpath/journey";
import { lastDays, RangePicker, type DayRange } from "../components/RangePicker.tsx";
import { segmentsHrefs } from "../segments-area/routes.ts";
import { formatCount } from "../format.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import type { DayOrders, SecondPurchaseBucket, WorkspaceKpis } from "./contract.ts";
import { downloadCsv, toCsv } from "./csv.ts";
import "./dashboard.css";

const percent = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
const days = (x: number | null) =>
  x === null ? "—" : `${Number.isInteger(x) ? x : x.toFixed(1)} ${x === 1 ? "day" : "days"}`;

export function KpiDashboardPage() {
  const trpc = useTRPC();
  const [range, setRange] = useState<DayRange>(() => lastDays(90));
  const kpis = useQuery({
    ...trpc.kpis.workspace.queryOptions(range),
    enabled: Boolean(range.from && range.to),
  });
  return (
    <section className="page dashboard" aria-labelledby="dashboard-title">
      <h1 id="dashboard-title">Dashboard</h1>
      <p className="muted">
        How post-purchase marketing is doing across the workspace: days in UTC, both ends included.
      </p>
      <RangePicker value={range} onChange={setRange} />
      {kpis.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(kpis.error)}
        </p>
      ) : kpis.isPending ? (
        <p role="status">Loading figures…</p>
      ) : (
        <CurrencyProvider value={kpis.data.currency}>
          <Figures kpis={kpis.data} range={range} />
        </CurrencyProvider>
      )}
      <LifecycleStages />
    </section>
  );
}

function Figures({ kpis, range }: { kpis: WorkspaceKpis; range: DayRange }) {
  const d = kpis.definitions;
  const influencedShare = kpis.revenue > 0 ? kpis.influenced.journeyRevenue / kpis.revenue : null;
  return (
    <>
      <ul className="dashboard__cards" aria-label="Key figures">
        <Card
          label="Repeat-purchase rate"
          value={percent(kpis.repeatPurchaseRate)}
          rule={d.repeatPurchaseRate}
        >
          {formatCount(kpis.repeatCustomers)} of {formatCount(kpis.customersWhoOrdered)} customers
        </Card>
        <Card
          label="Time to second purchase (median)"
          value={days(kpis.secondPurchase.medianDays)}
          rule={d.secondPurchase}
        >
          {formatCount(kpis.secondPurchase.customers)} second orders in the range
        </Card>
        <Card
          label="Average order value"
          value={kpis.averageOrderValue === null ? "—" : <Money value={kpis.averageOrderValue} />}
          rule={d.averageOrderValue}
        >
          {formatCount(kpis.orders)} orders · <Money value={kpis.revenue} /> revenue
        </Card>
        <Card
          label="Revenue influenced by journeys"
          value={percent(influencedShare)}
          rule={d.influenced}
        >
          <Money value={kpis.influenced.journeyRevenue} /> from{" "}
          {formatCount(kpis.influenced.journeyOrders)} orders;{" "}
          <Money value={kpis.influenced.otherRevenue} /> from{" "}
          {formatCount(kpis.influenced.otherOrders)} other orders
        </Card>
      </ul>

      <section aria-labelledby="revenue-per-day">
        <h2 id="revenue-per-day">Revenue per day</h2>
        {kpis.daily.length === 0 ? (
          <p className="muted">No orders in this range.</p>
        ) : (
          <figure
            className="dashboard__chart"
            aria-label="Revenue per day, journeys and other orders"
          >
            <BarChart width={760} height={260} data={kpis.daily.map(split)}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis />
              <Tooltip />
              <Legend />
              <Bar
                dataKey="journeyRevenue"
                name="Influenced by journeys"
                stackId="r"
                fill="#2563eb"
              />
              <Bar dataKey="otherRevenue" name="Other orders" stackId="r" fill="#94a3b8" />
            </BarChart>
            <figcaption className="muted">{d.influenced}</figcaption>
          </figure>
        )}
        <DailyTable rows={kpis.daily} range={range} />
      </section>

      <section aria-labelledby="second-purchase">
        <h2 id="second-purchase">Time to second purchase</h2>
        {kpis.secondPurchase.customers === 0 ? (
          <p className="muted">No customer placed a second order in this range.</p>
        ) : (
          <figure className="dashboard__chart" aria-label="Customers by days to their second order">
            <BarChart width={760} height={240} data={kpis.secondPurchase.buckets}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="customers" name="Customers" fill="#16a34a" />
            </BarChart>
            <figcaption className="muted">{d.secondPurchase}</figcaption>
          </figure>
        )}
        <BucketTable rows={kpis.secondPurchase.buckets} range={range} />
      </section>
    </>
  );
}

/**
 * Customers by lifecycle stage, now (the stage segments' members; the rules are the workspace's,
 * tuned in Segments). Not over the range: a customer is in one stage at a time.
 */
function LifecycleStages() {
  const trpc = useTRPC();
  const lifecycle = useQuery(trpc.segments.lifecycle.get.queryOptions());
  if (lifecycle.isPending || lifecycle.isError) return null;
  const { enabled, stages } = lifecycle.data;
  const rows = stages.map((s) => ({
    stage: LIFECYCLE_STAGE_NAMES[s.stage],
    customers: s.members,
    rule: s.rule,
  }));
  return (
    <section aria-labelledby="lifecycle-stages">
      <h2 id="lifecycle-stages">Customers by lifecycle stage</h2>
      {!enabled ? (
        <p className="muted">
          Lifecycle stages are not set up yet: <a href={segmentsHrefs.segments()}>Segments</a> sets
          them up and lets you tune their rules.
        </p>
      ) : (
        <>
          <figure className="dashboard__chart" aria-label="Customers per lifecycle stage, now">
            <BarChart width={760} height={220} data={rows}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="stage" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="customers" name="Customers" fill="#7c3aed" />
            </BarChart>
            <figcaption className="muted">
              Now, whatever the range: each customer is in one stage at a time.
            </figcaption>
          </figure>
          <div className="dashboard__table">
            <DataTable
              label="Customers per lifecycle stage"
              columns={stageColumns}
              rows={rows}
              rowId={(r) => r.stage}
            />
          </div>
        </>
      )}
    </section>
  );
}

const stageHelper = createColumnHelper<
  typeof dataTableFeatures,
  { stage: string; customers: number; rule: string }
>();
const stageColumns = stageHelper.columns([
  stageHelper.accessor("stage", { header: "Stage" }),
  stageHelper.accessor("customers", {
    header: "Customers",
    cell: (i) => formatCount(i.getValue()),
  }),
  stageHelper.accessor("rule", { header: "Rule" }),
]);

const split = (d: DayOrders) => ({ ...d, otherRevenue: d.revenue - d.journeyRevenue });

function Card({
  label,
  value,
  rule,
  children,
}: {
  label: string;
  value: ReactNode;
  rule: string;
  children: ReactNode;
}) {
  return (
    <li className="dashboard__card">
      <span className="dashboard__label">{label}</span>
      <strong className="dashboard__value">{value}</strong>
      <span className="muted">{children}</span>
      <details>
        <summary>How it is counted</summary>
        <p>{rule}</p>
      </details>
    </li>
  );
}

const dayHelper = createColumnHelper<typeof dataTableFeatures, DayOrders>();
const dayColumns = dayHelper.columns([
  dayHelper.accessor("day", { header: "Day" }),
  dayHelper.accessor("orders", { header: "Orders", cell: (i) => formatCount(i.getValue()) }),
  dayHelper.accessor("revenue", { header: "Revenue", cell: (i) => <Money value={i.getValue()} /> }),
  dayHelper.accessor("journeyRevenue", {
    header: "Influenced by journeys",
    cell: (i) => <Money value={i.getValue()} />,
  }),
]);

function DailyTable({ rows, range }: { rows: DayOrders[]; range: DayRange }) {
  if (rows.length === 0) return null;
  return (
    <FigureTable
      label="Orders per day"
      columns={dayColumns}
      rows={rows}
      rowId={(r) => r.day}
      onDownload={() =>
        downloadCsv(
          `orders-per-day-${range.from}-${range.to}.csv`,
          toCsv(
            ["day", "orders", "revenue", "influenced_by_journeys"],
            rows.map((r) => [r.day, r.orders, r.revenue, r.journeyRevenue]),
          ),
        )
      }
    />
  );
}

const bucketHelper = createColumnHelper<typeof dataTableFeatures, SecondPurchaseBucket>();
const bucketColumns = bucketHelper.columns([
  bucketHelper.accessor("label", { header: "Second order" }),
  bucketHelper.accessor("customers", {
    header: "Customers",
    cell: (i) => formatCount(i.getValue()),
  }),
]);

function BucketTable({ rows, range }: { rows: SecondPurchaseBucket[]; range: DayRange }) {
  return (
    <FigureTable
      label="Customers by days to their second order"
      columns={bucketColumns}
      rows={rows}
      rowId={(r) => r.label}
      onDownload={() =>
        downloadCsv(
          `second-purchase-${range.from}-${range.to}.csv`,
          toCsv(
            ["days_from", "days_to", "customers"],
            rows.map((r) => [r.minDays, r.maxDays, r.customers]),
          ),
        )
      }
    />
  );
}

/** A table of figures with its CSV download. */
function FigureTable<T extends object>({
  label,
  columns,
  rows,
  rowId,
  onDownload,
}: {
  label: string;
  columns: TableOptions<typeof dataTableFeatures, T>["columns"];
  rows: T[];
  rowId: (row: T) => string;
  onDownload: () => void;
}) {
  return (
    <div className="dashboard__table">
      <button type="button" onClick={onDownload}>
        Download CSV
      </button>
      <DataTable label={label} columns={columns} rows={rows} rowId={rowId} />
    </div>
  );
}
