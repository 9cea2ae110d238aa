// How the canvas describes one step type: a one-line summary of its config and, where the step's
// branch ids are not self-explanatory, the label beside each source handle. Each family's module
// fills a `Record<StepTypeOf<family>, StepView>`, so a new step type without a view fails typecheck.
// Labels and branch ids themselves come from @postpath/journey's step registry.
import type { Config } from "../config.ts";
import { asConfig, list, num, str } from "../config.ts";
import { membershipText } from "../segments.ts"; // issue 16
import { OPERATOR_WORDS } from "../words.ts";

export interface StepView {
  summary: (config: Config) => string;
  /** Label for a branch this step names from its config (a variant, a channel); else the default. */
  branchLabel?: (branch: string, config: Config) => string | undefined;
}

export const NOT_CONFIGURED = "Not configured";

/** "30 seconds", "1 day"; units may be given singular or plural. */
export function formatDuration(amount: number, unit: string): string {
  const singular = unit.endsWith("s") ? unit.slice(0, -1) : unit;
  return `${amount} ${Math.abs(amount) === 1 ? singular : `${singular}s`}`;
}

/** Reads `{ amount, unit }`; undefined when incomplete. */
export function durationOf(config: Config | undefined): string | undefined {
  if (!config) return undefined;
  const amount = num(config, "amount");
  const unit = str(config, "unit");
  return amount === undefined || unit === undefined ? undefined : formatDuration(amount, unit);
}

/** " + 3 days", " − 1 week", or "" for no offset. */
export function offsetOf(config: Config | undefined): string {
  if (!config) return "";
  const amount = num(config, "amount");
  const unit = str(config, "unit");
  if (amount === undefined || amount === 0 || unit === undefined) return "";
  return `${amount < 0 ? " − " : " + "}${formatDuration(Math.abs(amount), unit)}`;
}

/** Values shown inside a summary: strings as they are, everything else as JSON. */
export function show(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "");
}

/** Comparisons in words ("is at least"), as the forms name them. */
const OPERATORS: Readonly<Record<string, string>> = OPERATOR_WORDS;

/** "total is greater than 100", or undefined when the condition is incomplete. */
export function conditionText(condition: Config): string | undefined {
  const property = str(condition, "property");
  const op = str(condition, "op");
  if (!property || !op) return undefined;
  const membership = membershipText(condition);
  if (membership) return membership;
  const operator = OPERATORS[op] ?? op;
  return op === "exists" || op === "notExists" || !("value" in condition)
    ? `${property} ${operator}`
    : `${property} ${operator} ${show(condition.value)}`;
}

/** The first condition of a list, with how many more follow ("total is greater than 100 and 2 more"). */
export function conditionsText(config: Config, key = "conditions"): string | undefined {
  const conditions = list(config, key).map(asConfig);
  const first = conditions[0] && conditionText(conditions[0]);
  if (!first) return undefined;
  const more = conditions.length - 1;
  if (more === 0) return first;
  return `${first} ${str(config, "match") === "any" ? "or" : "and"} ${more} more`;
}
