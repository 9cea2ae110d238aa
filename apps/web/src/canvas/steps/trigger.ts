import type { StepTypeOf } from "../draft.ts";
import { list, obj, str } from "../config.ts";
import { segmentName } from "../segments.ts"; // issue 16
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, conditionsText, offsetOf } from "./view.ts";

export const triggerViews: Record<StepTypeOf<"trigger">, StepView> = {
  "trigger.event": {
    summary: (c) => {
      const event = str(c, "event");
      if (!event) return NOT_CONFIGURED;
      const filters = list(c, "filters").length;
      return filters > 0
        ? `Event: ${event} (${filters} filter${filters === 1 ? "" : "s"})`
        : `Event: ${event}`;
    },
  },
  "trigger.segment": {
    summary: (c) => {
      // issue 16: a saved segment's entry or exit.
      const segmentId = str(c, "segmentId");
      if (segmentId) {
        const verb = str(c, "on") === "leave" ? "Leaves" : "Enters";
        const name = segmentName(segmentId);
        return name ? `${verb} segment "${name}"` : `${verb} a saved segment`;
      }
      const conditions = conditionsText(c);
      return conditions ? `Segment: ${conditions}` : NOT_CONFIGURED;
    },
  },
  "trigger.date": {
    summary: (c) => {
      const attribute = str(c, "attribute");
      if (!attribute) return NOT_CONFIGURED;
      const at = str(c, "at");
      const yearly = str(c, "recurrence") === "yearly" ? ", every year" : "";
      return `Date: ${attribute}${offsetOf(obj(c, "offset"))}${at ? ` at ${at}` : ""}${yearly}`;
    },
  },
  "trigger.manual": {
    summary: () => "Enrolled by hand or API",
  },
  "trigger.form": {
    summary: (c) => {
      const form = str(c, "form");
      return form ? `Form: ${form}` : NOT_CONFIGURED;
    },
  },
};
