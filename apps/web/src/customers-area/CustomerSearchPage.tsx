// issue 16: the Customers area's search — by id, email, phone (the start of it) or an attribute
// (`plan = gold`), results in a table, more rows on request (keyset pages from the API).
import { createColumnHelper, tableFeatures, useTable } from "@tanstack/react-table";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { formatDateTime } from "../format.ts";
import { navigate } from "../routing.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import type { CustomerRow, SearchKind } from "./contract.ts";
import { customersHrefs } from "./routes.ts";
import "./customers.css";

const KIND_LABELS: Record<SearchKind | "", string> = {
  "": "Anything",
  id: "Customer id",
  email: "Email",
  phone: "Phone",
  attribute: "Attribute (name = value)",
};

const KIND_WORDS: Record<SearchKind, string> = {
  id: "customer id",
  email: "email",
  phone: "phone number",
  attribute: "attribute",
};

const features = tableFeatures({});
const helper = createColumnHelper<typeof features, CustomerRow>();
const columns = helper.columns([
  helper.accessor("externalId", {
    header: "Customer id",
    cell: (info) => <a href={customersHrefs.customer(info.row.original.id)}>{info.getValue()}</a>,
  }),
  helper.accessor("name", { header: "Name", cell: (info) => info.getValue() ?? "—" }),
  helper.accessor("email", { header: "Email", cell: (info) => info.getValue() ?? "—" }),
  helper.accessor("phone", { header: "Phone", cell: (info) => info.getValue() ?? "—" }),
  helper.accessor("updatedAt", {
    header: "Profile updated",
    cell: (info) => <time dateTime={info.getValue()}>{formatDateTime(info.getValue())}</time>,
  }),
]);

export function CustomerSearchPage() {
  const [text, setText] = useState("");
  const [kind, setKind] = useState<SearchKind | "">("");
  const [search, setSearch] = useState<{ query: string; by: SearchKind | "" } | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const query = text.trim();
    if (query) setSearch({ query, by: kind });
  };
  return (
    <section className="page customers" aria-labelledby="customers-title">
      <h1 id="customers-title">Customers</h1>
      <p className="muted">
        Find a customer by their id, email, the start of their phone number, or an attribute such as{" "}
        <code>plan = gold</code>.
      </p>
      <form className="customers__search" role="search" onSubmit={submit}>
        <label>
          Search
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="user-123, ada@example.com, +4477…, plan = gold"
          />
        </label>
        <label>
          Search by
          <select value={kind} onChange={(e) => setKind(e.target.value as SearchKind | "")}>
            {Object.entries(KIND_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={!text.trim()}>
          Search
        </button>
      </form>
      {search ? <SearchResults key={`${search.by}:${search.query}`} {...search} /> : null}
    </section>
  );
}

function SearchResults({ query, by }: { query: string; by: SearchKind | "" }) {
  const trpc = useTRPC();
  const results = useInfiniteQuery(
    trpc.customers.search.infiniteQueryOptions(
      { query, limit: 25, ...(by ? { by } : {}) },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const rows = useMemo(() => results.data?.pages.flatMap((p) => p.items) ?? [], [results.data]);
  if (results.isPending) return <p role="status">Searching…</p>;
  if (results.isError)
    return (
      <p className="form-error" role="alert">
        Could not search: {errorMessage(results.error)}
      </p>
    );
  const kind = results.data.pages[0]?.by;
  return (
    <div className="customers__results">
      <p role="status">
        {rows.length === 0
          ? `No customer matches “${query}”`
          : `${rows.length}${results.hasNextPage ? "+" : ""} ${rows.length === 1 ? "customer" : "customers"}`}
        {kind ? ` (searched by ${KIND_WORDS[kind]})` : ""}
      </p>
      {rows.length > 0 ? <ResultTable rows={rows} /> : null}
      {results.hasNextPage ? (
        <button
          type="button"
          onClick={() => void results.fetchNextPage()}
          disabled={results.isFetchingNextPage}
        >
          {results.isFetchingNextPage ? "Loading…" : "Show more"}
        </button>
      ) : null}
    </div>
  );
}

export function ResultTable({ rows }: { rows: CustomerRow[] }) {
  const table = useTable({ features, columns, data: rows, getRowId: (row) => row.id });
  // A phone scrolls the five columns sideways in their own box, not the whole page.
  return (
    <div className="table-scroll" role="region" aria-label="Customers found" tabIndex={0}>
      <table className="journeys customers__table">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => (
                <th key={header.id} scope="col">
                  {header.isPlaceholder ? null : <table.FlexRender header={header} />}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            // The id is the keyboard-reachable link; the rest of the row is a larger mouse target.
            <tr
              key={row.id}
              className="journeys__row"
              onClick={() => navigate(customersHrefs.customer(row.original.id))}
            >
              {row.getAllCells().map((cell) => (
                <td key={cell.id}>
                  <table.FlexRender cell={cell} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
