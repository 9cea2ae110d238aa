// The one interface every channel provider implements. The engine stores an outbox row with a
// unique idempotency key BEFORE calling send(), and passes that key in: providers forward it to
// whatever deduplication the far side offers (Twilio's idempotency token, an Idempotency-Key
// header, the Standard Webhooks `webhook-id`, a stable e-mail Message-ID).
import type { OutboundPolicy } from "./outbound.ts";

export const CHANNELS = ["email", "sms", "push", "webhook", "notify"] as const;
export type Channel = (typeof CHANNELS)[number];

export interface SendRequest {
  /** Unique per (run, step); printable ASCII without spaces, at most 255 characters. */
  idempotencyKey: string;
  /** Recipient: e-mail address, phone number (E.164), device token, … Channel-specific. */
  to?: string;
}

export interface SendResult {
  /** The provider's id for the message (or the idempotency key when the far side has none). */
  providerMessageId: string;
  /** JSON-safe summary of what the provider answered. Never contains credentials. */
  response: unknown;
}

export interface SendOptions {
  /** Aborts the send (e.g. worker shutdown). An aborted send fails with a retryable ProviderError. */
  signal?: AbortSignal;
  /** Which private hosts HTTP providers may reach (default: public addresses only; outbound.ts). */
  outbound?: OutboundPolicy;
}

export interface VerifyResult {
  ok: boolean;
  detail: string;
}

export interface Provider<Req extends SendRequest = SendRequest> {
  readonly channel: Channel;
  /** Short human name used in error messages and logs, e.g. "sms (twilio)". */
  readonly name: string;
  send(req: Req, opts?: SendOptions): Promise<SendResult>;
  /** Checks configuration/credentials without sending, for an admin "test connection". */
  verify?(opts?: Pick<SendOptions, "outbound">): Promise<VerifyResult>;
  /** Releases pooled connections. */
  close?(): Promise<void>;
}

export interface ProviderErrorOptions {
  /** True when the same request may succeed later (5xx, 429, network failure, timeout). */
  retryable: boolean;
  /** HTTP status or SMTP reply code, when the far side answered. */
  status?: number;
  /** JSON-safe summary of the answer (truncated body, provider error code). Never credentials. */
  response?: unknown;
  /** How long the provider asked us to wait (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  readonly retryable: boolean;
  readonly status?: number;
  readonly response?: unknown;
  readonly retryAfterMs?: number;

  constructor(message: string, opts: ProviderErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryable = opts.retryable;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.response !== undefined) this.response = opts.response;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Rejects keys that cannot travel safely in a header (control characters, spaces, non-ASCII,
 * over-long). Such a request can never succeed, so the error is not retryable.
 */
export function assertIdempotencyKey(provider: string, key: unknown): asserts key is string {
  if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key)) {
    throw new ProviderError(
      `${provider}: invalid idempotency key (expected 1-255 printable ASCII characters without spaces)`,
      { retryable: false },
    );
  }
}

/** Throws a non-retryable ProviderError naming the provider and the missing/invalid field. */
export function invalidRequest(provider: string, detail: string): ProviderError {
  return new ProviderError(`${provider}: invalid request: ${detail}`, { retryable: false });
}

export const DEFAULT_TIMEOUT_MS = 10_000;
