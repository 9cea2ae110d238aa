// Behaviour shared by action steps: the on-error policy, result handling and quiet hours.
import { z } from "zod";
import { quietHoursApply, nextAllowedSendTime } from "../settings.ts";
import type { SendChannel } from "../state.ts";
import { formatInstant } from "../time.ts";
import type { Branches, Outcome, ResultInput, StepEnv } from "./module.ts";

/** What happens when an action still fails after the engine's retries. */
export const OnError = z.enum(["continue", "errorBranch", "exit"]);
export type OnError = z.infer<typeof OnError>;

/** Most retries a step may ask for after the first attempt. */
export const MAX_RETRIES = 10;

/** Fields every action config has. */
export const actionFields = {
  onError: OnError.default("continue"),
  /** Retries after a failed attempt before `onError` applies (unset: the engine's default).
   * Failures that can never succeed (e.g. HTTP 400, no address) are not retried. */
  retries: z
    .number()
    .int({ error: `Retries: a whole number from 0 to ${MAX_RETRIES}.` })
    .min(0, { error: `Retries: 0 to ${MAX_RETRIES}.` })
    .max(MAX_RETRIES, { error: `Retries: 0 to ${MAX_RETRIES}.` })
    .optional(),
};

/** The attempts a step allows (retries + 1), or null when it leaves it to the engine. */
export function stepAttempts(config: unknown): number | null {
  const retries =
    config !== null && typeof config === "object"
      ? (config as { retries?: unknown }).retries
      : undefined;
  return typeof retries === "number" && Number.isInteger(retries) && retries >= 0
    ? Math.min(retries, MAX_RETRIES) + 1
    : null;
}

export function actionBranches(config: { onError: OnError }): Branches {
  return config.onError === "errorBranch"
    ? { required: ["next", "error"] }
    : { required: ["next"] };
}

/**
 * Completes an action with its result: success continues on "next" (storing the output under the
 * step id and, when given, under `name` for templates); failure follows the on-error policy.
 */
export function handleResult(
  env: StepEnv<{ onError: OnError }>,
  result: ResultInput,
  what: string,
  name?: string,
): Outcome {
  if (result.ok) {
    const output = result.output ?? {};
    env.state.outputs[env.step.id] = output;
    if (name) env.state.vars[name] = output;
    return { kind: "go", branch: "next", decision: `${what}.succeeded`, detail: { output } };
  }
  const detail = { error: result.error, onError: env.config.onError };
  switch (env.config.onError) {
    case "continue":
      return { kind: "go", branch: "next", decision: `${what}.failed`, detail };
    case "errorBranch":
      return { kind: "go", branch: "error", decision: `${what}.failed`, detail };
    case "exit":
      return {
        kind: "end",
        how: "exit",
        reason: `${what} failed: ${result.error}`,
        decision: `${what}.failed`,
        detail,
      };
    default: {
      const never: never = env.config.onError;
      return never;
    }
  }
}

/** Requests a send, unless quiet hours hold it back (wait until they end) or skip it. */
export function sendOrHold(
  env: StepEnv<{ respectQuietHours?: boolean }>,
  channel: SendChannel,
  message: Record<string, unknown>,
): Outcome {
  const qh = env.settings.quietHours;
  if (env.config.respectQuietHours !== false && quietHoursApply(qh, channel)) {
    const allowed = nextAllowedSendTime(qh, env.timeZone, env.now);
    if (allowed > env.now) {
      const detail = { channel, timeZone: env.timeZone, quietHours: `${qh.start}–${qh.end}` };
      return qh.mode === "hold"
        ? {
            kind: "wait",
            until: allowed,
            held: true,
            decision: "quietHours.held",
            detail: { ...detail, until: formatInstant(allowed) },
          }
        : { kind: "go", branch: "next", decision: "quietHours.skipped", detail };
    }
  }
  return {
    kind: "await",
    effect: { kind: "send", stepId: env.step.id, channel, message },
    decision: "send.requested",
    detail: { channel },
  };
}
