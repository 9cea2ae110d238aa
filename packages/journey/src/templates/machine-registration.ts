// 1. Machine registration (a coffee-machine maker): purchase → email with a personal registration
// URL + QR and a 25% or 30% discount by machine tier → wait up to 7 days for `machine_registered`
// with the same serial → thank-you email with the first name and the registered model, or a
// reminder SMS; then exit.
import { draftFromSteps } from "../builder.ts";
import type { GalleryTemplate } from "./types.ts";

export const machineRegistration: GalleryTemplate = {
  id: "machine-registration",
  name: "Machine registration",
  description:
    "After a coffee machine is bought, send a personal registration link with a QR code and a discount (30% for premium machines, 25% otherwise); thank customers who register within 7 days, remind the others by SMS.",
  draft: draftFromSteps(
    [
      {
        id: "purchase",
        type: "trigger.event",
        data: {
          label: "Machine purchased",
          event: "purchase",
          filters: [{ property: "product.category", op: "eq", value: "coffee-machine" }],
        },
        next: "purl",
      },
      {
        id: "purl",
        type: "action.purl",
        data: {
          label: "Registration link + QR",
          page: "register-machine",
          params: {
            serial: "{{ event.serial }}",
            model: "{{ event.product.model }}",
            name: "{{ first_name }}",
          },
          qr: true,
          expiresIn: { amount: 60, unit: "days" },
        },
        next: "discount",
      },
      {
        id: "discount",
        type: "action.coupon",
        data: {
          label: "Registration discount",
          source: { kind: "pattern", pattern: "REG-########" },
          value: { kind: "percent", amount: 25 },
          rules: [
            {
              when: [{ property: "event.product.tier", op: "eq", value: "premium" }],
              value: { kind: "percent", amount: 30 },
            },
          ],
          expiresIn: { amount: 60, unit: "days" },
        },
        next: "invite",
      },
      {
        id: "invite",
        type: "action.email",
        data: {
          label: "Registration invitation",
          subject:
            "{{ first_name }}, register your {{ event.product.model }} and save {{ coupon.value }}%",
          body: '<p>Hi {{ first_name }},</p><p>Register your {{ event.product.model }} (serial {{ event.serial }}) at <a href="{{ purl.url }}">{{ purl.url }}</a> or scan the code below, and get {{ coupon.value }}% off your next order with <strong>{{ coupon.code }}</strong>.</p><p><img src="{{ purl.qrUrl }}" alt="QR code"></p>',
        },
        next: "registered",
      },
      {
        id: "registered",
        type: "wait.event",
        data: {
          label: "Registered within 7 days?",
          event: "machine_registered",
          timeout: { amount: 7, unit: "days" },
          correlate: { property: "serial", triggerProperty: "serial" },
        },
        next: { arrived: "thanks", timedOut: "reminder" },
      },
      {
        id: "thanks",
        type: "action.email",
        data: {
          label: "Thank you",
          subject: "Thank you, {{ first_name }}!",
          body: "<p>Your {{ machine_registered.model }} is registered. Enjoy your coffee, {{ first_name }}. Your code {{ coupon.code }} is waiting for you.</p>",
        },
        next: "done",
      },
      {
        id: "reminder",
        type: "action.sms",
        data: {
          label: "Reminder SMS",
          body: "{{ first_name }}, register your {{ event.product.model }} for {{ coupon.value }}% off: {{ purl.url }}",
        },
        next: "done",
      },
      { id: "done", type: "flow.exit", data: { label: "Done" } },
    ],
    {
      timezone: "Europe/Zurich",
      quietHours: { start: "21:00", end: "08:00", mode: "hold", channels: ["sms", "push"] },
    },
  ),
};
