import type { StepTypeOf } from "../draft.ts";
import { list, str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, singleOutput } from "./view.ts";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export const triggerViews: Record<StepTypeOf<"trigger">, StepView> = {
  "trigger.event": {
    label: "Event trigger",
    summary: (c) => {
      const event = str(c, "event", "eventName");
      if (!event) return NOT_CONFIGURED;
      const filters = list(c, "filters").length;
      return filters > 0 ? `Event: ${event} (${plural(filters, "filter")})` : `Event: ${event}`;
    },
    branches: singleOutput,
  },
  "trigger.segment": {
    label: "Segment entry",
    summary: (c) => {
      const segment = str(c, "segmentName", "segment", "segmentId");
      return segment ? `Segment: ${segment}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "trigger.date": {
    label: "Date trigger",
    summary: (c) => {
      const property = str(c, "property", "attribute", "dateProperty");
      return property ? `Date: ${property}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
  "trigger.manual": {
    label: "Manual entry",
    summary: () => "Added by hand or API",
    branches: singleOutput,
  },
  "trigger.form": {
    label: "Form submitted",
    summary: (c) => {
      const form = str(c, "formName", "form", "formId", "slug");
      return form ? `Form: ${form}` : NOT_CONFIGURED;
    },
    branches: singleOutput,
  },
};
