// 1. Machine registration (a coffee-machine maker, Postpath's founding case study): purchase →
// email with a personal registration link + QR → the customer's page (greeted by name, their
// machine already known) → the registration form (`form_submitted`, correlated by the serial in a
// hidden field) → a 25% or 30% discount by machine tier, shown on the thank-you page and emailed;
// no registration within 7 days → a reminder SMS, and the link still counts for 14 more days.
// Entries are counted per serial: a customer who buys two machines gets two runs, two cards, two
// pages and two registrations that never cross; the same serial twice enters once.
import { draftFromSteps } from "../builder.ts";
import type { PageDocument } from "../pages.ts";
import type { GalleryTemplate } from "./types.ts";

/** The discount by tier, as the email and the page say it before the coupon exists. */
const PERCENT = '{% if event.product.tier == "premium" %}30{% else %}25{% endif %}';

/** The page the card's QR code opens (PURL params: serial, model, tier). */
export const registerMachinePage: PageDocument = {
  root: {
    props: { title: "Register your {{ purl.model }}", accent: "#6b3e26", schemaVersion: 1 },
  },
  content: [
    {
      type: "Heading",
      props: {
        id: "greeting",
        text: "Hello {{ customer.first_name }}, welcome to your new machine",
        level: "h1",
        align: "left",
      },
    },
    {
      type: "Text",
      props: {
        id: "intro",
        text: 'Register it in a minute: you get {% if purl.tier == "premium" %}30{% else %}25{% endif %}% off your next order, and we can reach you about your warranty.',
        align: "left",
      },
    },
    {
      type: "ProductCard",
      props: {
        id: "machine",
        title: "{{ purl.model }}",
        subtitle: "Serial {{ purl.serial }}",
        imageSrc: "",
        imageAlt: "",
        details: "",
      },
    },
    {
      type: "Form",
      props: {
        id: "registration-form",
        formId: "registration",
        title: "Your details",
        submitLabel: "Register my machine",
        fields: [
          {
            name: "first_name",
            label: "First name",
            type: "text",
            required: true,
            prefill: "{{ customer.first_name }}",
            placeholder: "",
            options: "",
            maxLength: 100,
            saveTo: "first_name",
          },
          {
            name: "email",
            label: "Email",
            type: "email",
            required: true,
            prefill: "{{ customer.email }}",
            placeholder: "name@example.com",
            options: "",
            maxLength: 200,
            saveTo: "email",
          },
          {
            name: "phone",
            label: "Mobile phone",
            type: "phone",
            required: false,
            prefill: "{{ customer.phone }}",
            placeholder: "",
            options: "",
            maxLength: 30,
            saveTo: "phone",
          },
          {
            name: "serial",
            label: "Serial number",
            type: "hidden",
            required: true,
            prefill: "{{ purl.serial }}",
            placeholder: "",
            options: "",
            maxLength: 100,
            saveTo: "",
          },
        ],
        consent: {
          enabled: true,
          text: "Yes, email me tips and offers for my machine. I can unsubscribe at any time.",
          version: "1",
          required: false,
        },
        thankYouSlug: "machine-registered",
      },
    },
  ],
};

/** The form's thank-you page: the coupon the journey issues on registration. */
export const machineRegisteredPage: PageDocument = {
  root: {
    props: { title: "Thank you, {{ customer.first_name }}", accent: "#6b3e26", schemaVersion: 1 },
  },
  content: [
    {
      type: "Heading",
      props: {
        id: "thanks",
        text: "Thank you, {{ customer.first_name }}!",
        level: "h1",
        align: "left",
      },
    },
    {
      type: "Text",
      props: {
        id: "registered",
        text: "Your {{ purl.model }} (serial {{ purl.serial }}) is registered.",
        align: "left",
      },
    },
    {
      type: "CouponCard",
      props: {
        id: "coupon",
        title:
          "{% if coupon.value %}Your {{ coupon.value }}% registration discount{% else %}Your registration discount{% endif %}",
        code: "{{ coupon.code }}",
        description: "Use it on your next order. We have emailed it to you as well.",
        pendingText: "Your code is on its way by email.",
      },
    },
  ],
};

export const machineRegistration: GalleryTemplate = {
  id: "machine-registration",
  name: "Machine registration",
  description:
    "After a coffee machine is bought, send a personal registration link with a QR code to a page that already knows the customer and their machine; registering with the page's form earns a discount (30% for premium machines, 25% otherwise) shown on the thank-you page; no registration within 7 days, a reminder SMS. Counted per serial: two machines, two registrations. Also creates the two pages (as drafts to review and publish).",
  pages: [
    { slug: "register-machine", name: "Register your machine", document: registerMachinePage },
    { slug: "machine-registered", name: "Machine registered", document: machineRegisteredPage },
  ],
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
            tier: "{{ event.product.tier }}",
            name: "{{ first_name }}",
          },
          qr: true,
          expiresIn: { amount: 60, unit: "days" },
        },
        next: "invite",
      },
      {
        id: "invite",
        type: "action.email",
        data: {
          label: "Registration invitation",
          subject: `{{ first_name }}, register your {{ event.product.model }} and save ${PERCENT}%`,
          body: `<p>Hi {{ first_name }},</p><p>Register your {{ event.product.model }} (serial {{ event.serial }}) at <a href="{{ purl.url }}">{{ purl.url }}</a> or scan the code below, and get ${PERCENT}% off your next order.</p><p><img src="{{ purl.qrUrl }}" alt="QR code"></p>`,
        },
        next: "registered",
      },
      {
        id: "registered",
        type: "wait.event",
        data: {
          label: "Registered within 7 days?",
          event: "form_submitted",
          filters: [{ property: "form", op: "eq", value: "registration" }],
          timeout: { amount: 7, unit: "days" },
          correlate: { property: "serial", triggerProperty: "serial" },
          as: "registration",
        },
        next: { arrived: "discount", timedOut: "reminder" },
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
        next: "thanks",
      },
      {
        id: "thanks",
        type: "action.email",
        data: {
          label: "Thank you",
          subject: "Thank you, {{ first_name }}!",
          body: "<p>Your {{ event.product.model }} is registered. Enjoy your coffee, {{ first_name }}.</p><p>Here is {{ coupon.value }}% off your next order: <strong>{{ coupon.code }}</strong></p>",
        },
        next: "done",
      },
      {
        id: "reminder",
        type: "action.sms",
        data: {
          label: "Reminder SMS",
          body: `{{ first_name }}, register your {{ event.product.model }} for ${PERCENT}% off: {{ purl.url }}`,
        },
        next: "late",
      },
      {
        id: "late",
        type: "wait.event",
        data: {
          label: "Registered after the reminder?",
          event: "form_submitted",
          filters: [{ property: "form", op: "eq", value: "registration" }],
          timeout: { amount: 14, unit: "days" },
          correlate: { property: "serial", triggerProperty: "serial" },
          as: "registration",
        },
        next: { arrived: "discount", timedOut: "done" },
      },
      { id: "done", type: "flow.exit", data: { label: "Done" } },
    ],
    {
      entry: { mode: "once", perValueOf: "serial" },
      timezone: "Europe/Zurich",
      quietHours: { start: "21:00", end: "08:00", mode: "hold", channels: ["sms", "push"] },
    },
  ),
};
