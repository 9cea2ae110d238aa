// E-mail over SMTP with nodemailer (pooled transport), plus a log transport for installs with no
// SMTP configured. Each message carries a Message-ID derived from the idempotency key and an
// X-Postpath-Idempotency-Key header, so a duplicate that slips through is recognisable downstream.
import { createHash, createPublicKey } from "node:crypto";
import nodemailer from "nodemailer";
import type { SMTPPoolOptions, SendMailOptions, Transporter } from "nodemailer";
import { z } from "zod";
import { redact } from "../http.ts";
import type { Provider, SendOptions, SendRequest, SendResult, VerifyResult } from "../types.ts";
import { ProviderError, assertIdempotencyKey, invalidRequest } from "../types.ts";
import { TemplateError } from "../templating/liquid.ts";
import { emailContent, withPreheader } from "../templating/render.ts";
import type { EmailFormat } from "../templating/render.ts";
import { nonEmpty } from "./common.ts";

export const IDEMPOTENCY_HEADER = "X-Postpath-Idempotency-Key";
const DEFAULT_LOG_FROM = "Postpath <no-reply@postpath.invalid>";

function isPublicKey(text: string): boolean {
  try {
    const t = text.trim();
    if (t.startsWith("-----BEGIN")) createPublicKey(t);
    else createPublicKey({ key: Buffer.from(t, "base64"), format: "der", type: "spki" });
    return true;
  } catch {
    return false;
  }
}

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "invalid header name");

export const SmtpEmailConfig = z
  .object({
    transport: z.literal("smtp").default("smtp"),
    /** Default sender, e.g. "Shop <hello@shop.example>". */
    from: z.string().min(1),
    /** smtp://user:pass@host:port or smtps://… — or give host/port/secure/auth instead. */
    url: z
      .string()
      .regex(/^smtps?:\/\//i, "must start with smtp:// or smtps://")
      .optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    /** true = implicit TLS (port 465); false = STARTTLS when offered. */
    secure: z.boolean().optional(),
    auth: z.object({ user: z.string().min(1), pass: z.string() }).optional(),
    requireTLS: z.boolean().optional(),
    ignoreTLS: z.boolean().optional(),
    /** Set false only for self-signed test servers. */
    tlsRejectUnauthorized: z.boolean().optional(),
    maxConnections: z.number().int().positive().max(50).default(5),
    /** Messages per second across the pool. */
    rateLimitPerSecond: z.number().int().positive().optional(),
    /** Right-hand side of generated Message-IDs; defaults to the domain of `from`. */
    messageIdDomain: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, "must be a domain name")
      .optional(),
    /** Deadline for one send (connect + deliver), default 30 s. */
    timeoutMs: z.number().int().positive().max(300_000).default(30_000),
    /**
     * issue 17: the verification key of SendGrid's Signed Event Webhook (base64 DER, as SendGrid
     * shows it, or PEM): delivery reports posted to /hooks/sendgrid/<workspace> must be signed
     * with its private key.
     */
    eventWebhookPublicKey: z
      .string()
      .max(4000)
      .refine(isPublicKey, "not a public key (copy the verification key from SendGrid)")
      .optional(),
  })
  .refine((c) => (c.url === undefined) !== (c.host === undefined), {
    message: "give either url or host (not both)",
    path: ["url"],
  });
export type SmtpEmailConfig = z.infer<typeof SmtpEmailConfig>;
export type SmtpEmailConfigInput = z.input<typeof SmtpEmailConfig>;

export const LogEmailConfig = z.object({
  transport: z.literal("log"),
  from: z.string().min(1).default(DEFAULT_LOG_FROM),
  messageIdDomain: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, "must be a domain name")
    .optional(),
});
export type LogEmailConfig = z.infer<typeof LogEmailConfig>;
export type LogEmailConfigInput = z.input<typeof LogEmailConfig>;

/** `{ transport: "smtp" (default) | "log", … }`. */
export const EmailConfig = z.preprocess(
  (v) =>
    v !== null && typeof v === "object" && !("transport" in v) ? { ...v, transport: "smtp" } : v,
  z.discriminatedUnion("transport", [SmtpEmailConfig, LogEmailConfig]),
);
export type EmailConfig = z.infer<typeof EmailConfig>;

export interface EmailRequest extends SendRequest {
  to: string;
  subject: string;
  text?: string;
  html?: string;
  /**
   * Instead of text/html: a Liquid-rendered body in `format` (what a journey's email step stores).
   * MJML is compiled and a plain-text part derived; invalid MJML fails without retry.
   */
  body?: string;
  format?: EmailFormat;
  /** Inbox preview text, inserted hidden at the top of the HTML. */
  preheader?: string;
  /** Overrides the configured sender. */
  from?: string;
  /** Display name for the configured sender address ("Shop Support"). */
  fromName?: string;
  replyTo?: string;
  /** Extra headers (e.g. List-Unsubscribe). Message-ID and the idempotency header are fixed. */
  headers?: Record<string, string>;
  /** issue 16: the recipient's unsubscribe link (see `EmailUnsubscribe`). */
  unsubscribe?: EmailUnsubscribe;
}

/**
 * issue 16: what `{{ unsubscribe_url }}` renders to when a journey's email is rendered; the
 * provider puts the recipient's own link in its place when the message is sent. A URL in a
 * reserved domain (never resolvable), made of characters no escaping or MJML changes.
 */
export const UNSUBSCRIBE_URL_PLACEHOLDER = "https://unsubscribe.postpath.invalid/u/your-link";

/** issue 16: the recipient's unsubscribe link, given by the engine at send time. */
export interface EmailUnsubscribe {
  /** The hosted page (`https://…/u/<signed token>`); the same URL takes RFC 8058 one-click POSTs. */
  url: string;
  /**
   * A marketing message: each part (HTML, text) that does not show the link gets a footer with it,
   * and the message carries `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
   * (RFC 8058). Transactional: the link only where the body asks for `{{ unsubscribe_url }}`.
   */
  marketing: boolean;
}

export interface EmailResponse {
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** Last SMTP reply, e.g. "250 2.0.0 Ok: queued as 4F2D". */
  smtpResponse: string | null;
}

/** A deterministic RFC 5322 Message-ID for an idempotency key: "<pp.<32 hex>@domain>". */
export function messageIdForKey(idempotencyKey: string, domain: string): string {
  const digest = createHash("sha256").update(idempotencyKey, "utf8").digest("hex").slice(0, 32);
  return `<pp.${digest}@${domain}>`;
}

function domainOf(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return match?.[1] ?? "postpath.invalid";
}

const SMTP_NAME = "email (smtp)";
const LOG_NAME = "email (log)";

/** Pooled SMTP sender. Call close() on shutdown to release connections. */
export function createEmailProvider(input: SmtpEmailConfigInput): Provider<EmailRequest> {
  const config = SmtpEmailConfig.parse(input);
  const domain = config.messageIdDomain ?? domainOf(config.from);
  const secrets = [config.auth?.pass ?? "", passwordInUrl(config.url)].filter((s) => s.length > 0);

  const options: SMTPPoolOptions & { pool: true } = {
    pool: true,
    maxConnections: config.maxConnections,
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    ...(config.url === undefined ? {} : { url: config.url }),
    ...(config.host === undefined ? {} : { host: config.host }),
    ...(config.port === undefined ? {} : { port: config.port }),
    ...(config.secure === undefined ? {} : { secure: config.secure }),
    ...(config.auth === undefined
      ? {}
      : { auth: { user: config.auth.user, pass: config.auth.pass } }),
    ...(config.requireTLS === undefined ? {} : { requireTLS: config.requireTLS }),
    ...(config.ignoreTLS === undefined ? {} : { ignoreTLS: config.ignoreTLS }),
    ...(config.tlsRejectUnauthorized === undefined
      ? {}
      : { tls: { rejectUnauthorized: config.tlsRejectUnauthorized } }),
    ...(config.rateLimitPerSecond === undefined
      ? {}
      : { rateLimit: config.rateLimitPerSecond, rateDelta: 1000 }),
  };
  const transporter = nodemailer.createTransport(options);
  // Errors surface through sendMail()/verify(); never let a stray 'error' event crash the worker.
  transporter.on("error", () => undefined);

  return {
    channel: "email",
    name: SMTP_NAME,

    async send(req: EmailRequest, opts?: SendOptions): Promise<SendResult> {
      const message = await buildMessage(SMTP_NAME, req, config.from, domain);
      const deadline = AbortSignal.timeout(config.timeoutMs);
      const signal = opts?.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
      try {
        const info = await transporter.sendMail({ ...message, signal });
        const response: EmailResponse = {
          messageId: info.messageId,
          accepted: addresses(info.accepted),
          rejected: addresses(info.rejected),
          smtpResponse: typeof info.response === "string" ? info.response : null,
        };
        return { providerMessageId: info.messageId, response };
      } catch (err) {
        if (opts?.signal?.aborted) {
          throw new ProviderError(`${SMTP_NAME}: send aborted`, { retryable: true, cause: err });
        }
        if (deadline.aborted) {
          throw new ProviderError(`${SMTP_NAME}: timed out after ${config.timeoutMs} ms`, {
            retryable: true,
            cause: err,
          });
        }
        throw smtpError(err, secrets);
      }
    },

    async verify(): Promise<VerifyResult> {
      try {
        await transporter.verify();
        return { ok: true, detail: "SMTP server accepted the connection and credentials" };
      } catch (err) {
        return { ok: false, detail: smtpError(err, secrets).message };
      }
    },

    close(): Promise<void> {
      transporter.close();
      return Promise.resolve();
    },
  };
}

/**
 * Renders messages with nodemailer's JSON transport instead of sending them: the response is the
 * rendered message (from, to, subject, text, html, headers, messageId). The default when no SMTP
 * server is configured, so journeys still run end to end on a fresh install.
 */
export function createLogEmailProvider(
  input: Partial<LogEmailConfigInput> = {},
): Provider<EmailRequest> {
  const config = LogEmailConfig.parse({ ...input, transport: "log" });
  const domain = config.messageIdDomain ?? domainOf(config.from);
  const transporter: Transporter = nodemailer.createTransport({ jsonTransport: true });

  return {
    channel: "email",
    name: LOG_NAME,

    async send(req: EmailRequest, opts?: SendOptions): Promise<SendResult> {
      const message = await buildMessage(LOG_NAME, req, config.from, domain);
      if (opts?.signal?.aborted)
        throw new ProviderError(`${LOG_NAME}: send aborted`, { retryable: true });
      const info = await transporter.sendMail(message);
      const rendered =
        typeof info.message === "string" ? (JSON.parse(info.message) as unknown) : null;
      return { providerMessageId: info.messageId, response: rendered };
    },

    verify(): Promise<VerifyResult> {
      return Promise.resolve({
        ok: true,
        detail: "log transport: messages are rendered, not delivered",
      });
    },

    close(): Promise<void> {
      transporter.close();
      return Promise.resolve();
    },
  };
}

async function buildMessage(
  provider: string,
  req: EmailRequest,
  defaultFrom: string,
  domain: string,
): Promise<SendMailOptions> {
  assertIdempotencyKey(provider, req.idempotencyKey);
  if (!nonEmpty(req.to)) throw invalidRequest(provider, "`to` is required");
  if (typeof req.subject !== "string") throw invalidRequest(provider, "`subject` is required");
  const extra: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (!HeaderName.safeParse(name).success || /[\r\n]/.test(value)) {
      throw invalidRequest(provider, `invalid header ${JSON.stringify(name)}`);
    }
    const lower = name.toLowerCase();
    if (lower === "message-id" || lower === IDEMPOTENCY_HEADER.toLowerCase()) continue;
    extra[name] = value;
  }
  const parts = await content(provider, req);
  const { text, html } = req.unsubscribe
    ? withUnsubscribe(provider, parts, req.unsubscribe)
    : parts;
  if (req.unsubscribe?.marketing) {
    extra["List-Unsubscribe"] = `<${req.unsubscribe.url}>`;
    extra["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
  }
  return {
    from:
      req.from ??
      (nonEmpty(req.fromName)
        ? { name: req.fromName, address: addressOf(defaultFrom) }
        : defaultFrom),
    to: req.to,
    subject: req.subject.replace(/[\r\n]+/g, " "),
    ...(text === undefined ? {} : { text }),
    ...(html === undefined ? {} : { html }),
    ...(req.replyTo === undefined ? {} : { replyTo: req.replyTo }),
    messageId: messageIdForKey(req.idempotencyKey, domain),
    headers: { ...extra, [IDEMPOTENCY_HEADER]: req.idempotencyKey },
    // Content comes from templates: never let it make the mailer read files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    // data: images (QR codes) become inline CID attachments, which mail clients display.
    attachDataUrls: true,
  };
}

/** text/html as given, or derived from a rendered `body` in its `format`. */
async function content(
  provider: string,
  req: EmailRequest,
): Promise<{ text?: string; html?: string }> {
  if (nonEmpty(req.text) || nonEmpty(req.html)) {
    const html =
      nonEmpty(req.html) && nonEmpty(req.preheader)
        ? withPreheader(req.html, req.preheader)
        : req.html;
    return {
      ...(nonEmpty(req.text) ? { text: req.text } : {}),
      ...(nonEmpty(html) ? { html } : {}),
    };
  }
  if (!nonEmpty(req.body)) throw invalidRequest(provider, "`text`, `html` or `body` is required");
  try {
    return await emailContent({
      body: req.body,
      format: req.format ?? "html",
      ...(nonEmpty(req.preheader) ? { preheader: req.preheader } : {}),
    });
  } catch (err) {
    if (err instanceof TemplateError) throw invalidRequest(provider, err.message);
    throw err;
  }
}

const UNSUBSCRIBE_URL = /^https?:\/\/[^\s<>"'`\\]+$/;

/**
 * issue 16: the recipient's link in place of `{{ unsubscribe_url }}`; for marketing, a footer with
 * it on each part that does not show it. The link is marked so that click tracking leaves it
 * alone (an unsubscribe link is never rewritten through a redirect).
 */
export function withUnsubscribe(
  provider: string,
  parts: { text?: string; html?: string },
  unsubscribe: EmailUnsubscribe,
): { text?: string; html?: string } {
  const { url, marketing } = unsubscribe;
  if (!UNSUBSCRIBE_URL.test(url) || url.length > 2000)
    throw invalidRequest(provider, "the unsubscribe link is not an http(s) URL");
  const put = (part: string) => part.split(UNSUBSCRIBE_URL_PLACEHOLDER).join(url);
  const out: { text?: string; html?: string } = {};
  if (parts.html !== undefined) {
    let html = put(parts.html);
    if (marketing && !parts.html.includes(UNSUBSCRIBE_URL_PLACEHOLDER)) {
      const footer =
        `<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#6b7280;text-align:center">` +
        `Don't want these emails? <a href="${url}" data-postpath-unsubscribe="1" style="color:#6b7280">Unsubscribe</a></p>`;
      const end = html.toLowerCase().lastIndexOf("</body>");
      html = end >= 0 ? `${html.slice(0, end)}${footer}${html.slice(end)}` : `${html}${footer}`;
    }
    out.html = html;
  }
  if (parts.text !== undefined) {
    let text = put(parts.text);
    if (marketing && !parts.text.includes(UNSUBSCRIBE_URL_PLACEHOLDER))
      text = `${text.replace(/\s+$/, "")}\n\n--\nDon't want these emails? Unsubscribe: ${url}\n`;
    out.text = text;
  }
  return out;
}

/** "Shop <hello@shop.example>" → "hello@shop.example". */
function addressOf(from: string): string {
  return /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim();
}

/** nodemailer error codes that no retry fixes. */
const PERMANENT_CODES = new Set([
  "EAUTH",
  "ENOAUTH",
  "ECONFIG",
  "EENVELOPE",
  "EMAXRECIPIENTS",
  "EOTP",
  "EFILEACCESS",
  "EURLACCESS",
  "EREQUIRETLS",
]);

interface SmtpFailure {
  code?: unknown;
  responseCode?: unknown;
  permanent?: unknown;
  response?: unknown;
  message?: unknown;
}

function smtpError(err: unknown, secrets: readonly string[]): ProviderError {
  const e = (err !== null && typeof err === "object" ? err : {}) as SmtpFailure;
  const code = typeof e.code === "string" ? e.code : undefined;
  const responseCode = typeof e.responseCode === "number" ? e.responseCode : undefined;
  let retryable: boolean;
  if (typeof e.permanent === "boolean") retryable = !e.permanent;
  else if (responseCode !== undefined) retryable = !(responseCode >= 500 && responseCode !== 503);
  else retryable = code === undefined || !PERMANENT_CODES.has(code);

  const detail = redact(typeof e.message === "string" ? e.message : String(err), secrets);
  const response =
    responseCode !== undefined || code !== undefined
      ? redact(
          {
            code: code ?? null,
            responseCode: responseCode ?? null,
            smtpResponse: typeof e.response === "string" ? e.response.slice(0, 500) : null,
          },
          secrets,
        )
      : undefined;
  return new ProviderError(`${SMTP_NAME}: ${detail}`, {
    retryable,
    ...(responseCode === undefined ? {} : { status: responseCode }),
    ...(response === undefined ? {} : { response }),
    cause: err,
  });
}

function passwordInUrl(url: string | undefined): string {
  if (url === undefined) return "";
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}

function addresses(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return (list as unknown[]).map((a) =>
    typeof a === "string"
      ? a
      : typeof a === "object" && a !== null && "address" in a
        ? String(a.address)
        : "",
  );
}
