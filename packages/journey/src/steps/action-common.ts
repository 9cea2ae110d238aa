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

/**
 * What a send does when its outcome is unknown: the worker stopped after handing the message to
 * the provider and before recording the answer (or the provider timed out). `atLeastOnce` sends
 * it again with the same idempotency key (receivers that de-duplicate on it: webhooks, SMS APIs,
 * push); `atMostOnce` never sends it again and marks it uncertain for a person to resend or
 * dismiss. Unset: the channel's default (`defaultDelivery`).
 */
export const Delivery = z.enum(["atMostOnce", "atLeastOnce"]);
export type Delivery = z.infer<typeof Delivery>;

/** The per-step override, on the message-sending steps (email, SMS, push, webhook, notify). */
export const deliveryField = {
  delivery: Delivery.optional().meta({
    title: "Delivery if a send is interrupted",
    enumNames: [
      "At most once: never send twice; unclear sends wait for a person",
      "At least once: send again; the receiver drops repeats",
    ],
  }),
};

/**
 * Email is at most once: an SMTP server cannot recognise a repeat, so a second send is a second
 * email in the customer's inbox. Everything else is at least once: webhooks carry a Standard
 * Webhooks id, SMS and push APIs take an idempotency key, so a repeat is dropped by the receiver
 * and a lost message is worse than a repeat.
 */
export function defaultDelivery(channel: string): Delivery {
  return channel === "email" ? "atMostOnce" : "atLeastOnce";
}

/** The delivery policy of a step's config for a channel (its override, else the default). */
export function stepDelivery(config: unknown, channel: string): Delivery {
  const d =
    config !== null && typeof config === "object"
      ? (config as { delivery?: unknown }).delivery
      : undefined;
  const parsed = Delivery.safeParse(d);
  return parsed.success ? parsed.data : defaultDelivery(channel);
}

/**
 * issue 16: what a message is for. Marketing messages respect unsubscribes and the suppression
 * list (checked when the message is sent, sends.ts); transactional ones (a receipt, a password
 * reset) are always sent. Unset — steps published before the field existed — is marketing.
 */
export const Purpose = z.enum(["marketing", "transactional"]);
export type Purpose = z.infer<typeof Purpose>;

/** The per-step choice, on the customer-facing message steps (email, SMS, push). */
export const purposeField = {
  purpose: Purpose.default("marketing").meta({
    title: "Kind of message",
    enumNames: [
      "Marketing message — respects unsubscribes",
      "Transactional (receipt, password reset) — always sent",
    ],
  }),
};

/** A step config's purpose: `transactional` only when it says so; anything else is marketing. */
export function stepPurpose(config: unknown): Purpose {
  const p =
    config !== null && typeof config === "object"
      ? (config as { purpose?: unknown }).purpose
      : undefined;
  return p === "transactional" ? "transactional" : "marketing";
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
