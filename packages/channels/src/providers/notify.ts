// Internal notification (to staff, not customers): a Slack-compatible incoming webhook
// (POST JSON { text }, the service answers "ok"), or — `via: "email"` — an e-mail through the
// e-mail provider it is given. Webhook URLs are credentials: they never appear in errors.
import { z } from "zod";
import { httpRequest, summarise } from "../http.ts";
import type { Provider, SendOptions, SendRequest, SendResult } from "../types.ts";
import { assertIdempotencyKey, invalidRequest } from "../types.ts";
import type { EmailRequest } from "./email.ts";
import { HttpUrl, TimeoutMs, nonEmpty } from "./common.ts";

export const NotifyConfig = z.object({
  /** Default incoming-webhook URL (Slack, Mattermost, Rocket.Chat, …); a request may carry its own. */
  url: HttpUrl.optional(),
  /** Optional username / channel overrides understood by Slack-compatible services. */
  username: z.string().min(1).optional(),
  channel: z.string().min(1).optional(),
  /** Subject of notifications sent by e-mail when the request has none. */
  emailSubject: z.string().min(1).default("Postpath notification"),
  timeoutMs: TimeoutMs,
});
export type NotifyConfig = z.infer<typeof NotifyConfig>;
export type NotifyConfigInput = z.input<typeof NotifyConfig>;

export interface NotifyRequest extends SendRequest {
  /** The notification text (`message` is accepted as an alias: the journey step's field name). */
  text?: string;
  message?: string;
  /** "slack" (default): the incoming webhook; "email": `to` gets an e-mail. */
  via?: "slack" | "email";
  /** Incoming-webhook URL for this notification (`webhookUrl` alias); default the configured one. */
  url?: string;
  webhookUrl?: string;
  /** E-mail subject when via = "email". */
  subject?: string;
}

export interface NotifyDependencies {
  /** Delivers `via: "email"` notifications. */
  email?: Provider<EmailRequest>;
}

const NAME = "notify (slack webhook)";

export function createNotifyProvider(
  input: NotifyConfigInput,
  deps: NotifyDependencies = {},
): Provider<NotifyRequest> {
  const config = NotifyConfig.parse(input);

  return {
    channel: "notify",
    name: NAME,

    async send(req: NotifyRequest, opts?: SendOptions): Promise<SendResult> {
      assertIdempotencyKey(NAME, req.idempotencyKey);
      const text = nonEmpty(req.text) ? req.text : req.message;
      if (!nonEmpty(text)) throw invalidRequest(NAME, "`text` is required");

      if (req.via === "email") {
        if (!deps.email)
          throw invalidRequest(
            "notify (email)",
            "no e-mail provider is configured for notifications",
          );
        if (!nonEmpty(req.to)) throw invalidRequest("notify (email)", "`to` is required");
        return deps.email.send(
          {
            idempotencyKey: req.idempotencyKey,
            to: req.to,
            subject: nonEmpty(req.subject) ? req.subject : config.emailSubject,
            text,
          },
          opts,
        );
      }

      const url = [req.url, req.webhookUrl, config.url].find(nonEmpty);
      if (url === undefined)
        throw invalidRequest(NAME, "no webhook URL in the request or the config");
      const parsed = HttpUrl.safeParse(url);
      if (!parsed.success)
        throw invalidRequest(NAME, "the webhook URL must be http(s) without credentials");
      const path = new URL(parsed.data).pathname;
      const secrets = path.length > 1 ? [parsed.data, path] : [parsed.data];

      const answer = await httpRequest({
        provider: NAME,
        url: parsed.data,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-postpath-idempotency-key": req.idempotencyKey,
        },
        body: JSON.stringify({
          text,
          ...(config.username === undefined ? {} : { username: config.username }),
          ...(config.channel === undefined ? {} : { channel: config.channel }),
        }),
        timeoutMs: config.timeoutMs,
        signal: opts?.signal,
        outbound: opts?.outbound,
        secrets,
      });
      return { providerMessageId: req.idempotencyKey, response: summarise(answer, secrets) };
    },
  };
}
