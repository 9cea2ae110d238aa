// Wait: a fixed duration.
import { z } from "zod";
import {
  DurationUnit,
  describeDuration,
  durationAmount,
  durationMs,
  formatInstant,
  withinMaxDuration,
} from "../time.ts";
import { NEXT_ONLY, defineStep } from "./module.ts";

export const WaitDurationConfig = z
  .object({
    amount: durationAmount("a wait"),
    unit: DurationUnit,
  })
  .superRefine(withinMaxDuration("a wait"));
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
