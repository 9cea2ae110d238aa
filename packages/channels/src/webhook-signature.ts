// Standard Webhooks signatures (https://www.standardwebhooks.com/):
//   webhook-signature: "v1," + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`))
// A secret "whsec_<base64>" is base64-decoded to get the key; any other secret is used as its
// UTF-8 bytes. Receivers verify with verifyWebhookSignature().
import { createHmac, timingSafeEqual } from "node:crypto";

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** Default tolerance between the signed timestamp and the receiver's clock (Standard Webhooks: 5 min). */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export function webhookSecretKey(secret: string): Buffer {
  if (secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), "base64");
  }
  return Buffer.from(secret, "utf8");
}

export interface SignWebhookInput {
  secret: string;
  /** The message id, sent as `webhook-id` (Postpath uses the idempotency key). */
  id: string;
  /** Unix seconds, sent as `webhook-timestamp`. */
  timestamp: number;
  /** The exact body bytes that are sent. */
  body: string;
}

/** Returns the `webhook-signature` header value: "v1,<base64>". */
export function signWebhook(input: SignWebhookInput): string {
  return `v1,${mac(input.secret, input.id, input.timestamp, input.body).toString("base64")}`;
}

function mac(secret: string, id: string, timestamp: number, body: string | Uint8Array): Buffer {
  return createHmac("sha256", webhookSecretKey(secret))
    .update(`${id}.${timestamp}.`, "utf8")
    .update(typeof body === "string" ? Buffer.from(body, "utf8") : body)
    .digest();
}

/** The three Standard Webhooks headers for one delivery. */
export function webhookHeaders(input: SignWebhookInput): Record<string, string> {
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": signWebhook(input),
  };
}

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookInput {
  secret: string;
  /** Request headers: a fetch Headers or Node's IncomingHttpHeaders (lower-case keys). */
  headers: HeaderSource;
  /** The raw body exactly as received (not re-serialised JSON). */
  body: string | Uint8Array;
  /** Accepted clock skew in seconds; default 300. Pass Infinity to skip the check. */
  toleranceSeconds?: number;
  /** Receiver's clock in milliseconds; default Date.now(). */
  now?: number;
}

/**
 * True when one of the `v1,` signatures in `webhook-signature` matches the body signed with the
 * secret, and `webhook-timestamp` is within the tolerance. Constant-time comparison.
 */
export function verifyWebhookSignature(input: VerifyWebhookInput): boolean {
  const id = header(input.headers, "webhook-id");
  const timestampText = header(input.headers, "webhook-timestamp");
  const signatures = header(input.headers, "webhook-signature");
  if (!id || !timestampText || !signatures || !/^\d+$/.test(timestampText)) return false;

  const timestamp = Number(timestampText);
  const tolerance = input.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > tolerance) return false;

  const expected = mac(input.secret, id, timestamp, input.body);
  return signatures.split(" ").some((candidate) => {
    const [version, value] = candidate.split(",", 2);
    if (version !== "v1" || value === undefined) return false;
    const given = Buffer.from(value, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
