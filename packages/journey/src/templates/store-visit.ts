// 3. Omnichannel store visit: a store visit → push a coupon for the product viewed online + notify
// the clerk; a purchase → thank-you email with an accessory coupon and a support link → 3 days →
// SMS for a sale, respecting quiet hours → 14 days → satisfaction survey email.
import { draftFromSteps } from "../builder.ts";
import type { GalleryTemplate } from "./types.ts";

export const storeVisit: GalleryTemplate = {
  id: "store-visit",
  name: "Omnichannel store visit",
  description:
    "When a customer walks into a store, push a coupon for the product they viewed online and tell the clerk; if they buy, thank them with an accessory coupon and a support link, invite them to a sale by SMS (never at night) and ask how satisfied they are two weeks later.",
  draft: draftFromSteps(
    [
      {
        id: "visit",
        type: "trigger.event",
        data: { label: "Store visit", event: "store_visit" },
        next: "viewed-coupon",
      },
      {
        id: "viewed-coupon",
        type: "action.coupon",
        data: {
          label: "Coupon for the viewed product",
          source: { kind: "pattern", pattern: "STORE-######" },
          value: { kind: "percent", amount: 10 },
          expiresIn: { amount: 1, unit: "days" },
        },
        next: "push",
      },
      {
        id: "push",
        type: "action.push",
        data: {
          label: "Push the coupon",
          title: "Welcome in, {{ first_name }}!",
          body: "{{ coupon.value }}% off the {{ event.viewed_product.name }} today with {{ coupon.code }}.",
          url: "https://shop.example/p/{{ event.viewed_product.sku }}",
          onError: "continue",
        },
        next: "clerk",
      },
      {
        id: "clerk",
        type: "action.notify",
        data: {
          label: "Notify the clerk",
          via: "email",
          to: "{{ event.clerk_email }}",
          subject: "{{ first_name }} is in the store",
          message:
            "{{ customer.attributes.first_name }} viewed the {{ event.viewed_product.name }} online and has coupon {{ coupon.code }} ({{ coupon.value }}%).",
        },
        next: "bought",
      },
      {
        id: "bought",
        type: "wait.event",
        data: {
          label: "Bought within 7 days?",
          event: "purchase",
          timeout: { amount: 7, unit: "days" },
          as: "order",
        },
        next: { arrived: "accessory-coupon", timedOut: "done" },
      },
      {
        id: "accessory-coupon",
        type: "action.coupon",
        data: {
          label: "Accessory coupon",
          source: { kind: "pool", pool: "accessories-15" },
          value: { kind: "percent", amount: 15 },
          as: "accessory_coupon",
        },
        next: "thanks",
      },
      {
        id: "thanks",
        type: "action.email",
        data: {
          label: "Thank-you email",
          subject: "Thanks for your purchase, {{ first_name }}",
          body: '<p>Enjoy your {{ order.product.name }}! Take {{ accessory_coupon.value }}% off accessories with {{ accessory_coupon.code }}. Questions? <a href="https://support.example/{{ order.product.sku }}">Our support team</a> is here.</p>',
        },
        next: "wait-3d",
      },
      { id: "wait-3d", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "sale-sms" },
      {
        id: "sale-sms",
        type: "action.sms",
        data: {
          label: "Sale invitation",
          body: "{{ first_name }}, our members' sale starts now — in store and online.",
        },
        next: "wait-14d",
      },
      { id: "wait-14d", type: "wait.duration", data: { amount: 14, unit: "days" }, next: "survey" },
      {
        id: "survey",
        type: "action.email",
        data: {
          label: "Satisfaction survey",
          subject: "How is your {{ order.product.name }}?",
          body: "<p>Tell us in two clicks: https://survey.example/{{ run.id }}</p>",
        },
        next: "done",
      },
      { id: "done", type: "flow.exit" },
    ],
    {
      timezone: "Europe/Paris",
      quietHours: { start: "21:00", end: "08:00", mode: "hold", channels: ["sms", "push"] },
    },
  ),
};
