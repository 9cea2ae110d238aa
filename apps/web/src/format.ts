const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "Nov 23, 2025, 2:30 PM" in the viewer's locale; the ISO string itself if it does not parse. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

const count = new Intl.NumberFormat(undefined);

export function formatCount(n: number): string {
  return count.format(n);
}

/** "1 visit", "530 visits": the count and the noun in the number it needs. */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Share of entered customers who converted, "—" before anyone entered. */
export function formatRate(converted: number, entered: number): string {
  if (entered <= 0) return "—";
  return `${Math.round((converted / entered) * 1000) / 10}%`;
}
