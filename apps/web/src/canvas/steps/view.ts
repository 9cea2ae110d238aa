// What the canvas needs to know to draw one step type: its label, a one-line summary of its
// config and its outgoing branches (one source handle each). Each family's module fills a
// `Record<StepTypeOf<family>, StepView>`, so adding a step type without a view fails typecheck.
import type { Config } from "../config.ts";
import { num, str } from "../config.ts";

export interface Branch {
  /** The edges' `sourceHandle`: "next" for the single unnamed output of most steps. */
  id: string;
  /** Shown beside the handle; empty for the single unnamed output. */
  label: string;
}

export interface StepView {
  label: string;
  summary: (config: Config) => string;
  branches: (config: Config) => Branch[];
}

export const NOT_CONFIGURED = "Not configured";

/** The branch an edge without a `sourceHandle` leaves from (as in @postpath/journey). */
export const DEFAULT_BRANCH = "next";

export const singleOutput = (): Branch[] => [{ id: DEFAULT_BRANCH, label: "" }];
export const noOutput = (): Branch[] => [];

/** "30 seconds", "1 day"; units may be given singular or plural. */
export function formatDuration(amount: number, unit: string): string {
  const singular = unit.endsWith("s") ? unit.slice(0, -1) : unit;
  return `${amount} ${amount === 1 ? singular : `${singular}s`}`;
}

/** Reads `{ amount, unit }` from a config (or a nested one); undefined when incomplete. */
export function durationOf(config: Config | undefined): string | undefined {
  if (!config) return undefined;
  const amount = num(config, "amount", "value");
  const unit = str(config, "unit");
  return amount === undefined || unit === undefined ? undefined : formatDuration(amount, unit);
}

/** Values shown inside a summary: strings as they are, everything else as JSON. */
export function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value) ?? "";
}
