import type { StepTypeOf } from "../draft.ts";
import type { Config } from "../config.ts";
import { asConfig, list, num, str } from "../config.ts";
import type { StepView } from "./view.ts";
import { NOT_CONFIGURED, conditionsText } from "./view.ts";

/** `[{ id, label?, percent? }]` entries of a multi-split's branches or a random split's variants. */
function entries(
  c: Config,
  key: string,
): { id: string; label: string | undefined; percent: number | undefined }[] {
  return list(c, key).flatMap((item) => {
    const e = asConfig(item);
    const id = str(e, "id");
    return id ? [{ id, label: str(e, "label"), percent: num(e, "percent") }] : [];
  });
}

const CHANNEL_LABELS: Record<string, string> = { email: "Email", sms: "SMS", push: "Push" };

export const splitViews: Record<StepTypeOf<"split">, StepView> = {
  "split.condition": {
    summary: (c) => {
      const conditions = conditionsText(c);
      return conditions ? `If ${conditions}` : NOT_CONFIGURED;
    },
  },
  "split.multi": {
    summary: (c) => {
      const n = entries(c, "branches").length;
      return n === 0 ? NOT_CONFIGURED : `${n} branch${n === 1 ? "" : "es"} + else`;
    },
    branchLabel: (branch, c) => entries(c, "branches").find((b) => b.id === branch)?.label,
  },
  "split.random": {
    summary: (c) => {
      const variants = entries(c, "variants");
      if (variants.length === 0) return NOT_CONFIGURED;
      const holdout = num(c, "holdout") ?? 0;
      const shares = variants.map((v) => `${v.percent ?? 0}%`);
      return `Random: ${[...shares, ...(holdout > 0 ? [`holdout ${holdout}%`] : [])].join(" / ")}`;
    },
    branchLabel: (branch, c) => {
      if (branch === "holdout") return `Holdout ${num(c, "holdout") ?? 0}%`;
      const variant = entries(c, "variants").find((v) => v.id === branch);
      return variant ? `${variant.label ?? variant.id} ${variant.percent ?? 0}%` : undefined;
    },
  },
  "split.channel": {
    summary: (c) => {
      const channels = list(c, "channels").filter((ch): ch is string => typeof ch === "string");
      return channels.length === 0
        ? "First reachable channel"
        : `First reachable: ${channels.map((ch) => CHANNEL_LABELS[ch] ?? ch).join(", ")}`;
    },
    branchLabel: (branch) => CHANNEL_LABELS[branch],
  },
};
