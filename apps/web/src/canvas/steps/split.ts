import type { StepTypeOf } from "../draft.ts";
import type { Config } from "../config.ts";
import { asConfig, list, num, obj, str } from "../config.ts";
import type { Branch, StepView } from "./view.ts";
import { NOT_CONFIGURED, show } from "./view.ts";

/** Named branches of a multi-split or random split: `[{ id, name?, percent? }]`. */
function namedBranches(c: Config, ...keys: string[]): { id: string; name: string; percent: number | undefined }[] {
  return list(c, ...keys).flatMap((item, index) => {
    const b = asConfig(item);
    const id = str(b, "id", "key");
    if (!id) return [];
    return [{ id, name: str(b, "name", "label") ?? `Branch ${index + 1}`, percent: num(b, "percent", "weight") }];
  });
}

function channels(c: Config): string[] {
  return list(c, "channels", "order").flatMap((item) => {
    if (typeof item === "string") return [item];
    const channel = str(asConfig(item), "channel", "id");
    return channel ? [channel] : [];
  });
}

export const splitViews: Record<StepTypeOf<"split">, StepView> = {
  "split.condition": {
    label: "Condition split",
    summary: (c) => {
      const condition = obj(c, "condition") ?? c;
      const field = str(condition, "property", "attribute", "field");
      const operator = str(condition, "operator", "op");
      if (!field || !operator) return NOT_CONFIGURED;
      return "value" in condition ? `If ${field} ${operator} ${show(condition.value)}` : `If ${field} ${operator}`;
    },
    branches: () => [
      { id: "yes", label: "Yes" },
      { id: "no", label: "No" },
    ],
  },
  "split.multi": {
    label: "Multi-split",
    summary: (c) => {
      const n = namedBranches(c, "branches").length;
      return n === 0 ? NOT_CONFIGURED : `${n} branch${n === 1 ? "" : "es"} + else`;
    },
    branches: (c): Branch[] => [
      ...namedBranches(c, "branches").map((b) => ({ id: b.id, label: b.name })),
      { id: "else", label: "Else" },
    ],
  },
  "split.random": {
    label: "Random split",
    summary: (c) => {
      const variants = namedBranches(c, "variants", "branches");
      if (variants.length === 0) return NOT_CONFIGURED;
      return `Random: ${variants.map((v) => (v.percent === undefined ? v.name : `${v.percent}%`)).join(" / ")}`;
    },
    branches: (c) =>
      namedBranches(c, "variants", "branches").map((v) => ({
        id: v.id,
        label: v.percent === undefined ? v.name : `${v.name} ${v.percent}%`,
      })),
  },
  "split.channel": {
    label: "Channel split",
    summary: (c) => {
      const order = channels(c);
      return order.length === 0 ? NOT_CONFIGURED : `First reachable: ${order.join(", ")}`;
    },
    branches: (c) => [...channels(c).map((id) => ({ id, label: id })), { id: "none", label: "None" }],
  },
};
