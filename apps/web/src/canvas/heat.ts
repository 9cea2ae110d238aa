// issue 17, item 4: the journey's figures as a heat overlay on the canvas — each step's card
// tinted by its share of the busiest step's figure (customers entered, messages sent,
// conversions, or conversion rate), from the same live per-step counts the cards show. The
// tint is a background inside the card's fixed size: nothing moves or overlaps.
import type { NodeCounts } from "./store.ts";

export type HeatMetric = "off" | "entered" | "sent" | "converted" | "conversionRate";

export const HEAT_METRICS: readonly { value: HeatMetric; label: string }[] = [
  { value: "off", label: "No heat" },
  { value: "entered", label: "Customers entered" },
  { value: "sent", label: "Messages sent" },
  { value: "converted", label: "Conversions" },
  { value: "conversionRate", label: "Conversion rate" },
];

/** A step's figure and its share (0–1) of the highest figure among the steps. */
export type Heat = { value: number; share: number; text: string };

function figure(c: NodeCounts, metric: Exclude<HeatMetric, "off">): number {
  if (metric === "conversionRate") return c.entered > 0 ? c.converted / c.entered : 0;
  return c[metric];
}

function words(value: number, metric: Exclude<HeatMetric, "off">): string {
  if (metric === "conversionRate") return `${(value * 100).toFixed(1)}% converted`;
  const noun = { entered: "entered", sent: "sent", converted: "converted" }[metric];
  return `${value} ${noun}`;
}

/** Per step, its heat; null when off or without counts. */
export function heatOf(
  counts: Record<string, NodeCounts> | null,
  metric: HeatMetric,
): Record<string, Heat> | null {
  if (!counts || metric === "off") return null;
  const values = Object.entries(counts).map(([id, c]) => [id, figure(c, metric)] as const);
  const max = Math.max(0, ...values.map(([, v]) => v));
  const heat: Record<string, Heat> = {};
  for (const [id, value] of values)
    heat[id] = { value, share: max > 0 ? value / max : 0, text: words(value, metric) };
  return heat;
}
