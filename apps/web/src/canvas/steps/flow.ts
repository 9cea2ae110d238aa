import type { StepTypeOf } from "../draft.ts";
import { str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED } from "./view.ts";

export const flowViews: Record<StepTypeOf<"flow">, StepView> = {
  "flow.goal": {
    summary: (c) => {
      const name = str(c, "name", "event");
      return name ? `Goal: ${name}` : NOT_CONFIGURED;
    },
  },
  "flow.exit": {
    summary: () => "Exit journey",
  },
};
