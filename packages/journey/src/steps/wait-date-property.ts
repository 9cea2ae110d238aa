// Wait: until a date stored on the customer or the trigger event, plus or minus an offset
// (three days before `delivery_date`, on `renewal_date` at 10:00).
import { z } from "zod";
import { getPath } from "../conditions.ts";
import { templateContext } from "../templating.ts";
import {
  CalendarOffset,
  TimeOfDay,
  addCalendar,
  formatInstant,
  parseTimeOfDay,
  readLocalDateTime,
  zonedToEpoch,
} from "../time.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const WaitDatePropertyConfig = z.object({
  /** Where the date is: an attribute name (`renewal_date`) or `event.delivery_date`. */
  property: z.string().trim().min(1, { error: "Choose the date property." }),
  offset: CalendarOffset.default({ amount: 0, unit: "days" }),
  /** Local time of day; when not set, the stored time (midnight for a date-only value). */
  at: TimeOfDay.optional(),
  /** When the property is missing or not a date: continue right away, or end the run. */
  ifMissing: z.enum(["continue", "exit"]).default("continue"),
});
export type WaitDatePropertyConfig = z.infer<typeof WaitDatePropertyConfig>;

export default defineStep<WaitDatePropertyConfig>({
  type: "wait.dateProperty",
  family: "wait",
  label: "Wait until a date property",
  schema: WaitDatePropertyConfig,
  defaults: { property: "", offset: { amount: 0, unit: "days" } },
  branches: () => NEXT_ONLY,
  references: (c) => [{ field: "property", path: c.property }],
  enter: (env) => {
    const c = env.config;
    const value = getPath(templateContext(env.state), c.property);
    const local = readLocalDateTime(value, env.timeZone);
    if (!local) {
      const detail = { property: c.property, value: value ?? null };
      return c.ifMissing === "exit"
        ? {
            kind: "end",
            how: "exit",
            reason: `${c.property} is not a date`,
            decision: "wait.dateMissing",
            detail,
          }
        : { kind: "go", branch: "next", decision: "wait.dateMissing", detail };
    }
    const time = c.at ? parseTimeOfDay(c.at) : { hour: local.hour, minute: local.minute };
    const until = zonedToEpoch({ ...addCalendar(local, c.offset), ...time }, env.timeZone);
    const detail = { property: c.property, until: formatInstant(until), timeZone: env.timeZone };
    if (until <= env.now) return { kind: "go", branch: "next", decision: "wait.passed", detail };
    return { kind: "wait", until, decision: "wait.scheduled", detail };
  },
  timer: () => ({ kind: "go", branch: "next", decision: "wait.elapsed" }),
});
