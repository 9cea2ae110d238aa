// Internal notification to a Slack-compatible incoming webhook: POST JSON { text }, the
// service answers "ok". The webhook URL is itself the credential: it never appears in errors.
import { z } from "zod";
import { httpRequest, summarise } from "../http.ts";
import type { Provider, SendOptions, SendRequest, SendResult } from "../types.ts";
import { assertIdempotencyKey, invalidRequest } from "../types.ts";
import { HttpUrl, TimeoutMs, nonEmpty } from "./common.ts";

export const NotifyConfig = z.object({
  /** Incoming-webhook URL (Slack, Mattermost, Rocket.Chat, …). Treated as a secret. */
  url: HttpUrl,
  /** Optional username / channel overrides understood by Slack-compatible services. */
  username: z.string().min(1).optional(),
  channel: z.string().min(1).optional(),
  timeoutMs: TimeoutMs,
});
export type NotifyConfig = z.infer<typeof NotifyConfig>;
export type NotifyConfigInput = z.input<typeof NotifyConfig>;

export interface NotifyRequest extends SendRequest {
  text: string;
}

const NAME = "notify (slack webhook)";

export function createNotifyProvider(input: NotifyConfigInput): Provider<NotifyRequest> {
  const config = NotifyConfig.parse(input);
  const path = new URL(config.url).pathname;
  const secrets = path.length > 1 ? [config.url, path] : [config.url];

  return {
    channel: "notify",
    name: NAME,

    async send(req: NotifyRequest, opts?: SendOptions): Promise<SendResult> {
      assertIdempotencyKey(NAME, req.idempotencyKey);
      if (!nonEmpty(req.text)) throw invalidRequest(NAME, "`text` is required");
      const answer = await httpRequest({
        provider: NAME,
        url: config.url,
        method: "POST",
        headers: { "content-type": "application/json", "x-postpath-idempotency-key": req.idempotencyKey },
        body: JSON.stringify({
          text: req.text,
          ...(config.username === undefined ? {} : { username: config.username }),
          ...(config.channel === undefined ? {} : { channel: config.channel }),
        }),
        timeoutMs: config.timeoutMs,
        signal: opts?.signal,
        secrets,
      });
      return { providerMessageId: req.idempotencyKey, response: summarise(answer, secrets) };
    },
  };
}
