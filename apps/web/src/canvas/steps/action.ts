import type { StepTypeOf } from "../draft.ts";
import { list, obj, str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, show } from "./view.ts";

function strings(value: unknown[]): string[] {
  return value.filter((v): v is string => typeof v === "string" && v.trim() !== "");
}

/** "a, b and 2 more" */
function firstOf(items: string[], shown = 2): string {
  const head = items.slice(0, shown).join(", ");
  return items.length > shown ? `${head} and ${items.length - shown} more` : head;
}

export const actionViews: Record<StepTypeOf<"action">, StepView> = {
  "action.email": {
    summary: (c) => {
      const subject = str(c, "subject");
      return subject ? `Email: ${subject}` : NOT_CONFIGURED;
    },
  },
  "action.sms": {
    summary: (c) => {
      const body = str(c, "body");
      return body ? `SMS: ${body}` : NOT_CONFIGURED;
    },
  },
  "action.push": {
    summary: (c) => {
      const title = str(c, "title");
      return title ? `Push: ${title}` : NOT_CONFIGURED;
    },
  },
  "action.webhook": {
    summary: (c) => {
      const url = str(c, "url");
      return url ? `${str(c, "method") ?? "POST"} ${url}` : NOT_CONFIGURED;
    },
  },
  "action.notify": {
    summary: (c) => {
      const message = str(c, "message");
      if (!message) return NOT_CONFIGURED;
      const to = str(c, "via") === "slack" ? "Slack" : str(c, "to");
      return to ? `Notify ${to}: ${message}` : `Notify: ${message}`;
    },
  },
  "action.attribute": {
    summary: (c) => {
      const set = Object.entries(obj(c, "set") ?? {}).map(
        ([key, value]) => `${key} = ${show(value)}`,
      );
      const unset = strings(list(c, "unset"));
      const parts = [
        ...(set.length > 0 ? [`Set ${firstOf(set)}`] : []),
        ...(unset.length > 0 ? [`unset ${firstOf(unset)}`] : []),
      ];
      return parts.length === 0 ? NOT_CONFIGURED : parts.join("; ");
    },
  },
  "action.tag": {
    summary: (c) => {
      const add = strings(list(c, "add"));
      const remove = strings(list(c, "remove"));
      const parts = [
        ...(add.length > 0 ? [`Add ${firstOf(add)}`] : []),
        ...(remove.length > 0 ? [`remove ${firstOf(remove)}`] : []),
      ];
      return parts.length === 0 ? NOT_CONFIGURED : parts.join("; ");
    },
  },
  "action.coupon": {
    summary: (c) => {
      const source = obj(c, "source") ?? {};
      const from = str(source, "kind") === "pool" ? str(source, "pool") : str(source, "pattern");
      const value = obj(c, "value") ?? {};
      const amount = str(value, "amount");
      const kind = str(value, "kind");
      const currency = str(value, "currency");
      const off =
        kind === "freeShipping"
          ? "free shipping"
          : amount && kind === "percent"
            ? `${amount}% off`
            : amount && kind === "amount"
              ? `${amount}${currency ? ` ${currency}` : ""} off`
              : undefined;
      if (!from && !off) return NOT_CONFIGURED;
      return `Coupon: ${[off, from ? `(${from})` : undefined].filter(Boolean).join(" ")}`;
    },
  },
  "action.purl": {
    summary: (c) => {
      const page = str(c, "page");
      return page ? `Page: ${page}` : NOT_CONFIGURED;
    },
  },
};
