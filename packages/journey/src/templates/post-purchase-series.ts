// 2. Three-part post-purchase series: thank-you now; 3 days later product tips; 7 days later a
// second-purchase offer — big spenders get a VIP offer, clearance buyers free shipping; a second
// purchase ends the series (goal).
import { draftFromSteps } from "../builder.ts";
import type { GalleryTemplate } from "./types.ts";

const offer = (
  id: string,
  label: string,
  coupon: Record<string, unknown>,
  subject: string,
  body: string,
) => [
  {
    id: `${id}-coupon`,
    type: "action.coupon" as const,
    data: { label: `${label} coupon`, expiresIn: { amount: 14, unit: "days" }, ...coupon },
    next: `${id}-email`,
  },
  {
    id: `${id}-email`,
    type: "action.email" as const,
    data: { label, subject, body },
    next: "done",
  },
];

export const postPurchaseSeries: GalleryTemplate = {
  id: "post-purchase-series",
  name: "Three-part post-purchase series",
  description:
    "Thank the customer right away, send product tips 3 days later and a second-purchase offer after 7 days — a VIP offer for big spenders, free shipping for clearance buyers. A second purchase ends the series.",
  draft: draftFromSteps(
    [
      {
        id: "purchase",
        type: "trigger.event",
        data: { label: "Purchase", event: "purchase" },
        next: "thanks",
      },
      {
        id: "thanks",
        type: "action.email",
        data: {
          label: "Thank you",
          subject: "Thank you for your order, {{ first_name }}",
          body: "<p>We're preparing order {{ event.order_id }}.</p>",
        },
        next: "wait-3d",
      },
      { id: "wait-3d", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "tips" },
      {
        id: "tips",
        type: "action.email",
        data: {
          label: "Product tips",
          subject: "Get the most out of your {{ event.product.name }}",
          body: "<p>Three tips for your {{ event.product.name }}…</p>",
        },
        next: "wait-4d",
      },
      {
        id: "wait-4d",
        type: "wait.duration",
        data: { label: "Until day 7", amount: 4, unit: "days" },
        next: "segment",
      },
      {
        id: "segment",
        type: "split.multi",
        data: {
          label: "Which offer?",
          branches: [
            {
              id: "vip",
              label: "Big spender",
              conditions: [{ property: "event.total", op: "gte", value: 500 }],
            },
            {
              id: "clearance",
              label: "Clearance buyer",
              conditions: [{ property: "event.clearance", op: "eq", value: true }],
            },
          ],
        },
        next: { vip: "vip-coupon", clearance: "clearance-coupon", else: "standard-coupon" },
      },
      ...offer(
        "vip",
        "VIP offer",
        { source: { kind: "pool", pool: "vip-20" }, value: { kind: "percent", amount: 20 } },
        "{{ first_name }}, a VIP thank-you: {{ coupon.value }}% off",
        "<p>As one of our best customers, take {{ coupon.value }}% off with {{ coupon.code }}.</p>",
      ),
      ...offer(
        "clearance",
        "Free shipping offer",
        {
          source: { kind: "pattern", pattern: "SHIP-######" },
          value: { kind: "freeShipping", amount: 0 },
        },
        "Free shipping on your next order",
        "<p>Use {{ coupon.code }} for free shipping.</p>",
      ),
      ...offer(
        "standard",
        "Second-purchase offer",
        {
          source: { kind: "pattern", pattern: "AGAIN-######" },
          value: { kind: "percent", amount: 10 },
        },
        "{{ coupon.value }}% off your next order",
        "<p>Come back soon: {{ coupon.code }} saves you {{ coupon.value }}%.</p>",
      ),
      { id: "done", type: "flow.exit" },
      {
        id: "second-purchase",
        type: "flow.goal",
        data: { label: "Second purchase", name: "second purchase", event: "purchase" },
      },
    ],
    { exitCriteria: [{ event: "unsubscribed" }] },
  ),
};
