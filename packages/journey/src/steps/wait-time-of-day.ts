// Wait: until a time of day (on allowed weekdays) in the customer's time zone.
import { z } from "zod";
import { TimeOfDay, Weekday, formatInstant, nextLocalTime } from "../time.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const WaitTimeOfDayConfig = z.object({
  time: TimeOfDay,
  /** Allowed weekdays; empty means every day. */
  days: z.array(Weekday).default([]),
});
export type WaitTimeOfDayConfig = z.infer<typeof WaitTimeOfDayConfig>;

export default defineStep<WaitTimeOfDayConfig>({
  type: "wait.timeOfDay",
  family: "wait",
  label: "Wait until time of day",
  schema: WaitTimeOfDayConfig,
  defaults: { time: "09:00", days: [] },
  branches: () => NEXT_ONLY,
  enter: (env) => {
    const until = nextLocalTime(env.now, env.timeZone, env.config.time, env.config.days);
    if (until <= env.now)
      return {
        kind: "go",
        branch: "next",
        decision: "wait.passed",
        detail: { until: formatInstant(until) },
      };
    return {
      kind: "wait",
      until,
      decision: "wait.scheduled",
      detail: { until: formatInstant(until), localTime: env.config.time, timeZone: env.timeZone },
    };
  },
  timer: () => ({ kind: "go", branch: "next", decision: "wait.elapsed" }),
});
