// Time without a date library: durations, calendar arithmetic and local wall-clock time in an
// IANA time zone through Intl.DateTimeFormat. Everything here is pure.
import { z } from "zod";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DurationUnit = z.enum(["seconds", "minutes", "hours", "days", "weeks"]);
export type DurationUnit = z.infer<typeof DurationUnit>;

export const Duration = z.object({
  amount: z.number().finite().nonnegative({ error: "The amount can't be negative." }),
  unit: DurationUnit,
});
export type Duration = z.infer<typeof Duration>;

const UNIT_MS: Record<DurationUnit, number> = {
  seconds: SECOND,
  minutes: MINUTE,
  hours: HOUR,
  days: DAY,
  weeks: 7 * DAY,
};

export function durationMs(d: Duration): number {
  return Math.round(d.amount * UNIT_MS[d.unit]);
}

export function describeDuration(d: Duration): string {
  const unit = d.amount === 1 ? d.unit.slice(0, -1) : d.unit;
  return `${d.amount} ${unit}`;
}

/** A calendar offset (days follow the calendar, so a day is not always 24 h across DST). */
export const CalendarOffset = z.object({
  amount: z.number().int({ error: "Use a whole number." }),
  unit: z.enum(["days", "weeks", "months", "years"]),
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
  if (typeof value === "number" && Number.isFinite(value)) return localParts(value, timeZone);
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
  return Number.isNaN(epoch) ? null : localParts(epoch, timeZone);
}

/** Like readLocalDateTime but returns the instant. */
export function readInstant(value: unknown, timeZone: string): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (
    typeof value === "string" &&
    !DATE_ONLY.test(value.trim()) &&
    !LOCAL_DATE_TIME.test(value.trim())
  ) {
    const epoch = Date.parse(value);
    return Number.isNaN(epoch) ? null : epoch;
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
