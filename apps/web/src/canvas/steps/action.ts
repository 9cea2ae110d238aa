import type { StepTypeOf } from "../draft.ts";
import { list, str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, show, singleOutput } from "./view.ts";

export const actionViews: Record<StepTypeOf<"action">, StepView> = {
  "action.email": {
    label: "Email",
    summary: (c) => {
      const subject = str(c, "subject", "template", "templateId");
      return subject ? `Email: ${subject}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "action.sms": {
    label: "SMS",
    summary: (c) => {
      const body = str(c, "body", "text", "message");
      return body ? `SMS: ${body}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "action.push": {
    label: "Push",
    summary: (c) => {
      const title = str(c, "title", "body");
      return title ? `Push: ${title}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "action.webhook": {
    label: "Webhook",
    summary: (c) => {
      const url = str(c, "url");
      return url ? `Webhook: ${str(c, "method") ?? "POST"} ${url}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "action.notify": {
    label: "Notify team",
    summary: (c) => {
      const message = str(c, "message", "text", "body");
      const to = str(c, "to", "channel", "recipient");
      if (message) return `Notify: ${message}`;
      return to ? `Notify ${to}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "action.attribute": {
    label: "Update attribute",
    summary: (c) => {
      const key = str(c, "attribute", "property", "key");
      if (!key) return NOT_CONFIGURED;
      return "value" in c ? `Set ${key} = ${show(c.value)}` : `Set ${key}`;
    },
    branches: singleOutput,
  },
  "action.tag": {
    label: "Tag",
    summary: (c) => {
      const tags = [str(c, "tag"), ...list(c, "tags").filter((t): t is string => typeof t === "string")].filter(
        (t): t is string => t !== undefined,
      );
      if (tags.length === 0) return NOT_CONFIGURED;
      const verb = str(c, "action", "op", "mode") === "remove" ? "Remove tag" : "Add tag";
      return `${verb}: ${tags.join(", ")}`;
    },
    branches: singleOutput,
  },
  "action.coupon": {
    label: "Coupon",
    summary: (c) => {
      const coupon = str(c, "code", "pool", "prefix", "discount");
      return coupon ? `Coupon: ${coupon}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "action.purl": {
    label: "Personal URL",
    summary: (c) => {
      const page = str(c, "page", "landingPage", "slug", "url");
      return page ? `PURL: ${page}` : "PURL + QR code";
    },
    branches: singleOutput,
  },
};
