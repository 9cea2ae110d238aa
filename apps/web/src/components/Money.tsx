// Revenue in the workspace's currency (the analytics settings' `currency`, ISO 4217; amounts are
// shown as the store sent them, never converted). Pages that show revenue put the currency their
// answer carries in a CurrencyProvider; cells and captions render <Money value={…} />.
import { createContext, useContext } from "react";

const CurrencyContext = createContext<string | null>(null);

export const CurrencyProvider = CurrencyContext.Provider;

const formats = new Map<string, Intl.NumberFormat>();

/** "$1,234.50", "1.234,50 €" (the viewer's locale); without a currency, two decimals. */
export function formatMoney(amount: number, currency: string | null): string {
  const key = currency ?? "";
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(
      undefined,
      currency
        ? { style: "currency", currency }
        : { minimumFractionDigits: 2, maximumFractionDigits: 2 },
    );
    formats.set(key, format);
  }
  return format.format(amount);
}

export function Money({ value }: { value: number }) {
  return <>{formatMoney(value, useContext(CurrencyContext))}</>;
}
