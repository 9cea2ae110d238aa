// Flow: the end of a path. Reaching it completes the run (removal by exit criteria or an error
// policy is what "exited" means).
import { z } from "zod";
import { defineStep } from "./module.ts";

export const FlowExitConfig = z.object({});
export type FlowExitConfig = z.infer<typeof FlowExitConfig>;

export default defineStep<FlowExitConfig>({
  type: "flow.exit",
  family: "flow",
  label: "Exit",
  schema: FlowExitConfig,
  defaults: {},
  branches: () => ({ required: [] }),
  enter: () => ({
    kind: "end",
    how: "complete",
    reason: "end of journey",
    decision: "exit.reached",
  }),
});
