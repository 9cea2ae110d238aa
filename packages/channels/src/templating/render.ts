// Turns a channel step's content + the customer's variables into the fields a provider sends.
// Bodies meant for HTML (format "html" | "mjml") escape every output by default (`| raw` opts
// out), so a customer attribute cannot inject markup into a brand's e-mail.
import { convert } from "html-to-text";
import mjml2html from "mjml";
import type { Channel } from "../types.ts";
import { TemplateError, defaultTemplateEngine } from "./liquid.ts";
import type { TemplateEngine } from "./liquid.ts";

export type EmailFormat = "text" | "html" | "mjml";

export interface EmailTemplate {
  channel: "email";
  subject: string;
  format: EmailFormat;
  body: string;
  /** Explicit plain-text alternative; when absent it is derived from the HTML. */
  text?: string;
  /** Inbox preview text (HTML formats). */
  preheader?: string;
}
export interface SmsTemplate {
  channel: "sms";
  body: string;
}
export interface PushTemplate {
  channel: "push";
  title: string;
  body: string;
  /** String values are Liquid templates. */
  data?: Record<string, unknown>;
}
export interface WebhookTemplate {
  channel: "webhook";
  /**
   * Any JSON value; every string inside is a Liquid template. A string that is exactly one
   * output of a variable path (`"{{ order.total }}"`) keeps the variable's JSON type.
   */
  payload: unknown;
}
export interface NotifyTemplate {
  channel: "notify";
  text: string;
}
export type MessageTemplate =
  EmailTemplate | SmsTemplate | PushTemplate | WebhookTemplate | NotifyTemplate;

export interface RenderedEmail {
  subject: string;
  text: string;
  html?: string;
}
export interface RenderedSms {
  body: string;
}
export interface RenderedPush {
  title: string;
  body: string;
  data: Record<string, unknown>;
}
export interface RenderedWebhook {
  payload: unknown;
}
export interface RenderedNotify {
  text: string;
}

export interface RenderedByChannel {
  email: RenderedEmail;
  sms: RenderedSms;
  push: RenderedPush;
  webhook: RenderedWebhook;
  notify: RenderedNotify;
}
export type RenderedMessage<T extends MessageTemplate> = RenderedByChannel[T["channel"]];

export type TemplateVars = Record<string, unknown>;

/** Renders every field of a message template. Throws TemplateError naming the failing field. */
export async function renderMessage<T extends MessageTemplate>(
  template: T,
  vars: TemplateVars,
  engine: TemplateEngine = defaultTemplateEngine(),
): Promise<RenderedMessage<T>> {
  const rendered = await renderAny(template, vars, engine);
  return rendered as RenderedMessage<T>;
}

async function renderAny(
  template: MessageTemplate,
  vars: TemplateVars,
  engine: TemplateEngine,
): Promise<RenderedByChannel[Channel]> {
  switch (template.channel) {
    case "email":
      return renderEmail(template, vars, engine);
    case "sms":
      return { body: await engine.render(template.body, vars, { field: "body" }) };
    case "push": {
      const [title, body, data] = await Promise.all([
        engine.render(template.title, vars, { field: "title" }),
        engine.render(template.body, vars, { field: "body" }),
        renderJson(template.data ?? {}, vars, engine, "data"),
      ]);
      return { title, body, data: data as Record<string, unknown> };
    }
    case "webhook":
      return { payload: await renderJson(template.payload, vars, engine, "payload") };
    case "notify":
      return { text: await engine.render(template.text, vars, { field: "text" }) };
  }
}

export async function renderEmail(
  template: Omit<EmailTemplate, "channel">,
  vars: TemplateVars,
  engine: TemplateEngine = defaultTemplateEngine(),
): Promise<RenderedEmail> {
  const subject = (await engine.render(template.subject, vars, { field: "subject" }))
    .replace(/[\r\n]+/g, " ")
    .trim();
  const explicitText =
    template.text === undefined
      ? undefined
      : await engine.render(template.text, vars, { field: "text" });

  const body = await engine.render(template.body, vars, {
    field: "body",
    ...(template.format === "text" ? {} : { escape: "html" as const }),
  });
  const preheader =
    template.preheader === undefined
      ? undefined
      : await engine.render(template.preheader, vars, { field: "preheader" });
  const content = await emailContent({
    body,
    format: template.format,
    ...(explicitText === undefined ? {} : { text: explicitText }),
    ...(preheader ? { preheader } : {}),
  });
  return { subject, ...content };
}

export interface EmailContentInput {
  /** Body after Liquid rendering. */
  body: string;
  format: EmailFormat;
  /** Explicit plain-text alternative. */
  text?: string;
  /** Inbox preview text, placed hidden at the top of the HTML body. */
  preheader?: string;
}

/**
 * Turns an already-rendered body into the parts a mail carries: MJML is compiled, HTML gets a
 * derived plain-text version, a preheader is inserted as hidden text. Throws TemplateError for
 * invalid MJML.
 */
export async function emailContent(
  input: EmailContentInput,
): Promise<{ text: string; html?: string }> {
  switch (input.format) {
    case "text":
      return { text: input.text ?? input.body };
    case "html":
    case "mjml": {
      const compiled = input.format === "mjml" ? await mjmlToHtml(input.body, "body") : input.body;
      const html = input.preheader ? withPreheader(compiled, input.preheader) : compiled;
      return { html, text: input.text ?? htmlToText(compiled) };
    }
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inserts the preheader right after <body …> (or at the start), hidden from the rendered mail. */
export function withPreheader(html: string, preheader: string): string {
  const span = `<div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all">${escapeHtml(preheader)}</div>`;
  const body = /<body[^>]*>/i.exec(html);
  if (!body) return span + html;
  const at = body.index + body[0].length;
  return html.slice(0, at) + span + html.slice(at);
}

/** MJML → responsive HTML. Invalid MJML throws TemplateError (never sends half a layout). */
export async function mjmlToHtml(source: string, field = "body"): Promise<string> {
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await mjml2html(source, {
      validationLevel: "strict",
      keepComments: false,
      // mj-include would read files from the server: templates never get that.
      ignoreIncludes: true,
    });
  } catch (err) {
    throw new TemplateError(field, mjmlMessage(err), { cause: err });
  }
  if (result.errors.length > 0) {
    throw new TemplateError(
      field,
      result.errors.map((e) => `line ${e.line}: ${e.message}`).join("; "),
    );
  }
  return result.html;
}

/** A readable plain-text version of an HTML e-mail (links as "text [url]", images dropped). */
export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: "img", format: "skip" },
      { selector: "a", options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
      { selector: "h1", options: { uppercase: false } },
      { selector: "h2", options: { uppercase: false } },
      { selector: "h3", options: { uppercase: false } },
      { selector: "table", format: "dataTable" },
    ],
  })
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

const SINGLE_OUTPUT = /^\{\{-?\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*)\s*-?\}\}$/;

async function renderJson(
  value: unknown,
  vars: TemplateVars,
  engine: TemplateEngine,
  field: string,
): Promise<unknown> {
  if (typeof value === "string") {
    const single = SINGLE_OUTPUT.exec(value);
    if (single?.[1] !== undefined) {
      const raw = await engine.evaluate(single[1], vars, field);
      return toJsonValue(raw);
    }
    return engine.render(value, vars, { field });
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((item, i) => renderJson(item, vars, engine, `${field}[${i}]`)));
  }
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(
        async ([k, v]) => [k, await renderJson(v, vars, engine, `${field}.${k}`)] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** undefined → null; Dates → ISO strings; everything else through a JSON round trip. */
function toJsonValue(raw: unknown): unknown {
  if (raw === undefined) return null;
  return JSON.parse(JSON.stringify(raw) ?? "null") as unknown;
}

function mjmlMessage(err: unknown): string {
  if (err !== null && typeof err === "object" && "errors" in err && Array.isArray(err.errors)) {
    const details = (err.errors as { line?: unknown; message?: unknown }[])
      .map((e) => `line ${String(e.line)}: ${String(e.message)}`)
      .join("; ");
    if (details) return details;
  }
  return err instanceof Error ? err.message : String(err);
}

export interface TemplateIssue {
  field: string;
  message: string;
}

/** Every Liquid source of a template with its field name. */
function sources(template: MessageTemplate): { field: string; source: string }[] {
  switch (template.channel) {
    case "email":
      return [
        { field: "subject", source: template.subject },
        { field: "body", source: template.body },
        ...(template.text === undefined ? [] : [{ field: "text", source: template.text }]),
        ...(template.preheader === undefined
          ? []
          : [{ field: "preheader", source: template.preheader }]),
      ];
    case "sms":
      return [{ field: "body", source: template.body }];
    case "push":
      return [
        { field: "title", source: template.title },
        { field: "body", source: template.body },
        ...jsonSources(template.data ?? {}, "data"),
      ];
    case "webhook":
      return jsonSources(template.payload, "payload");
    case "notify":
      return [{ field: "text", source: template.text }];
  }
}

function jsonSources(value: unknown, field: string): { field: string; source: string }[] {
  if (typeof value === "string") return [{ field, source: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => jsonSources(v, `${field}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => jsonSources(v, `${field}.${k}`));
  }
  return [];
}

/**
 * Problems a publish should refuse: Liquid syntax errors and unknown filters in any field, and
 * invalid MJML (checked with every variable empty). An empty list means the template is sound.
 */
export async function validateMessageTemplate(
  template: MessageTemplate,
  engine: TemplateEngine = defaultTemplateEngine(),
): Promise<TemplateIssue[]> {
  const issues: TemplateIssue[] = [];
  for (const { field, source } of sources(template)) {
    try {
      engine.validate(source, field);
    } catch (err) {
      issues.push(issueOf(err, field));
    }
  }
  if (issues.length === 0 && template.channel === "email" && template.format === "mjml") {
    try {
      await mjmlToHtml(
        await engine.render(template.body, {}, { field: "body", escape: "html" }),
        "body",
      );
    } catch (err) {
      issues.push(issueOf(err, "body"));
    }
  }
  return issues;
}

/** Variable paths the template reads (e.g. "customer.first_name"), deduplicated and sorted. */
export async function messageTemplateVariables(
  template: MessageTemplate,
  engine: TemplateEngine = defaultTemplateEngine(),
): Promise<string[]> {
  const all = await Promise.all(
    sources(template).map(({ field, source }) => engine.variables(source, field)),
  );
  return [...new Set(all.flat())].sort();
}

function issueOf(err: unknown, field: string): TemplateIssue {
  if (err instanceof TemplateError) return { field: err.field, message: err.detail };
  return { field, message: err instanceof Error ? err.message : String(err) };
}
