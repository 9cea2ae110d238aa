// Wait: until a date and time. Without an offset ("2025-12-24T09:00") it is wall-clock time in the
// customer's time zone; with one ("…Z", "…+01:00") it is that instant for everyone.
import { z } from "zod";
import { formatInstant, readInstant } from "../time.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const WaitUntilConfig = z.object({
  at: z
    .string()
    .trim()
    .min(1, { error: "Choose the date and time to wait until." })
    .refine((v) => readInstant(v, "UTC") !== null, {
      error: "Use a date and time such as 2025-12-24T09:00, in the years 1000 to 9999.",
    }),
});
export type WaitUntilConfig = z.infer<typeof WaitUntilConfig>;

export default defineStep<WaitUntilConfig>({
  type: "wait.until",
  family: "wait",
  label: "Wait until a date",
  schema: WaitUntilConfig,
  defaults: { at: "" },
  branches: () => NEXT_ONLY,
  enter: (env) => {
    const until = readInstant(env.config.at, env.timeZone) ?? env.now;
    if (until <= env.now) {
      return {
        kind: "go",
        branch: "next",
        decision: "wait.passed",
        detail: { until: formatInstant(until) },
      };
    }
    return {
      kind: "wait",
      until,
      decision: "wait.scheduled",
      detail: { until: formatInstant(until), timeZone: env.timeZone },
    };
  },
  timer: () => ({ kind: "go", branch: "next", decision: "wait.elapsed" }),
});
