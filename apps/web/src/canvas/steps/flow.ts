import type { StepTypeOf } from "../draft.ts";
import { str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, noOutput, singleOutput } from "./view.ts";

export const flowViews: Record<StepTypeOf<"flow">, StepView> = {
  "flow.goal": {
    label: "Goal",
    summary: (c) => {
      const event = str(c, "event", "eventName", "name");
      return event ? `Goal: ${event}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "flow.exit": {
    label: "Exit",
    summary: (c) => {
      const reason = str(c, "reason", "label");
      return reason ? `Exit: ${reason}` : "Exit journey";
    },
    branches: noOutput,
  },
};
