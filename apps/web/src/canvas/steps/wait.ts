import type { StepTypeOf } from "../draft.ts";
import { list, obj, str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, durationOf, offsetOf } from "./view.ts";

export const waitViews: Record<StepTypeOf<"wait">, StepView> = {
  "wait.duration": {
    summary: (c) => {
      const duration = durationOf(c);
      return duration ? `Wait ${duration}` : NOT_CONFIGURED;
    },
  },
  "wait.until": {
    summary: (c) => {
      const at = str(c, "at");
      return at ? `Until ${at}` : NOT_CONFIGURED;
    },
  },
  "wait.timeOfDay": {
    summary: (c) => {
      const time = str(c, "time");
      if (!time) return NOT_CONFIGURED;
      const days = list(c, "days").filter((d): d is string => typeof d === "string");
      return days.length > 0 ? `Until ${time} on ${days.join(", ")}` : `Until ${time}`;
    },
  },
  "wait.dateProperty": {
    summary: (c) => {
      const property = str(c, "property");
      if (!property) return NOT_CONFIGURED;
      const at = str(c, "at");
      return `Until ${property}${offsetOf(obj(c, "offset"))}${at ? ` at ${at}` : ""}`;
    },
  },
  "wait.event": {
    summary: (c) => {
      const event = str(c, "event");
      if (!event) return NOT_CONFIGURED;
      const timeout = durationOf(obj(c, "timeout"));
      return timeout ? `Event: ${event}, up to ${timeout}` : `Event: ${event}`;
    },
  },
};
