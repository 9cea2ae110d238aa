// SMS over an HTTP API in the shape of Twilio's Messages API:
//   POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json
//   form-encoded To, From | MessagingServiceSid, Body; basic auth AccountSid:AuthToken;
//   I-Twilio-Idempotency-Token: <idempotency key>; answers JSON with `sid`.
import { z } from "zod";
import { basicAuth, httpRequest } from "../http.ts";
import type { Provider, SendOptions, SendRequest, SendResult, VerifyResult } from "../types.ts";
import { ProviderError, assertIdempotencyKey, invalidRequest } from "../types.ts";
import { HttpUrl, TimeoutMs, asRecord, nonEmpty, stringOrNull, trimSlash } from "./common.ts";

export const SmsConfig = z
  .object({
    accountSid: z.string().min(1),
    authToken: z.string().min(1),
    /** Sender phone number (E.164) or alphanumeric sender id. */
    from: z.string().min(1).optional(),
    /** Alternative to `from`: let a Twilio Messaging Service pick the sender. */
    messagingServiceSid: z.string().min(1).optional(),
    baseUrl: HttpUrl.default("https://api.twilio.com"),
    /** Where the SMS provider posts delivery status updates. */
    statusCallbackUrl: HttpUrl.optional(),
    timeoutMs: TimeoutMs,
  })
  .refine((c) => c.from !== undefined || c.messagingServiceSid !== undefined, {
    message: "either from or messagingServiceSid is required",
    path: ["from"],
  });
export type SmsConfig = z.infer<typeof SmsConfig>;
export type SmsConfigInput = z.input<typeof SmsConfig>;

export interface SmsRequest extends SendRequest {
  /** Recipient phone number, E.164. */
  to: string;
  body: string;
  /** Overrides the configured sender for this message. */
  from?: string;
  /** MMS media URLs. */
  mediaUrls?: string[];
}

export interface SmsResponse {
  sid: string;
  status: string | null;
  numSegments: string | null;
  to: string | null;
}

const NAME = "sms (twilio)";

export function createSmsProvider(input: SmsConfigInput): Provider<SmsRequest> {
  const config = SmsConfig.parse(input);
  const base = `${trimSlash(config.baseUrl)}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}`;
  const auth = basicAuth(config.accountSid, config.authToken);
  const secrets = [config.authToken, auth];

  return {
    channel: "sms",
    name: NAME,

    async send(req: SmsRequest, opts?: SendOptions): Promise<SendResult> {
      assertIdempotencyKey(NAME, req.idempotencyKey);
      if (!nonEmpty(req.to)) throw invalidRequest(NAME, "`to` is required");
      if (!nonEmpty(req.body)) throw invalidRequest(NAME, "`body` is required");

      const form = new URLSearchParams();
      form.set("To", req.to);
      const from = req.from ?? config.from;
      if (from !== undefined) form.set("From", from);
      else if (config.messagingServiceSid !== undefined)
        form.set("MessagingServiceSid", config.messagingServiceSid);
      form.set("Body", req.body);
      if (config.statusCallbackUrl !== undefined)
        form.set("StatusCallback", config.statusCallbackUrl);
      for (const media of req.mediaUrls ?? []) form.append("MediaUrl", media);

      const answer = await httpRequest({
        provider: NAME,
        url: `${base}/Messages.json`,
        method: "POST",
        headers: {
          authorization: auth,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "i-twilio-idempotency-token": req.idempotencyKey,
        },
        body: form.toString(),
        timeoutMs: config.timeoutMs,
        signal: opts?.signal,
        outbound: opts?.outbound,
        secrets,
      });
      const json = asRecord(answer.json);
      const sid = json?.sid;
      if (typeof sid !== "string" || sid.length === 0) {
        // 2xx without a message id: the message may or may not exist; do not blindly resend.
        throw new ProviderError(`${NAME}: HTTP ${answer.status} without a message sid`, {
          retryable: false,
          status: answer.status,
        });
      }
      const response: SmsResponse = {
        sid,
        status: stringOrNull(json?.status),
        numSegments: stringOrNull(json?.num_segments),
        to: stringOrNull(json?.to),
      };
      return { providerMessageId: sid, response };
    },

    async verify(opts?: Pick<SendOptions, "outbound">): Promise<VerifyResult> {
      try {
        const answer = await httpRequest({
          provider: NAME,
          url: `${base}.json`,
          method: "GET",
          headers: { authorization: auth, accept: "application/json" },
          timeoutMs: config.timeoutMs,
          secrets,
          outbound: opts?.outbound,
        });
        const json = asRecord(answer.json);
        const label = stringOrNull(json?.friendly_name) ?? config.accountSid;
        const status = stringOrNull(json?.status);
        return { ok: true, detail: `account ${label}${status ? ` is ${status}` : ""}` };
      } catch (err) {
        return { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
