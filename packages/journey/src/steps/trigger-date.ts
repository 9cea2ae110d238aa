// Trigger: a date on the customer (registered_at + 1 year, a birthday every year), at a chosen
// local time in the customer's time zone. The engine's scheduler asks `nextDateTriggerAt` when a
// customer is due and enters them then.
import { z } from "zod";
import { getPath } from "../conditions.ts";
import type { CustomerSnapshot } from "../state.ts";
import {
  CalendarOffset,
  TimeOfDay,
  addCalendar,
  parseTimeOfDay,
  readLocalDateTime,
  zonedToEpoch,
} from "../time.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const TriggerDateConfig = z.object({
  /** The customer attribute holding the date (ISO date, ISO date-time or epoch ms). */
  attribute: z.string().trim().min(1, { error: "Choose the date attribute." }),
  offset: CalendarOffset.default({ amount: 0, unit: "days" }),
  /** Local time of day in the customer's time zone. */
  at: TimeOfDay.default("09:00"),
  /** once: a single date; yearly: every anniversary after the stored date. */
  recurrence: z.enum(["once", "yearly"]).default("once"),
});
export type TriggerDateConfig = z.infer<typeof TriggerDateConfig>;

/** The next instant at or after `after` when this trigger fires for `customer`, or null. */
export function nextDateTriggerAt(
  config: TriggerDateConfig,
  customer: CustomerSnapshot,
  timeZone: string,
  after: number,
): number | null {
  const base = readLocalDateTime(getPath(customer.attributes, config.attribute), timeZone);
  if (!base) return null;
  const time = parseTimeOfDay(config.at);
  const at = (date: { year: number; month: number; day: number }): number =>
    zonedToEpoch({ ...addCalendar(date, config.offset), ...time }, timeZone);
  if (config.recurrence === "once") {
    const t = at(base);
    return t >= after ? t : null;
  }
  const afterYear = new Date(after).getUTCFullYear();
  for (
    let year = Math.max(base.year + 1, afterYear - 1);
    year <= Math.max(base.year + 1, afterYear + 2);
    year++
  ) {
    const anniversary = addCalendar(
      { year: base.year, month: base.month, day: base.day },
      { amount: year - base.year, unit: "years" },
    );
    const t = at(anniversary);
    if (t >= after) return t;
  }
  return null;
}

export default defineStep<TriggerDateConfig>({
  type: "trigger.date",
  family: "trigger",
  label: "Date trigger",
  schema: TriggerDateConfig,
  defaults: { attribute: "", offset: { amount: 0, unit: "days" }, at: "09:00", recurrence: "once" },
  branches: () => NEXT_ONLY,
  triggerInfo: () => ({ type: "trigger.date", event: null, properties: [] }),
  matches: () => false,
  enter: (env) => ({
    kind: "go",
    branch: "next",
    decision: "entered",
    detail: {
      trigger: "date",
      attribute: env.config.attribute,
      value: getPath(env.state.customer.attributes, env.config.attribute) ?? null,
    },
  }),
});
