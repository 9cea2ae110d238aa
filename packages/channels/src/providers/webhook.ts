// Webhook: an HTTP call (JSON POST by default) signed per Standard Webhooks (webhook-id = the
// idempotency key, webhook-timestamp, webhook-signature over the exact body bytes). Receivers
// verify with verifyWebhookSignature(). The receiver's answer (status + parsed body) is the
// response, so a journey can use it in later steps.
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
  "content-length",
  "host",
  "transfer-encoding",
  "connection",
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const HeaderMap = z
  .record(
    z.string().regex(HEADER_NAME, "invalid header name"),
    z.string().regex(/^[^\r\n]*$/, "no line breaks"),
  )
  .refine((h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())), {
    message: `headers may not override ${[...RESERVED_HEADERS].join(", ")}`,
  });

export const WebhookMethod = z.enum(["POST", "PUT", "PATCH", "GET", "DELETE"]);
export type WebhookMethod = z.infer<typeof WebhookMethod>;

export const WebhookConfig = z
  .object({
    /**
     * Default destination. It also binds the config to its origin (scheme, host and port): a
     * request may name its own `url` only on that origin, so the headers and signatures never go
     * anywhere else. Without it, requests name any URL (then the config may carry no headers).
     */
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
  })
  .refine((c) => c.url !== undefined || Object.keys(c.headers).length === 0, {
    message: "Enter the URL these headers are for: they are only ever sent to its address.",
    path: ["url"],
  });
export type WebhookConfig = z.infer<typeof WebhookConfig>;
export type WebhookConfigInput = z.input<typeof WebhookConfig>;

export interface WebhookRequest extends SendRequest {
  /** Any JSON-serialisable value, sent as the JSON body (ignored when `body` is given). */
  payload?: unknown;
  /** A ready body string (e.g. a rendered Liquid template), sent byte for byte. */
  body?: string;
  /** Overrides the configured URL. */
  url?: string;
  /** Default POST. GET and DELETE send no body (the signature then covers an empty body). */
  method?: WebhookMethod;
  /** Per-request headers, added to the configured ones. */
  headers?: Record<string, string>;
}

const NAME = "webhook";

export function createWebhookProvider(input: WebhookConfigInput): Provider<WebhookRequest> {
  const config = WebhookConfig.parse(input);
  const configSecrets = [config.secret, ...Object.values(config.headers)];

  return {
    channel: "webhook",
    name: NAME,

    async send(req: WebhookRequest, opts?: SendOptions): Promise<SendResult> {
      assertIdempotencyKey(NAME, req.idempotencyKey);
      const url = req.url ?? config.url;
      if (url === undefined) throw invalidRequest(NAME, "no `url` in the request or the config");
      const parsedUrl = HttpUrl.safeParse(url);
      if (!parsedUrl.success)
        throw invalidRequest(NAME, "`url` must be an http(s) URL without credentials");
      const bound = config.url === undefined ? undefined : new URL(config.url).origin;
      const origin = new URL(parsedUrl.data).origin;
      if (bound !== undefined && origin !== bound)
        throw invalidRequest(
          NAME,
          `the URL's address (${origin}) is not the webhook connection's (${bound}); a step may only choose a path on ${bound}`,
        );
      const method = WebhookMethod.safeParse(req.method ?? "POST");
      if (!method.success)
        throw invalidRequest(NAME, "`method` must be POST, PUT, PATCH, GET or DELETE");
      const extra = HeaderMap.safeParse(req.headers ?? {});
      if (!extra.success)
        throw invalidRequest(NAME, extra.error.issues[0]?.message ?? "invalid headers");

      const hasBody = method.data !== "GET" && method.data !== "DELETE";
      const body = hasBody ? serialise(req) : "";
      // Header names are case-insensitive: a request header replaces a configured one.
      const headers = new Headers(config.headers);
      for (const [name, value] of Object.entries(extra.data)) headers.set(name, value);
      if (hasBody && !headers.has("content-type"))
        headers.set("content-type", contentTypeOf(req, body));
      const timestamp = Math.floor(Date.now() / 1000);
      for (const [name, value] of Object.entries(
        webhookHeaders({ secret: config.secret, id: req.idempotencyKey, timestamp, body }),
      )) {
        headers.set(name, value);
      }
      const answer = await httpRequest({
        provider: NAME,
        url: parsedUrl.data,
        method: method.data,
        headers: Object.fromEntries(headers.entries()),
        ...(hasBody ? { body } : {}),
        timeoutMs: config.timeoutMs,
        signal: opts?.signal,
        outbound: opts?.outbound,
        secrets: [...configSecrets, ...Object.values(extra.data)],
      });
      return { providerMessageId: req.idempotencyKey, response: summarise(answer, configSecrets) };
    },
  };
}

function serialise(req: WebhookRequest): string {
  if (typeof req.body === "string") return req.body;
  let body: string | undefined;
  try {
    body = JSON.stringify(req.payload);
  } catch (err) {
    throw invalidRequest(NAME, `payload is not JSON-serialisable (${(err as Error).message})`);
  }
  if (body === undefined) throw invalidRequest(NAME, "`payload` or `body` is required");
  return body;
}

/** JSON for payloads and for body strings that parse as JSON, else plain text. */
function contentTypeOf(req: WebhookRequest, body: string): string {
  if (typeof req.body !== "string") return "application/json";
  try {
    JSON.parse(body);
    return "application/json";
  } catch {
    return "text/plain; charset=utf-8";
  }
}
