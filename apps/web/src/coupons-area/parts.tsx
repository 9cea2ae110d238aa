// issue 16: pieces the Coupons area's pages share — the stock badge and the journeys using a pool.
import type { CouponPoolRow, Stock } from "./contract.ts";

/** "Low stock" (fewer than 100 codes left, or under 10 % of the pool) and "No codes left". */
export function StockBadge({ stock }: { stock: Stock }) {
  if (stock === "ok") return null;
  return (
    <span
      className={`coupons__badge coupons__badge--${stock}`}
      title="Low stock: fewer than 100 codes left, or less than 10% of the pool. A coupon step that finds no code left fails for that customer."
    >
      {stock === "empty" ? "No codes left" : "Low stock"}
    </span>
  );
}

/** The journeys giving codes from a pool, live ones marked; "—" when none. */
export function UsedBy({ uses }: { uses: CouponPoolRow["usedBy"] }) {
  if (uses.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="coupons__uses">
      {uses.map((u) => (
        <li key={u.journeyId}>
          <a href={`#/journeys/${encodeURIComponent(u.journeyId)}`}>{u.name}</a>
          {u.live ? null : <span className="muted"> (draft)</span>}
        </li>
      ))}
    </ul>
  );
}
