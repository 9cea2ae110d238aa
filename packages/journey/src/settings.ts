// Journey-wide settings: entry rules, exit criteria, conversion goal, quiet hours, frequency cap
// and default time zone — plus the pure helpers the engine applies them with.
import { z } from "zod";
import { Condition, getPath } from "./conditions.ts";
import {
  TimeOfDay,
  boundedDuration,
  durationMs,
  isValidTimeZone,
  localParts,
  nextLocalTime,
  parseTimeOfDay,
} from "./time.ts";

export const MessageChannel = z.enum(["email", "sms", "push"]);
export type MessageChannel = z.infer<typeof MessageChannel>;

export const EventCriterion = z.object({
  event: z.string().trim().min(1, { error: "Choose an event." }),
  /** Conditions on the event's properties; all must hold. */
  filters: z.array(Condition).default([]),
});
export type EventCriterion = z.infer<typeof EventCriterion>;

/** Most entries per customer a journey may allow (beyond that, leave the cap empty). */
export const MAX_ENTRIES = 1000;
const ENTRIES = `Entries per customer: a whole number from 1 to ${MAX_ENTRIES.toLocaleString("en-US")}, or leave it empty for no limit.`;

/** Most messages a frequency cap may allow per period, and its longest period. */
export const MAX_CAP_MESSAGES = 1000;
export const MAX_CAP_PERIOD_YEARS = 1;
const CAP_MESSAGES = `Messages per period: a whole number from 1 to ${MAX_CAP_MESSAGES.toLocaleString("en-US")}.`;

/** Longest trigger-property value entries are counted by (a serial, an order or contract id). */
export const MAX_ENTRY_KEY_LENGTH = 200;
const PER_VALUE_OF =
  "Name the trigger event's property to count entries by, e.g. serial or product.serial.";
/** A property path: names of letters, digits, _ or - separated by dots (`serial`, `machine.serial`). */
const PROPERTY_PATH = /^[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*$/;

export const EntryRules = z
  .object({
    /** once: a customer enters at most once ever; afterExit: again once the previous run ended;
     * afterCooldown: again once `cooldown` has passed since the previous entry (and it ended). */
    mode: z.enum(["once", "afterExit", "afterCooldown"]).default("once"),
    cooldown: boundedDuration("a cool-down").nullable().default(null),
    /** Lifetime cap on entries per customer (null: no cap beyond `mode`). */
    maxEntries: z
      .number()
      .int({ error: ENTRIES })
      .min(1, { error: ENTRIES })
      .max(MAX_ENTRIES, { error: ENTRIES })
      .nullable()
      .default(null),
    /** The rules above apply per customer and value of this trigger property (e.g. `serial`:
     * a customer who bought two machines enters once for each); null: per customer. */
    perValueOf: z
      .string({ error: PER_VALUE_OF })
      .trim()
      .min(1, { error: PER_VALUE_OF, abort: true })
      .max(100, { error: "Keep the property name under 100 characters." })
      .regex(PROPERTY_PATH, { error: PER_VALUE_OF })
      .nullable()
      .default(null)
      .meta({ title: "Count entries separately for each value of" }),
  })
  .superRefine((r, ctx) => {
    if (r.mode === "afterCooldown" && !r.cooldown) {
      ctx.addIssue({
        code: "custom",
        path: ["cooldown"],
        message: "Set how long a customer waits before entering again.",
      });
    }
  });
export type EntryRules = z.infer<typeof EntryRules>;

export const GoalSetting = z.object({
  name: z.string().trim().min(1).default("conversion"),
  event: z.string().trim().min(1, { error: "Choose the event that counts as a conversion." }),
  filters: z.array(Condition).default([]),
  /** End the run when the customer converts. */
  exitOnConversion: z.boolean().default(false),
});
export type GoalSetting = z.infer<typeof GoalSetting>;

export const QuietHours = z.object({
  /** Local start of the quiet period, e.g. 21:00; it may wrap past midnight. */
  start: TimeOfDay,
  /** Local end, e.g. 08:00. */
  end: TimeOfDay,
  /** hold: send when quiet hours end; skip: don't send, continue the journey. */
  mode: z.enum(["hold", "skip"]).default("hold"),
  channels: z.array(MessageChannel).default(["email", "sms", "push"]),
});
export type QuietHours = z.infer<typeof QuietHours>;

export const FrequencyCap = z.object({
  /** At most `max` messages per channel per `period`, counted across all journeys. */
  max: z
    .number({ error: CAP_MESSAGES })
    .int({ error: CAP_MESSAGES })
    .min(1, { error: CAP_MESSAGES })
    .max(MAX_CAP_MESSAGES, { error: CAP_MESSAGES }),
  period: boundedDuration("a frequency cap's period", MAX_CAP_PERIOD_YEARS).refine(
    (d) => d.amount > 0,
    { error: "Set the period the cap counts messages over.", path: ["amount"] },
  ),
  channels: z.array(MessageChannel).default(["email", "sms", "push"]),
  /** skip: a capped message is not sent and the journey continues; delay: it is sent once the
   * oldest counted message leaves the period. */
  onCap: z.enum(["skip", "delay"]).default("skip"),
});
export type FrequencyCap = z.infer<typeof FrequencyCap>;

/** issue 17: when a conversion counts for the journey (see `attributionRule` in the engine). */
export const AttributionSetting = z.object({
  /** message: within the window after the last message the journey sent; entry: after entering. */
  basis: z
    .enum(["message", "entry"])
    .default("message")
    .meta({
      title: "Count a conversion within the window after",
      enumNames: ["The last message the journey sent", "Entering the journey"],
    }),
  windowDays: z
    .number({ error: "Attribution window: a whole number of days from 1 to 90." })
    .int({ error: "Attribution window: a whole number of days from 1 to 90." })
    .min(1, { error: "Attribution window: a whole number of days from 1 to 90." })
    .max(90, { error: "Attribution window: a whole number of days from 1 to 90." })
    .default(5)
    .meta({ title: "Attribution window (days)" }),
  /** The event that counts as a conversion; null: the journey's goal (else the purchase event). */
  event: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .nullable()
    .default(null)
    .meta({ title: "Event that counts as a conversion (empty: the goal's)" }),
});
export type AttributionSetting = z.infer<typeof AttributionSetting>;

export const JourneySettings = z.object({
  entry: EntryRules.prefault({}),
  /** An event matching any of these ends the run wherever it is. */
  exitCriteria: z.array(EventCriterion).default([]),
  goal: GoalSetting.nullable().default(null),
  quietHours: QuietHours.nullable().default(null),
  frequencyCap: FrequencyCap.nullable().default(null),
  /** issue 17: the attribution window (absent: 5 days after a message, the journey's goal). */
  attribution: AttributionSetting.optional().meta({
    title: "Conversions and revenue count for this journey",
  }),
  /** Used when the customer has no (valid) time zone. */
  timezone: z
    .string()
    .default("UTC")
    .refine(isValidTimeZone, { error: "Choose a time zone from the list (e.g. Europe/Berlin)." }),
});
export type JourneySettings = z.infer<typeof JourneySettings>;
export type JourneySettingsInput = z.input<typeof JourneySettings>;

// ---------------------------------------------------------------------------------------------
// Quiet hours

function minutesOfDay(time: string): number {
  const { hour, minute } = parseTimeOfDay(time);
  return hour * 60 + minute;
}

/** Whether `now` falls inside quiet hours in `timeZone` (start inclusive, end exclusive). */
export function isQuietTime(quietHours: QuietHours | null, timeZone: string, now: number): boolean {
  if (!quietHours) return false;
  const start = minutesOfDay(quietHours.start);
  const end = minutesOfDay(quietHours.end);
  if (start === end) return false;
  const l = localParts(now, timeZone);
  const m = l.hour * 60 + l.minute;
  return start < end ? m >= start && m < end : m >= start || m < end;
}

/** `now` when sending is allowed, else the instant quiet hours end in `timeZone`. */
export function nextAllowedSendTime(
  quietHours: QuietHours | null,
  timeZone: string,
  now: number,
): number {
  if (!quietHours || !isQuietTime(quietHours, timeZone, now)) return now;
  return nextLocalTime(now, timeZone, quietHours.end);
}

export function quietHoursApply(
  quietHours: QuietHours | null,
  channel: string,
): quietHours is QuietHours {
  return quietHours !== null && (quietHours.channels as readonly string[]).includes(channel);
}

// ---------------------------------------------------------------------------------------------
// Frequency cap (the engine counts sends across journeys; this decides)

/** Whether one more message on `channel` fits under the cap, given when earlier ones were sent. */
export function frequencyCapAllows(
  cap: FrequencyCap | null,
  channel: string,
  sentAt: readonly number[],
  now: number,
): boolean {
  if (!cap || !(cap.channels as readonly string[]).includes(channel)) return true;
  const since = now - durationMs(cap.period);
  return sentAt.filter((t) => t > since && t <= now).length < cap.max;
}

/**
 * When one more message on `channel` fits under the cap again: `now` if it fits already, else
 * the instant enough of the counted messages (`sentAt`) have left the period.
 */
export function frequencyCapReleaseAt(
  cap: FrequencyCap | null,
  channel: string,
  sentAt: readonly number[],
  now: number,
): number {
  if (frequencyCapAllows(cap, channel, sentAt, now) || !cap) return now;
  const period = durationMs(cap.period);
  const inWindow = sentAt.filter((t) => t > now - period && t <= now).sort((a, b) => a - b);
  // With n ≥ max counted, the (n - max)-th oldest leaving the period brings the count to max - 1.
  const leaving = inWindow[inWindow.length - cap.max] ?? now;
  return leaving + period;
}

// ---------------------------------------------------------------------------------------------
// Entry rules

export type EntryHistory = {
  /** How many times the customer entered this journey before. */
  entries: number;
  /** Whether a run of this journey is active for the customer right now. */
  active: boolean;
  lastEnteredAt: number | null;
};

export type EntryDecision =
  | { ok: true }
  | {
      ok: false;
      reason: "activeRun" | "enteredBefore" | "maxEntries" | "coolingDown";
      retryAt?: number;
    };

/**
 * What the entry rules count by for one trigger: "" when they count per customer (no
 * `perValueOf`), else the trigger property's value as text (trimmed). A trigger without the
 * property, with an empty one, or with a list or object there cannot enter; `detail` says why in
 * a marketer's words.
 */
export type EntryKey =
  { ok: true; key: string } | { ok: false; reason: "noEntryValue"; detail: string };

export function entryKeyOf(
  rules: Pick<EntryRules, "perValueOf">,
  properties: Record<string, unknown> | null,
): EntryKey {
  const path = rules.perValueOf ?? null;
  if (path === null) return { ok: true, key: "" };
  const refuse = (why: string): EntryKey => ({
    ok: false,
    reason: "noEntryValue",
    detail: `entry rule: counts entries per ${path}, and ${why}`,
  });
  const value = properties === null ? undefined : getPath(properties, path);
  if (value === undefined || value === null) return refuse(`the trigger has no ${path}`);
  let key: string;
  if (typeof value === "string") key = value.trim();
  else if (typeof value === "number" && Number.isFinite(value)) key = String(value);
  else if (typeof value === "boolean") key = String(value);
  else return refuse(`the trigger's ${path} is not a single value`);
  if (key === "") return refuse(`the trigger's ${path} is empty`);
  if (key.length > MAX_ENTRY_KEY_LENGTH)
    return refuse(`the trigger's ${path} is longer than ${MAX_ENTRY_KEY_LENGTH} characters`);
  return { ok: true, key };
}

/**
 * Whether a customer may enter (again). A customer never has two active runs of one journey —
 * per value of `perValueOf` when set: `history` is then the customer's runs with this value.
 */
export function entryDecision(
  rules: EntryRules,
  history: EntryHistory,
  now: number,
): EntryDecision {
  if (history.active) return { ok: false, reason: "activeRun" };
  if (rules.maxEntries !== null && history.entries >= rules.maxEntries)
    return { ok: false, reason: "maxEntries" };
  if (history.entries === 0) return { ok: true };
  switch (rules.mode) {
    case "once":
      return { ok: false, reason: "enteredBefore" };
    case "afterExit":
      return { ok: true };
    case "afterCooldown": {
      const cooldown = rules.cooldown ? durationMs(rules.cooldown) : 0;
      const retryAt = (history.lastEnteredAt ?? 0) + cooldown;
      return now >= retryAt ? { ok: true } : { ok: false, reason: "coolingDown", retryAt };
    }
    default: {
      const never: never = rules.mode;
      return never;
    }
  }
}
