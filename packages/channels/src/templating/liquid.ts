// Liquid for message templates: strict filters (a typo in a filter name is an error), lenient
// variables (a missing variable renders empty), no file system (include/render only see registered
// partials), and parse/render/memory/output limits so one template cannot stall a worker. Errors
// become TemplateError naming the field ("subject", "body", …).
//
// The Liquid itself comes from `createLiquid` and the limits from `limits`: the engine passes
// @postpath/journey's `createLiquid` and `TEMPLATE_LIMITS.message`, the one configuration every
// template in Postpath is rendered with (steps, test runs, previews, messages). This package does
// not depend on @postpath/journey (no such dependency is declared), so without them it builds the
// same Liquid itself, with MESSAGE_LIMITS below (keep both in step with journey's templating.ts).
import { Liquid } from "liquidjs";
import type { Template } from "liquidjs";
import { qrCodeDataUrl } from "./qrcode.ts";

export class TemplateError extends Error {
  override readonly name = "TemplateError";
  constructor(
    /** Which template field failed: "subject", "body", "payload.order.id", … */
    readonly field: string,
    /** LiquidJS / MJML message, with line and column when known. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`template error in ${field}: ${detail}`, options);
  }
}

export type Escape = "html" | "none";

export interface RenderOptions {
  /** Field name used in errors. */
  field: string;
  /** "html" escapes every output (use `| raw` to opt out); default "none". */
  escape?: Escape;
}

/** What a Liquid factory is given (the shape of @postpath/journey's `createLiquid`). */
export interface LiquidFactoryOptions {
  escapeHtml?: boolean;
  partials?: Record<string, string>;
  timezone?: string | number;
  locale?: string;
  filters?: Record<string, (value: unknown, ...args: unknown[]) => unknown>;
}

/** What one rendering may spend (the shape of journey's `TemplateLimits`). */
export interface MessageLimits {
  /** Milliseconds of rendering per field (LiquidJS renderLimit). */
  renderLimit: number;
  /** LiquidJS memoryLimit: roughly the characters and list items ranges and filters create. */
  memoryLimit: number;
  /** Most characters one rendered field may have. */
  outputLimit: number;
}

export interface TemplateEngineOptions {
  /** Named snippets available to {% render 'name' %} / {% include 'name' %}. */
  partials?: Record<string, string>;
  /** Time zone for the date filter: IANA name ("Europe/Berlin") or minutes offset. Default: UTC. */
  timezone?: string | number;
  /** Locale for date names. */
  locale?: string;
  /** Makes the Liquid instances: pass @postpath/journey's `createLiquid`. */
  createLiquid?: (options: LiquidFactoryOptions) => Liquid;
  /** Pass @postpath/journey's `TEMPLATE_LIMITS.message`. */
  limits?: MessageLimits;
}

export interface TemplateEngine {
  render(source: string, vars: Record<string, unknown>, opts: RenderOptions): Promise<string>;
  /** Evaluates one Liquid expression (e.g. `order.total`) and returns the raw value. */
  evaluate(expression: string, vars: Record<string, unknown>, field: string): Promise<unknown>;
  /** Throws TemplateError when the source does not parse (syntax error, unknown filter/tag). */
  validate(source: string, field: string): void;
  /** Top-level paths the template reads from its variables, e.g. ["customer.first_name", "order"]. */
  variables(source: string, field: string): Promise<string[]>;
}

/**
 * journey's TEMPLATE_LIMITS.message, for an engine made without `limits`. LiquidJS's async
 * rendering of in-memory data does not yield to the event loop, so renderLimit is also the
 * longest one field can hold a worker's (and an in-process HTTP server's) event loop.
 */
export const MESSAGE_LIMITS: MessageLimits = {
  renderLimit: 500,
  memoryLimit: 20_000_000,
  outputLimit: 5_000_000,
};
/** Characters of template source (journey's TEMPLATE_LIMITS.parseLimit). */
const PARSE_LIMIT = 1_000_000;

function ownLiquid(o: LiquidFactoryOptions): Liquid {
  const liquid = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    // An in-memory map replaces the file system: include/render can reach registered partials only.
    templates: { ...(o.partials ?? {}) },
    cache: 500,
    timezoneOffset: o.timezone ?? 0,
    ...(o.locale === undefined ? {} : { locale: o.locale }),
    ...(o.escapeHtml ? { outputEscape: "escape" as const } : {}),
    parseLimit: PARSE_LIMIT,
    renderLimit: MESSAGE_LIMITS.renderLimit,
    memoryLimit: MESSAGE_LIMITS.memoryLimit,
  });
  for (const [name, filter] of Object.entries(o.filters ?? {})) liquid.registerFilter(name, filter);
  return liquid;
}

export function createTemplateEngine(options: TemplateEngineOptions = {}): TemplateEngine {
  const make = options.createLiquid ?? ownLiquid;
  const limits = options.limits ?? MESSAGE_LIMITS;
  const renderOptions = { renderLimit: limits.renderLimit, memoryLimit: limits.memoryLimit };
  const base: LiquidFactoryOptions = {
    ...(options.partials ? { partials: options.partials } : {}),
    ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
    ...(options.locale === undefined ? {} : { locale: options.locale }),
    filters: {
      qr_code: (value: unknown) =>
        typeof value === "string" && value.length > 0 ? qrCodeDataUrl(value) : "",
    },
  };
  const plain = make(base);
  const html = make({ ...base, escapeHtml: true });
  const toError = (field: string, err: unknown) => toTemplateError(field, err, limits);

  const parse = (engine: Liquid, source: string, field: string): Template[] => {
    try {
      return engine.parse(source);
    } catch (err) {
      throw toError(field, err);
    }
  };

  return {
    async render(source, vars, opts) {
      const engine = opts.escape === "html" ? html : plain;
      const templates = parse(engine, source, opts.field);
      let output: string;
      try {
        output = String(await engine.render(templates, vars, renderOptions));
      } catch (err) {
        throw toError(opts.field, err);
      }
      if (output.length > limits.outputLimit) throw toError(opts.field, new OutputTooLong());
      return output;
    },

    async evaluate(expression, vars, field) {
      try {
        return (await plain.evalValue(expression, vars)) as unknown;
      } catch (err) {
        throw toError(field, err);
      }
    },

    validate(source, field) {
      parse(plain, source, field);
    },

    async variables(source, field) {
      const templates = parse(plain, source, field);
      try {
        return await plain.globalFullVariables(templates);
      } catch (err) {
        throw toError(field, err);
      }
    },
  };
}

class OutputTooLong extends Error {}

/** The limit an error from LiquidJS reports, in a marketer's words, or null. */
function limitDetail(err: unknown, limits: MessageLimits): string | null {
  if (err instanceof OutputTooLong)
    return `produced too much text (over ${limits.outputLimit.toLocaleString("en")} characters)`;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (/template render limit exceeded/.test(e.message))
      return `took too long to render (over ${limits.renderLimit} ms); check its loops`;
    if (/memory alloc limit exceeded|Invalid string length|Invalid array length/.test(e.message))
      return "used too much memory while rendering; check its loops and ranges";
    if (/parse length limit exceeded/.test(e.message))
      return `is too long (over ${PARSE_LIMIT.toLocaleString("en")} characters)`;
    e = (e as { originalError?: unknown }).originalError ?? e.cause;
  }
  return null;
}

function toTemplateError(field: string, err: unknown, limits: MessageLimits): TemplateError {
  if (err instanceof TemplateError) return err;
  const message = limitDetail(err, limits) ?? (err instanceof Error ? err.message : String(err));
  return new TemplateError(field, message, { cause: err });
}

let defaultEngine: TemplateEngine | undefined;

/** The shared engine with no partials and UTC dates. */
export function defaultTemplateEngine(): TemplateEngine {
  defaultEngine ??= createTemplateEngine();
  return defaultEngine;
}

/** Renders one Liquid template with the default engine. */
export function renderTemplate(
  source: string,
  vars: Record<string, unknown>,
  opts: RenderOptions,
): Promise<string> {
  return defaultTemplateEngine().render(source, vars, opts);
}
