// Time without a date library: durations, calendar arithmetic and local wall-clock time in an
// IANA time zone through Intl.DateTimeFormat. Everything here is pure.
import { z } from "zod";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DurationUnit = z.enum(["seconds", "minutes", "hours", "days", "weeks"]);
export type DurationUnit = z.infer<typeof DurationUnit>;

const UNIT_MS: Record<DurationUnit, number> = {
  seconds: SECOND,
  minutes: MINUTE,
  hours: HOUR,
  days: DAY,
  weeks: 7 * DAY,
};

/** The longest duration a journey may configure (waits, timeouts, cool-downs, expiries). */
export const MAX_DURATION_YEARS = 5;
const YEAR = 365 * DAY;

/**
 * An amount of a duration unit: finite, not negative, and at most `maxYears` in seconds (the
 * largest any unit can reach; the object's check then bounds amount × unit).
 */
export function durationAmount(what: string, maxYears = MAX_DURATION_YEARS): z.ZodNumber {
  return z
    .number({ error: `Enter ${what}.` })
    .finite()
    .nonnegative({ error: `${capitalize(what)} can't be negative.` })
    .max((maxYears * YEAR) / SECOND, { error: tooLong(what, maxYears) });
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function tooLong(what: string, years: number): string {
  return `${capitalize(what)} can be at most ${years} year${years === 1 ? "" : "s"}.`;
}

/**
 * A duration bounded to `maxYears` (5 by default), with errors that say what it is, e.g.
 * `boundedDuration("a cool-down")` → "A cool-down can be at most 5 years." Durations past the
 * bound would put a wait beyond the dates a computer can represent; none makes sense to a marketer.
 */
export function boundedDuration(what: string, maxYears = MAX_DURATION_YEARS) {
  return z
    .object({ amount: durationAmount(what, maxYears), unit: DurationUnit })
    .superRefine(withinMaxDuration(what, maxYears));
}

/**
 * Adds the bound on amount × unit to a schema with `amount` and `unit` (a wait step's own
 * fields). An amount over `durationAmount`'s own maximum is already reported there.
 */
export function withinMaxDuration(what: string, maxYears = MAX_DURATION_YEARS) {
  const max = maxYears * YEAR;
  return (d: { amount: number; unit: DurationUnit }, ctx: z.RefinementCtx): void => {
    if (d.amount * UNIT_MS[d.unit] > max && d.amount <= max / SECOND)
      ctx.addIssue({ code: "custom", path: ["amount"], message: tooLong(what, maxYears) });
  };
}

export const Duration = boundedDuration("an amount");
export type Duration = z.infer<typeof Duration>;

export function durationMs(d: Duration): number {
  return Math.round(d.amount * UNIT_MS[d.unit]);
}

export function describeDuration(d: Duration): string {
  const unit = d.amount === 1 ? d.unit.slice(0, -1) : d.unit;
  return `${d.amount} ${unit}`;
}

/** A calendar offset (days follow the calendar, so a day is not always 24 h across DST). */
export const CalendarOffsetUnit = z.enum(["days", "weeks", "months", "years"]);
/** Offsets reach at most this far before or after a date. */
export const MAX_OFFSET_YEARS = 100;
const MAX_OFFSET_AMOUNT: Record<z.infer<typeof CalendarOffsetUnit>, number> = {
  days: MAX_OFFSET_YEARS * 366,
  weeks: Math.ceil((MAX_OFFSET_YEARS * 366) / 7),
  months: MAX_OFFSET_YEARS * 12,
  years: MAX_OFFSET_YEARS,
};
const OFFSET_TOO_FAR = `An offset can be at most ${MAX_OFFSET_YEARS} years before or after the date.`;
export const CalendarOffset = z
  .object({
    amount: z
      .number({ error: "Enter the offset (0 for the date itself)." })
      .int({ error: "Use a whole number." })
      .min(-MAX_OFFSET_AMOUNT.days, { error: OFFSET_TOO_FAR })
      .max(MAX_OFFSET_AMOUNT.days, { error: OFFSET_TOO_FAR }),
    unit: CalendarOffsetUnit,
  })
  .superRefine((o, ctx) => {
    const amount = Math.abs(o.amount);
    if (amount > MAX_OFFSET_AMOUNT[o.unit] && amount <= MAX_OFFSET_AMOUNT.days)
      ctx.addIssue({ code: "custom", path: ["amount"], message: OFFSET_TOO_FAR });
  });
export type CalendarOffset = z.infer<typeof CalendarOffset>;

export const TimeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "Use a 24-hour time such as 09:30." });
export type TimeOfDay = z.infer<typeof TimeOfDay>;

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export const Weekday = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof Weekday>;

export function parseTimeOfDay(time: string): { hour: number; minute: number } {
  const [h, m] = time.split(":");
  return { hour: Number(h), minute: Number(m) };
}

export type LocalDate = { year: number; month: number; day: number };
export type LocalDateTime = LocalDate & { hour: number; minute: number; second: number };

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const validity = new Map<string, boolean>();
export function isValidTimeZone(timeZone: string): boolean {
  let ok = validity.get(timeZone);
  if (ok === undefined) {
    try {
      formatter(timeZone);
      ok = true;
    } catch {
      ok = false;
    }
    validity.set(timeZone, ok);
  }
  return ok;
}

/** The customer's zone when it is a real IANA zone, else the journey's default, else UTC. */
export function resolveTimeZone(preferred: string | null | undefined, fallback: string): string {
  if (preferred && isValidTimeZone(preferred)) return preferred;
  if (isValidTimeZone(fallback)) return fallback;
  return "UTC";
}

const WEEKDAY_INDEX: Record<string, number> = {
  Sun: 0,
  Mon: 1,
  Tue: 2,
  Wed: 3,
  Thu: 4,
  Fri: 5,
  Sat: 6,
};

/** Wall-clock time at `epoch` in `timeZone`; weekday 0 = Sunday. */
export function localParts(epoch: number, timeZone: string): LocalDateTime & { weekday: number } {
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatter(timeZone).formatToParts(new Date(epoch))) {
    if (p.type === "weekday") out.weekday = WEEKDAY_INDEX[p.value] ?? 0;
    else if (p.type in out) out[p.type as keyof typeof out] = Number(p.value);
  }
  return out;
}

function utcOf(l: LocalDateTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
}

/** Offset of `timeZone` from UTC at `epoch`, in ms (positive east of Greenwich). */
export function zoneOffset(epoch: number, timeZone: string): number {
  const whole = Math.floor(epoch / SECOND) * SECOND;
  return utcOf(localParts(whole, timeZone)) - whole;
}

function sameWallClock(a: LocalDateTime, b: LocalDateTime): boolean {
  return (
    a.year === b.year &&
    a.month === b.month &&
    a.day === b.day &&
    a.hour === b.hour &&
    a.minute === b.minute &&
    a.second === b.second
  );
}

/**
 * The instant a wall-clock time happens in `timeZone`. A time that happens twice (DST ends)
 * gives the earlier instant; a time that never happens (DST starts) is moved forward by the gap.
 */
export function zonedToEpoch(local: LocalDate & Partial<LocalDateTime>, timeZone: string): number {
  const l: LocalDateTime = { hour: 0, minute: 0, second: 0, ...local };
  const guess = utcOf(l);
  const before = guess - zoneOffset(guess - DAY, timeZone);
  const after = guess - zoneOffset(guess + DAY, timeZone);
  const matches = [before, after].filter((t) => sameWallClock(localParts(t, timeZone), l));
  if (matches.length > 0) return Math.min(...matches);
  return before;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Calendar arithmetic; the 31st plus a month, or 29 February plus a year, clamp to the month's end. */
export function addCalendar(date: LocalDate, offset: CalendarOffset): LocalDate {
  switch (offset.unit) {
    case "days":
    case "weeks": {
      const days = offset.unit === "weeks" ? offset.amount * 7 : offset.amount;
      const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    }
    case "months":
    case "years": {
      const months = offset.unit === "years" ? offset.amount * 12 : offset.amount;
      const index = date.year * 12 + (date.month - 1) + months;
      const year = Math.floor(index / 12);
      const month = (index % 12) + 1;
      return { year, month, day: Math.min(date.day, daysInMonth(year, month)) };
    }
    default:
      return assertNever(offset.unit);
  }
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;

/**
 * Reads a date stored on a customer or event: a date-only string ("2024-03-15") is that calendar
 * day, a date-time without offset is wall-clock time in `timeZone`, an ISO string with an offset or
 * a number (epoch ms) is an instant. Returns the local date/time in `timeZone`, or null.
 */
export function readLocalDateTime(value: unknown, timeZone: string): LocalDateTime | null {
  const read = readAnyLocalDateTime(value, timeZone);
  return read && read.year >= MIN_YEAR && read.year <= MAX_YEAR ? read : null;
}

/**
 * Dates are read only in years 1000–9999: with an offset of up to 100 years they stay where
 * `Date` represents them exactly (it reads years below 100 as 19xx and ends in 275760).
 */
export const MIN_YEAR = 1000;
export const MAX_YEAR = 9999;
/** The largest epoch (ms) a `Date` can hold. */
const MAX_EPOCH = 8.64e15;

function readAnyLocalDateTime(value: unknown, timeZone: string): LocalDateTime | null {
  if (typeof value === "number") return epochInRange(value) ? localParts(value, timeZone) : null;
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  const dateOnly = DATE_ONLY.exec(trimmed);
  if (dateOnly) {
    const date = {
      year: Number(dateOnly[1]),
      month: Number(dateOnly[2]),
      day: Number(dateOnly[3]),
    };
    return validDate(date) ? { ...date, hour: 0, minute: 0, second: 0 } : null;
  }
  const local = LOCAL_DATE_TIME.exec(trimmed);
  if (local) {
    const l = {
      year: Number(local[1]),
      month: Number(local[2]),
      day: Number(local[3]),
      hour: Number(local[4]),
      minute: Number(local[5]),
      second: Number(local[6] ?? 0),
    };
    return validDate(l) && l.hour < 24 && l.minute < 60 && l.second < 60 ? l : null;
  }
  const epoch = Date.parse(trimmed);
  return epochInRange(epoch) ? localParts(epoch, timeZone) : null;
}

/** Whether an instant is a real date in years 1000–9999 (UTC); false for NaN and ±Infinity. */
function epochInRange(epoch: number): boolean {
  if (!(Math.abs(epoch) <= MAX_EPOCH)) return false;
  const year = new Date(epoch).getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR;
}

/** Like readLocalDateTime but returns the instant (also only in years 1000–9999). */
export function readInstant(value: unknown, timeZone: string): number | null {
  if (
    typeof value === "number" ||
    (typeof value === "string" &&
      !DATE_ONLY.test(value.trim()) &&
      !LOCAL_DATE_TIME.test(value.trim()))
  ) {
    const epoch = typeof value === "number" ? value : Date.parse(value);
    return epochInRange(epoch) ? epoch : null;
  }
  const local = readLocalDateTime(value, timeZone);
  return local ? zonedToEpoch(local, timeZone) : null;
}

function validDate(d: LocalDate): boolean {
  return d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= daysInMonth(d.year, d.month);
}

/**
 * The earliest instant at or after `now` when the wall clock in `timeZone` shows `time` on one of
 * `weekdays` (all days when empty).
 */
export function nextLocalTime(
  now: number,
  timeZone: string,
  time: string,
  weekdays: readonly Weekday[] = [],
): number {
  const { hour, minute } = parseTimeOfDay(time);
  const allowed = new Set(weekdays.map((w) => WEEKDAYS.indexOf(w)));
  const today = localParts(now, timeZone);
  for (let i = 0; i <= 8; i++) {
    const date = addCalendar(today, { amount: i, unit: "days" });
    const at = zonedToEpoch({ ...date, hour, minute }, timeZone);
    if (at < now) continue;
    const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
    if (allowed.size === 0 || allowed.has(weekday)) return at;
  }
  // Unreachable: within 8 days every weekday occurs once more.
  return now;
}

export function formatInstant(epoch: number): string {
  return new Date(epoch).toISOString();
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
