// Flow: a conversion goal. Whenever its event arrives (at any point of an active run), the run
// moves here and records the conversion; it then follows "next" if connected, else completes.
// A goal has no incoming connections: its event is how a run gets here.
import { z } from "zod";
import { Condition } from "../conditions.ts";
import { defineStep } from "./module.ts";

export const FlowGoalConfig = z.object({
  /** Goal name in reports (defaults to the event name). */
  name: z.string().trim().min(1).optional(),
  event: z.string().trim().min(1, { error: "Choose the event that counts as reaching this goal." }),
  filters: z.array(Condition).default([]),
});
export type FlowGoalConfig = z.infer<typeof FlowGoalConfig>;

export function goalName(c: FlowGoalConfig): string {
  return c.name ?? c.event;
}

export default defineStep<FlowGoalConfig>({
  type: "flow.goal",
  family: "flow",
  label: "Goal",
  schema: FlowGoalConfig,
  defaults: { event: "", filters: [] },
  branches: () => ({ required: [], optional: ["next"] }),
  enter: (env) =>
    env.step.next["next"]
      ? {
          kind: "go",
          branch: "next",
          decision: "goal.reached",
          detail: { goal: goalName(env.config) },
        }
      : {
          kind: "end",
          how: "complete",
          reason: "goal reached",
          decision: "goal.reached",
          detail: { goal: goalName(env.config) },
        },
});
