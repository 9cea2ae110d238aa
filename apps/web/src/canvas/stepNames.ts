// issue 18: steps named as the canvas names them, never by their ids. Two steps with the same
// name are told apart by their order on the canvas ("Thank you (2nd)"), as a marketer would.
import { stepModule } from "@postpath/journey";
import { asConfig } from "./config.ts";
import type { StepNode } from "./types.ts";

/** The name on the canvas: the step's own name, else the palette's name for its kind. */
export function canvasName(node: StepNode): string {
  const label = asConfig(node.data.config).label;
  return typeof label === "string" && label.trim()
    ? label.trim()
    : stepModule(node.data.stepType).label;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

/** Every step's name by id; a name several steps share gets "(1st)", "(2nd)"… in canvas order. */
export function distinctStepNames(nodes: readonly StepNode[]): Map<string, string> {
  const names = nodes.map((n) => [n.id, canvasName(n)] as const);
  const total = new Map<string, number>();
  for (const [, name] of names) total.set(name, (total.get(name) ?? 0) + 1);
  const seen = new Map<string, number>();
  const out = new Map<string, string>();
  for (const [id, name] of names) {
    if ((total.get(name) ?? 0) < 2) {
      out.set(id, name);
      continue;
    }
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    out.set(id, `${name} (${ordinal(n)})`);
  }
  return out;
}
