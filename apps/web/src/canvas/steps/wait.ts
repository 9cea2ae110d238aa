import type { StepTypeOf } from "../draft.ts";
import { obj, str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, durationOf, singleOutput } from "./view.ts";

export const waitViews: Record<StepTypeOf<"wait">, StepView> = {
  "wait.duration": {
    label: "Wait",
    summary: (c) => {
      const duration = durationOf(c);
      return duration ? `Wait ${duration}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "wait.until": {
    label: "Wait until",
    summary: (c) => {
      const until = str(c, "until", "at", "date");
      return until ? `Until ${until}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "wait.timeOfDay": {
    label: "Wait for time of day",
    summary: (c) => {
      const time = str(c, "time", "at");
      if (!time) return NOT_CONFIGURED;
      const zone = str(c, "timezone", "timeZone");
      return zone ? `Until ${time} (${zone})` : `Until ${time}`;
    },
    branches: singleOutput,
  },
  "wait.dateProperty": {
    label: "Wait for date",
    summary: (c) => {
      const property = str(c, "property", "attribute");
      if (!property) return NOT_CONFIGURED;
      const offset = durationOf(obj(c, "offset"));
      const direction = str(c, "direction") ?? "after";
      return offset ? `Until ${offset} ${direction} ${property}` : `Until ${property}`;
    },
    branches: singleOutput,
  },
  "wait.event": {
    label: "Wait for event",
    summary: (c) => {
      const event = str(c, "event", "eventName");
      if (!event) return NOT_CONFIGURED;
      const timeout = durationOf(obj(c, "timeout"));
      return timeout ? `Event: ${event}, up to ${timeout}` : `Event: ${event}`;
    },
    branches: () => [
      { id: "event", label: "Event" },
      { id: "timeout", label: "Timeout" },
    ],
  },
};
