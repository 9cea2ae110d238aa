// Push over HTTP: JSON POST { to: deviceToken, title, body, data } to a configurable endpoint,
// bearer API key, Idempotency-Key header. Fits a push gateway in front of APNs/FCM (or a
// self-hosted relay); the answer's `id` / `messageId` becomes the provider message id.
import { z } from "zod";
import { httpRequest, summarise } from "../http.ts";
import type { Provider, SendOptions, SendRequest, SendResult } from "../types.ts";
import { assertIdempotencyKey, invalidRequest } from "../types.ts";
import { HttpUrl, TimeoutMs, asRecord, nonEmpty } from "./common.ts";

export const PushConfig = z.object({
  endpoint: HttpUrl,
  apiKey: z.string().min(1),
  timeoutMs: TimeoutMs,
});
export type PushConfig = z.infer<typeof PushConfig>;
export type PushConfigInput = z.input<typeof PushConfig>;

export interface PushRequest extends SendRequest {
  /** Device token. */
  to: string;
  title: string;
  body: string;
  /** Custom key/values delivered with the notification (deep link, order id, …). */
  data?: Record<string, unknown>;
  /** Where tapping the notification leads; sent as data.url. */
  url?: string;
  /** Image shown with the notification; sent as data.image. */
  image?: string;
}

const NAME = "push";

export function createPushProvider(input: PushConfigInput): Provider<PushRequest> {
  const config = PushConfig.parse(input);
  const secrets = [config.apiKey];

  return {
    channel: "push",
    name: NAME,

    async send(req: PushRequest, opts?: SendOptions): Promise<SendResult> {
      assertIdempotencyKey(NAME, req.idempotencyKey);
      if (!nonEmpty(req.to)) throw invalidRequest(NAME, "`to` (device token) is required");
      if (typeof req.title !== "string" || typeof req.body !== "string") {
        throw invalidRequest(NAME, "`title` and `body` must be strings");
      }
      const answer = await httpRequest({
        provider: NAME,
        url: config.endpoint,
        method: "POST",
        headers: {
          authorization: `Bearer ${config.apiKey}`,
          "content-type": "application/json",
          accept: "application/json",
          "idempotency-key": req.idempotencyKey,
        },
        body: JSON.stringify({
          to: req.to,
          title: req.title,
          body: req.body,
          data: {
            ...req.data,
            ...(nonEmpty(req.url) ? { url: req.url } : {}),
            ...(nonEmpty(req.image) ? { image: req.image } : {}),
          },
        }),
        timeoutMs: config.timeoutMs,
        signal: opts?.signal,
        outbound: opts?.outbound,
        secrets,
      });
      const json = asRecord(answer.json);
      const id = [json?.id, json?.messageId, json?.message_id].find(
        (v) => typeof v === "string" && v.length > 0,
      );
      return {
        providerMessageId: typeof id === "string" ? id : req.idempotencyKey,
        response: summarise(answer, secrets),
      };
    },
  };
}
