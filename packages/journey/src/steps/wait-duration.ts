// Wait: a fixed duration.
import { z } from "zod";
import { DurationUnit, describeDuration, durationMs, formatInstant } from "../time.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const WaitDurationConfig = z.object({
  amount: z
    .number({ error: "Enter how long to wait." })
    .finite()
    .nonnegative({ error: "The wait can't be negative." }),
  unit: DurationUnit,
});
export type WaitDurationConfig = z.infer<typeof WaitDurationConfig>;

export default defineStep<WaitDurationConfig>({
  type: "wait.duration",
  family: "wait",
  label: "Wait",
  schema: WaitDurationConfig,
  defaults: { amount: 1, unit: "days" },
  branches: () => NEXT_ONLY,
  enter: (env) => {
    const until = env.now + durationMs(env.config);
    return {
      kind: "wait",
      until,
      decision: "wait.scheduled",
      detail: { duration: describeDuration(env.config), until: formatInstant(until) },
    };
  },
  timer: () => ({ kind: "go", branch: "next", decision: "wait.elapsed" }),
});
