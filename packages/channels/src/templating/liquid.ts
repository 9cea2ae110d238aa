// LiquidJS set up for marketer-written templates: strict filters (a typo in a filter name is an
// error), lenient variables (a missing variable renders empty), no file system (include/render
// only see registered partials), and parse/render/memory limits so one template cannot stall a
// worker. Errors become TemplateError naming the field ("subject", "body", …).
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

export interface TemplateEngineOptions {
  /** Named snippets available to {% render 'name' %} / {% include 'name' %}. */
  partials?: Record<string, string>;
  /** Time zone for the date filter: IANA name ("Europe/Berlin") or minutes offset. Default: UTC. */
  timezone?: string | number;
  /** Locale for date names. */
  locale?: string;
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

const LIMITS = {
  /** Template source size. */
  parseLimit: 1_000_000,
  /** Milliseconds of rendering work per template. */
  renderLimit: 2_000,
  /** Rough bytes allocated by loops/strings while rendering. */
  memoryLimit: 20_000_000,
} as const;

export function createTemplateEngine(options: TemplateEngineOptions = {}): TemplateEngine {
  const base = {
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    // An in-memory map replaces the file system: include/render can reach registered partials only.
    templates: { ...(options.partials ?? {}) },
    cache: 500,
    timezoneOffset: options.timezone ?? 0,
    ...(options.locale === undefined ? {} : { locale: options.locale }),
    ...LIMITS,
  };
  const plain = new Liquid(base);
  const html = new Liquid({ ...base, outputEscape: "escape" });
  for (const engine of [plain, html]) {
    engine.registerFilter("qr_code", (value: unknown) =>
      typeof value === "string" && value.length > 0 ? qrCodeDataUrl(value) : "",
    );
  }

  const parse = (engine: Liquid, source: string, field: string): Template[] => {
    try {
      return engine.parse(source);
    } catch (err) {
      throw toTemplateError(field, err);
    }
  };

  return {
    async render(source, vars, opts) {
      const engine = opts.escape === "html" ? html : plain;
      const templates = parse(engine, source, opts.field);
      try {
        return String(await engine.render(templates, vars));
      } catch (err) {
        throw toTemplateError(opts.field, err);
      }
    },

    async evaluate(expression, vars, field) {
      try {
        return (await plain.evalValue(expression, vars)) as unknown;
      } catch (err) {
        throw toTemplateError(field, err);
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
        throw toTemplateError(field, err);
      }
    },
  };
}

function toTemplateError(field: string, err: unknown): TemplateError {
  if (err instanceof TemplateError) return err;
  const message = err instanceof Error ? err.message : String(err);
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
