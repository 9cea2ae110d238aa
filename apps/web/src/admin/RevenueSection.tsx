// Orders & revenue (admin): which event is an order, where its amount and order id are, the
// currency revenue is shown in, and whether emails carry the open pixel (`analytics.settings`,
// issue 17). The names are picked from what the workspace has seen (issue 16's pickers); a name
// nobody has sent yet can still be typed, with a warning.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { NamePicker } from "../components/NamePicker.tsx";
import { eventOptions, eventPropertyOptions } from "../canvas/pickers.ts";
import { formatMoney } from "../components/Money.tsx";
import { useTRPC } from "../trpc.ts";
import { Loading, MutationError, type Outputs } from "./common.tsx";

type Settings = Outputs["analytics"]["settings"];

/** As long as the server caches the catalogue. */
const CATALOG_STALE_MS = 60_000;

export function RevenueSection() {
  const trpc = useTRPC();
  const settings = useQuery(trpc.analytics.settings.queryOptions());
  return (
    <>
      <h2>Orders &amp; revenue</h2>
      <Loading query={settings} what="the order settings">
        {(data) => <RevenueForm initial={data} />}
      </Loading>
    </>
  );
}

/** Every currency the browser can show, "Euro (EUR)", sorted by name. */
function currencyChoices(current: string): { code: string; name: string }[] {
  const names = new Intl.DisplayNames(undefined, { type: "currency" });
  const codes = new Set([...Intl.supportedValuesOf("currency"), current]);
  return [...codes]
    .map((code) => ({ code, name: names.of(code) ?? code }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function RevenueForm({ initial }: { initial: Settings }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const catalog = useQuery({
    ...trpc.journeys.catalog.queryOptions(),
    staleTime: CATALOG_STALE_MS,
  });
  const save = useMutation(
    trpc.analytics.updateSettings.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.analytics.pathFilter()),
    }),
  );
  const [purchaseEvent, setPurchaseEvent] = useState(initial.purchaseEvent);
  const [revenueProperty, setRevenueProperty] = useState(initial.revenueProperty);
  const [orderIdProperty, setOrderIdProperty] = useState(initial.orderIdProperty);
  const [currency, setCurrency] = useState(initial.currency);
  const [trackOpens, setTrackOpens] = useState(initial.trackOpens);
  const currencies = useMemo(() => currencyChoices(initial.currency), [initial.currency]);
  const properties = eventPropertyOptions(catalog.data, purchaseEvent);
  return (
    <form
      className="admin__settings"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ purchaseEvent, revenueProperty, orderIdProperty, currency, trackOpens });
      }}
    >
      <p className="muted">{initial.rule}</p>
      <div className="field">
        <label htmlFor="revenue-event">Purchase event</label>
        <NamePicker
          id="revenue-event"
          value={purchaseEvent}
          onChange={setPurchaseEvent}
          {...eventOptions(catalog.data)}
        />
        <p className="muted">
          Each of these events is an order. Segment&apos;s “Order Completed” always counts too.
        </p>
      </div>
      <div className="field">
        <label htmlFor="revenue-amount">Order amount (property of the purchase event)</label>
        <NamePicker
          id="revenue-amount"
          value={revenueProperty}
          onChange={setRevenueProperty}
          {...properties}
        />
      </div>
      <div className="field">
        <label htmlFor="revenue-order-id">Order number (property of the purchase event)</label>
        <NamePicker
          id="revenue-order-id"
          value={orderIdProperty}
          onChange={setOrderIdProperty}
          {...properties}
        />
        <p className="muted">An order number is counted once, however often it is sent.</p>
      </div>
      <div className="field">
        <label htmlFor="revenue-currency">Currency</label>
        <select
          id="revenue-currency"
          value={currency}
          onChange={(e) => setCurrency(e.target.value)}
          aria-describedby="revenue-currency-example"
        >
          {currencies.map((c) => (
            <option key={c.code} value={c.code}>
              {c.name} ({c.code})
            </option>
          ))}
        </select>
        <p className="muted" id="revenue-currency-example">
          Revenue is shown as {formatMoney(1234.5, currency)}. Amounts are shown as your store sends
          them, not converted.
        </p>
      </div>
      <label className="field">
        <span>
          <input
            type="checkbox"
            checked={trackOpens}
            onChange={(e) => setTrackOpens(e.target.checked)}
          />{" "}
          Count email opens (adds an invisible image to marketing emails)
        </span>
      </label>
      <MutationError error={save.error} />
      {save.isSuccess ? <p role="status">Saved.</p> : null}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save order settings
      </button>
    </form>
  );
}
