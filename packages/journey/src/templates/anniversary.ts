// 4. Anniversary: one year after registration, at 10:00 local time, a loyalty reward.
import { draftFromSteps } from "../builder.ts";
import type { GalleryTemplate } from "./types.ts";

export const anniversary: GalleryTemplate = {
  id: "anniversary",
  name: "Anniversary",
  description:
    "One year after a customer registered, at 10:00 in their time zone, send a loyalty reward.",
  draft: draftFromSteps([
    {
      id: "anniversary",
      type: "trigger.date",
      data: {
        label: "1 year after registration",
        attribute: "registered_at",
        offset: { amount: 1, unit: "years" },
        at: "10:00",
      },
      next: "reward",
    },
    {
      id: "reward",
      type: "action.coupon",
      data: {
        label: "Loyalty reward",
        source: { kind: "pool", pool: "loyalty-10" },
        value: { kind: "amount", amount: 10, currency: "EUR" },
        expiresIn: { amount: 30, unit: "days" },
      },
      next: "email",
    },
    {
      id: "email",
      type: "action.email",
      data: {
        label: "Anniversary email",
        subject: "Happy anniversary, {{ first_name }}!",
        body: "<p>A year together! Here is {{ coupon.value }} EUR to celebrate: {{ coupon.code }}.</p>",
      },
      next: "done",
    },
    { id: "done", type: "flow.exit" },
  ]),
};
