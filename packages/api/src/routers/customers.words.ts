// issue 16: a run's trace in a marketer's words — step names as drawn on the canvas (the step's
// own label, else its kind of step), decisions as sentences, never raw JSON.
import { labelsOf } from "@postpath/engine";
import { registry, type Plan, type StepType } from "@postpath/journey";

/**
 * The name a step has on the canvas: its label, else the kind of step ("Send email"). The
 * published canvas document has every step's label (a trigger's too, which its plan config does
 * not keep); versions published before it was kept fall back to the plan's.
 */
export function stepNames(plan: unknown, document?: unknown): Map<string, string> {
  const drawn = labelsOf(document);
  const names = new Map<string, string>();
  const steps = (plan as Partial<Plan> | null)?.steps;
  if (!steps || typeof steps !== "object") return names;
  for (const [id, step] of Object.entries(steps)) {
    const label = (step.config as { label?: unknown } | null)?.label;
    const kind = (registry as Partial<Record<StepType, { label: string }>>)[step.type]?.label;
    names.set(
      id,
      drawn[id] ?? (typeof label === "string" && label.trim() ? label.trim() : (kind ?? "Step")),
    );
  }
  return names;
}

/** A run's status in words. */
export const RUN_STATUS_WORDS: Readonly<Record<string, string>> = {
  ACTIVE: "In progress",
  WAITING: "Waiting",
  COMPLETED: "Completed",
  EXITED: "Left early",
  FAILED: "Stopped by an error",
};

/** One value for a sentence: strings as they are, the rest compact. */
export function valueWords(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.map(valueWords).join(", ");
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}: ${valueWords(x)}`)
    .join(", ");
}

const CHANNEL_WORDS: Record<string, string> = {
  email: "email",
  sms: "SMS",
  push: "push notification",
  webhook: "webhook call",
  notify: "team notification",
  coupon: "coupon",
  purl: "personal link",
};

export function channelWords(channel: unknown): string {
  return typeof channel === "string" ? (CHANNEL_WORDS[channel] ?? channel) : "message";
}

function str(v: unknown): string | null {
  return typeof v === "string" && v ? v : null;
}

/**
 * A trace line's moment to come (`until`), as an ISO time the web app formats in the reader's
 * local time like every other time it shows — the sentence itself carries no clock time.
 */
export function untilOf(detail: unknown): string | null {
  const s = str((detail as Record<string, unknown> | null)?.until);
  if (!s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

const OUTCOME_WORDS: Record<string, string> = {
  sent: "sent",
  failed: "could not be sent",
  delivered: "delivered",
  bounced: "bounced",
  opened: "opened",
  clicked: "link clicked",
  complained: "marked as spam",
  unsubscribed: "unsubscribed with the provider's link",
  undelivered: "not delivered",
};
const CHANNEL_TITLES: Record<string, string> = {
  email: "Email",
  sms: "SMS",
  push: "Push notification",
};

/** Whether an event is one Postpath records itself about a message (`email_sent`, `sms_delivered`…). */
export function isMessageEvent(name: string, properties: unknown): boolean {
  const m = /^(email|sms|push)_([a-z_]+)$/.exec(name);
  const id = (properties as Record<string, unknown> | null)?.message_id;
  return !!m && typeof id === "string" && id.length > 0;
}

/**
 * A message event in words: "Email sent by Welcome · Gold welcome". `journey` and `step` are the
 * names of the journey and step that sent it (null when they are gone).
 */
export function messageEventWords(
  name: string,
  journey: string | null,
  step: string | null,
): string {
  const m = /^(email|sms|push)_([a-z_]+)$/.exec(name);
  const channel = CHANNEL_TITLES[m?.[1] ?? ""] ?? "Message";
  const outcome = m?.[2] ?? "";
  const what = OUTCOME_WORDS[outcome] ?? outcome.replace(/_/g, " ");
  const by = [journey, step].filter((x): x is string => !!x).join(" · ");
  if (!by) return `${channel} ${what}`;
  return outcome === "sent" ? `${channel} sent by ${by}` : `${channel} ${what} (from ${by})`;
}

/**
 * A trace line as a sentence. `name` is the step's name on the canvas; `nameOf` names other steps
 * (the step a branch leads to).
 */
export function traceWords(
  kind: string,
  detail: unknown,
  name: string | null,
  nameOf: (id: string) => string | null,
): string {
  const d = (detail && typeof detail === "object" ? detail : {}) as Record<string, unknown>;
  const step = name ? `“${name}”` : "the journey";
  const next = str(d.next) ? nameOf(d.next as string) : null;
  const then = next ? ` → “${next}”` : "";
  const message = str(d.message);
  switch (kind) {
    case "entered":
      return `Entered the journey at ${step}`;
    case "wait.scheduled":
      return `Waiting${str(d.duration) ? ` ${d.duration as string}` : ""}`;
    case "wait.elapsed":
    case "wait.passed":
      return `The wait was over${then}`;
    case "wait.dateMissing":
      return `The customer has no date to wait for; moved on${then}`;
    case "event.parked":
      return `Waiting for “${valueWords(d.event)}”`;
    case "event.arrived":
      return `“${valueWords(d.event)}” arrived${then}`;
    case "event.timedOut":
      return `“${valueWords(d.event)}” did not arrive in time${then}`;
    case "split.branch": {
      const branch = str(d.branch);
      const matched = str(d.matched);
      return `Took the “${matched ?? branch ?? "next"}” path${then}`;
    }
    case "send.requested":
      return `Prepared the ${channelWords(d.channel)}`;
    case "coupon.requested":
      return "Asked for a coupon code";
    case "purl.requested":
      return "Made a personal link";
    case "attributes.updated":
      return "Updated the customer's profile";
    case "attributes.failed":
      return `Could not update the profile${message ? `: ${message}` : ""}`;
    case "tags.updated":
      return "Updated the customer's tags";
    case "goal.reached":
    case "goal.converted":
    case "converted":
      return `Reached the goal${str(d.goal) ? ` “${d.goal as string}”` : ""}`;
    case "exit.reached":
      return "Reached the end of the journey";
    case "run.completed":
      return "Completed the journey";
    case "run.exited":
      return `Left the journey${str(d.reason) ? `: ${d.reason as string}` : ""}`;
    case "quietHours.held":
      return "Held for quiet hours";
    case "quietHours.skipped":
      return "Not sent: quiet hours";
    case "frequencyCap.delayed":
      return "Delayed by a sending limit";
    case "frequencyCap.skipped":
      return "Not sent: the customer already had enough messages";
    case "rateLimit.delayed":
      return "Delayed: the workspace's sending rate was reached";
    case "message.sent":
      return `Sent the ${channelWords(d.channel)}`;
    case "message.skipped":
      return message ?? `Not sent${str(d.reason) ? `: ${d.reason as string}` : ""}`;
    case "message.failed":
      // issue 17: a delivery report (the provider accepted it, then could not deliver it).
      if (str(d.reportedAt))
        return `The provider could not deliver the ${channelWords(d.channel)}${str(d.reason) ? `: ${d.reason as string}` : ""}`;
      return `Sending failed${str(d.error) ? `: ${d.error as string}` : ""}`;
    case "message.delivered":
      return `The ${channelWords(d.channel)} was delivered`;
    case "message.bounced":
      return `The ${channelWords(d.channel)} bounced${str(d.reason) ? `: ${d.reason as string}` : ""}`;
    case "message.complained":
      return `Marked the ${channelWords(d.channel)} as spam`;
    case "message.unsubscribed":
      return `Unsubscribed with the email provider's link`;
    case "message.opened":
      return `Opened the ${channelWords(d.channel)}`;
    case "message.clicked":
      return `Clicked a link in the ${channelWords(d.channel)}${str(d.url) ? ` (${d.url as string})` : ""}`;
    case "message.retry":
      return `Sending failed; trying again${str(d.error) ? ` (${d.error as string})` : ""}`;
    case "message.resending":
      return "Sending again after an interruption";
    case "message.replayed":
      return "Sent again by a team member";
    case "message.dismissed":
      return "A team member dismissed the failed message";
    case "page.visited":
      return "Opened their personal page";
    case "form.submitted":
      return str(d.text) ?? `Sent the form${str(d.formId) ? ` “${d.formId as string}”` : ""}`;
    case "send.succeeded":
      return "Handed to the provider";
    case "coupon.succeeded": {
      const out = (d.output ?? {}) as Record<string, unknown>;
      return `Issued the coupon${str(out.code) ? ` ${out.code as string}` : ""}`;
    }
    case "purl.succeeded":
      return "Made their personal link and QR code";
    case "send.failed":
    case "coupon.failed":
    case "purl.failed":
      return `Failed${str(d.error) ? `: ${d.error as string}` : ""}`;
    case "entry.refused":
      return `Not entered${str(d.why) ? `: ${d.why as string}` : ""}`;
    case "error":
      return `Stopped by an error${str(d.reason) ? `: ${d.reason as string}` : ""}`;
    default: {
      // Lines that carry their own sentence (landing pages, consent) say it.
      if (str(d.text)) return d.text as string;
      const words = kind
        .replace(/[._]/g, " ")
        .replace(/([a-z])([A-Z])/g, "$1 $2")
        .toLowerCase();
      const rest = Object.entries(d)
        .filter(([k, v]) => k !== "messageId" && k !== "next" && v !== null && v !== undefined)
        .map(([k, v]) => `${k}: ${valueWords(v)}`)
        .join("; ");
      return `${words.charAt(0).toUpperCase()}${words.slice(1)}${rest ? ` (${rest})` : ""}`;
    }
  }
}
