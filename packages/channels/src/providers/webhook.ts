// Webhook: JSON POST signed per Standard Webhooks (webhook-id = idempotency key,
// webhook-timestamp, webhook-signature). Receivers verify with verifyWebhookSignature().
import { z } from "zod";
import { httpRequest, summarise } from "../http.ts";
import type { Provider, SendOptions, SendRequest, SendResult } from "../types.ts";
import { assertIdempotencyKey, invalidRequest } from "../types.ts";
import { WEBHOOK_SECRET_PREFIX, webhookHeaders } from "../webhook-signature.ts";
import { HttpUrl, TimeoutMs } from "./common.ts";

const RESERVED_HEADERS = new Set([
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "content-type",
  "content-length",
  "host",
]);

const HeaderMap = z
  .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "invalid header name"), z.string())
  .refine((h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())), {
    message: `headers may not override ${[...RESERVED_HEADERS].join(", ")}`,
  });

export const WebhookConfig = z.object({
  /** Default destination; a request may name its own `url`. */
  url: HttpUrl.optional(),
  /** Signing secret: "whsec_<base64>" (decoded) or any other string (its UTF-8 bytes). */
  secret: z
    .string()
    .min(1)
    .refine(
      (s) =>
        !s.startsWith(WEBHOOK_SECRET_PREFIX) ||
        /^[A-Za-z0-9+/]+={0,2}$/.test(s.slice(WEBHOOK_SECRET_PREFIX.length)),
      "a whsec_ secret must be followed by base64",
    ),
  /** Extra static headers (e.g. an API key the receiver expects). */
  headers: HeaderMap.default({}),
  timeoutMs: TimeoutMs,
});
export type WebhookConfig = z.infer<typeof WebhookConfig>;
export type WebhookConfigInput = z.input<typeof WebhookConfig>;

export interface WebhookRequest extends SendRequest {
  /** Any JSON-serialisable value; sent as the body. */
  payload: unknown;
  /** Overrides the configured URL. */
  url?: string;
}

const NAME = "webhook";

export function createWebhookProvider(input: WebhookConfigInput): Provider<WebhookRequest> {
  const config = WebhookConfig.parse(input);
  const secrets = [config.secret, ...Object.values(config.headers)];

  return {
    channel: "webhook",
    name: NAME,

    async send(req: WebhookRequest, opts?: SendOptions): Promise<SendResult> {
      assertIdempotencyKey(NAME, req.idempotencyKey);
      const url = req.url ?? config.url;
      if (url === undefined) throw invalidRequest(NAME, "no `url` in the request or the config");
      const parsedUrl = HttpUrl.safeParse(url);
      if (!parsedUrl.success) throw invalidRequest(NAME, "`url` must be an http(s) URL without credentials");

      let body: string | undefined;
      try {
        body = JSON.stringify(req.payload);
      } catch (err) {
        throw invalidRequest(NAME, `payload is not JSON-serialisable (${(err as Error).message})`);
      }
      if (body === undefined) throw invalidRequest(NAME, "`payload` is required");

      const timestamp = Math.floor(Date.now() / 1000);
      const answer = await httpRequest({
        provider: NAME,
        url: parsedUrl.data,
        method: "POST",
        headers: {
          ...config.headers,
          "content-type": "application/json",
          ...webhookHeaders({ secret: config.secret, id: req.idempotencyKey, timestamp, body }),
        },
        body,
        timeoutMs: config.timeoutMs,
        signal: opts?.signal,
        secrets,
      });
      return { providerMessageId: req.idempotencyKey, response: summarise(answer, secrets) };
    },
  };
}
