// Liquid templates: the one place LiquidJS is configured (options and limits), synchronous
// rendering for steps, test runs and previews, and the static analysis validation uses. The
// channels package renders messages with a Liquid from `createLiquid` too (see its README).
import {
  ForTag,
  Liquid,
  TablerowTag,
  TypeGuards,
  toValueSync,
  type LiquidOptions,
  type Template,
} from "liquidjs";
import { evaluateConditionsWith, walkPath, type Condition, type MatchMode } from "./conditions.ts";
import type { CustomerSnapshot, RunState } from "./state.ts";

/** What one rendering may spend. LiquidJS enforces the first two while it renders. */
export type TemplateLimits = {
  /** Milliseconds of rendering (LiquidJS `renderLimit`, checked before every block and loop turn). */
  renderLimit: number;
  /** LiquidJS `memoryLimit`: roughly the characters and list items that ranges and filters create. */
  memoryLimit: number;
  /** Most characters the result may have (checked on the result, before it is used). */
  outputLimit: number;
};

/**
 * The limits of every template Postpath renders. A template over one fails with a TemplateError
 * whose `limit` says which, instead of stalling the process that renders it.
 *
 * - `parseLimit`: characters of template source (per template, when it is parsed).
 * A template without loops renders without the time limit (see isLoopFree): its work is bounded
 * by its length and memoryLimit, and renderLimit is wall-clock time, which a machine short of CPU
 * could spend before `{{ first_name }}` is done.
 *
 * - `step`: the values of attribute-update and personal-URL steps. They render synchronously inside
 *   `advance()`, on the worker's event loop (which is the HTTP server's when the worker runs in
 *   it), so the budget is small: 50 ms for all the templates of one step together. A real step
 *   value renders in well under a millisecond.
 * - `message`: email, SMS, push, webhook and notification content, and the previews and test runs
 *   that show it. LiquidJS's async rendering of in-memory data does not yield to the event loop
 *   either, so this is a stall bound too: 500 ms per field, 100× what a large email needs.
 */
export const TEMPLATE_LIMITS = {
  parseLimit: 1_000_000,
  step: { renderLimit: 50, memoryLimit: 1_000_000, outputLimit: 100_000 },
  message: { renderLimit: 500, memoryLimit: 20_000_000, outputLimit: 5_000_000 },
} as const satisfies { parseLimit: number; step: TemplateLimits; message: TemplateLimits };

export type TemplateLimit = "time" | "memory" | "size" | "output";

/** A template that failed to parse or render, naming the field ("set.tier", "body", …). */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
  constructor(
    readonly field: string,
    /** What went wrong, in words a marketer can act on, or LiquidJS's message with line/column. */
    readonly detail: string,
    /** Set when the template went over one of TEMPLATE_LIMITS. */
    readonly limit: TemplateLimit | null = null,
    options?: { cause?: unknown },
  ) {
    super(`template error in ${field}: ${detail}`, options);
  }
}

const LIMIT_MESSAGES: readonly [RegExp, TemplateLimit][] = [
  [/template render limit exceeded/, "time"],
  [/memory alloc limit exceeded|Invalid string length|Invalid array length/, "memory"],
  [/parse length limit exceeded/, "size"],
];

/** Which limit an error from LiquidJS reports, if any. */
export function templateLimitOf(err: unknown): TemplateLimit | null {
  if (err instanceof TemplateError) return err.limit;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    for (const [re, limit] of LIMIT_MESSAGES) if (re.test(e.message)) return limit;
    e = (e as { originalError?: unknown }).originalError ?? e.cause;
  }
  return null;
}

/** "took too long to render (over 50 ms)" and so on: the reason a limit stopped a template. */
export function describeLimit(limit: TemplateLimit, limits: TemplateLimits): string {
  switch (limit) {
    case "time":
      return `took too long to render (over ${limits.renderLimit} ms); check its loops`;
    case "memory":
      return "used too much memory while rendering; check its loops and ranges";
    case "size":
      return `is too long (over ${TEMPLATE_LIMITS.parseLimit.toLocaleString("en")} characters)`;
    case "output":
      return `produced too much text (over ${limits.outputLimit.toLocaleString("en")} characters)`;
  }
}

/** Any error thrown while parsing or rendering `field`, as a TemplateError. */
export function toTemplateError(
  field: string,
  err: unknown,
  limits: TemplateLimits = TEMPLATE_LIMITS.message,
): TemplateError {
  if (err instanceof TemplateError) return err;
  const limit = templateLimitOf(err);
  const detail =
    limit !== null
      ? describeLimit(limit, limits)
      : err instanceof Error
        ? (err.message.split("\n")[0] ?? err.message)
        : String(err);
  return new TemplateError(field, detail, limit, { cause: err });
}

export type CreateLiquidOptions = {
  /** Escape every output as HTML (`| raw` opts out). */
  escapeHtml?: boolean;
  /** Named snippets `{% render 'name' %}` / `{% include 'name' %}` may use (nothing else). */
  partials?: Record<string, string>;
  /** Time zone of the date filter: IANA name or minutes offset. Default UTC. */
  timezone?: string | number;
  locale?: string;
  /** Filters to add (e.g. the channels package's `qr_code`). */
  filters?: Record<string, (value: unknown, ...args: unknown[]) => unknown>;
};

/**
 * The one way Postpath makes a Liquid: strict filters (a misspelt filter is an error), lenient
 * variables (a missing one renders empty), own properties only, no file system (`templates` is an
 * in-memory map, so include/render can never read a file from the server, such as `.env`) and the
 * parse limit. Render limits are passed per rendering (`renderOptions`), from TEMPLATE_LIMITS.
 */
export function createLiquid(options: CreateLiquidOptions = {}): Liquid {
  const liquid = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    templates: { ...(options.partials ?? {}) },
    cache: 500,
    timezoneOffset: options.timezone ?? 0,
    ...(options.locale === undefined ? {} : { locale: options.locale }),
    ...(options.escapeHtml ? { outputEscape: "escape" as const } : {}),
    parseLimit: TEMPLATE_LIMITS.parseLimit,
    // Defaults for a rendering that passes none; every Postpath call passes its profile's.
    renderLimit: TEMPLATE_LIMITS.message.renderLimit,
    memoryLimit: TEMPLATE_LIMITS.message.memoryLimit,
  } satisfies LiquidOptions);
  // A preview of `{{ url | qr_code }}` shows the URL; the channels package registers the real one.
  liquid.registerFilter("qr_code", (value: unknown) => (typeof value === "string" ? value : ""));
  for (const [name, filter] of Object.entries(options.filters ?? {}))
    liquid.registerFilter(name, filter);
  return liquid;
}

/** LiquidJS render options for one rendering under `limits`, ending no later than `deadline`. */
export function renderOptionsFor(
  limits: TemplateLimits,
  deadline?: number,
): { renderLimit: number; memoryLimit: number } {
  const renderLimit =
    deadline === undefined
      ? limits.renderLimit
      : Math.max(0, Math.min(limits.renderLimit, deadline - performance.now()));
  // A spent budget (0) fails at the first check, before any output.
  return { renderLimit, memoryLimit: limits.memoryLimit };
}

/** The result of a rendering, refused when it is longer than `limits.outputLimit`. */
export function checkOutput(field: string, output: unknown, limits: TemplateLimits): string {
  const text = String(output);
  if (text.length > limits.outputLimit)
    throw new TemplateError(field, describeLimit("output", limits), "output");
  return text;
}

/** The shared Liquid, made on first use: making one is work the canvas's first draw need not do
 * (issue 18: the web bundle evaluates this module before it draws anything). */
let shared: Liquid | undefined;
const liquid = (): Liquid => (shared ??= createLiquid());

const MAX_CACHED = 2000;
const parsed = new Map<string, Template[]>();

function parse(template: string): Template[] {
  let t = parsed.get(template);
  if (!t) {
    t = liquid().parse(template);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(template, t);
  }
  return t;
}

export type RenderTemplateOptions = {
  /** Named in errors ("set.tier", "subject"); default "template". */
  field?: string;
  /** Default: TEMPLATE_LIMITS.message (previews and test runs show what a send would render). */
  limits?: TemplateLimits;
  /** `performance.now()` time by which rendering must end (a budget shared by several fields). */
  deadline?: number;
};

/**
 * Renders a Liquid template synchronously. Unknown variables render as empty text. Throws a
 * TemplateError (naming the field, and the limit when one was hit) when it cannot.
 */
export function renderTemplate(
  template: string,
  context: Record<string, unknown>,
  options: RenderTemplateOptions = {},
): string {
  if (!template.includes("{")) return template;
  const field = options.field ?? "template";
  const limits = options.limits ?? TEMPLATE_LIMITS.message;
  try {
    const templates = parse(template);
    const output: unknown = liquid().renderSync(
      templates,
      context,
      isLoopFree(templates)
        ? { renderLimit: Infinity, memoryLimit: limits.memoryLimit }
        : renderOptionsFor(limits, options.deadline),
    );
    return checkOutput(field, output, limits);
  } catch (err) {
    throw toTemplateError(field, err, limits);
  }
}

/**
 * Renders the templates of one step (its values, by field) within one shared time budget
 * (TEMPLATE_LIMITS.step), so a step with many templated values cannot multiply it.
 */
export function stepTemplateRenderer(): (
  template: string,
  context: Record<string, unknown>,
  field: string,
) => string {
  const limits = TEMPLATE_LIMITS.step;
  let deadline: number | undefined;
  return (template, context, field) => {
    if (!template.includes("{")) return template;
    liquid(); // made (on first use in the process) before the step's time budget starts
    deadline ??= performance.now() + limits.renderLimit;
    return renderTemplate(template, context, { field, limits, deadline });
  };
}

/**
 * `variables`: each distinct path once, in order of first use. `risk`, when set, says in a
 * marketer's words why the template may be slow for some customers, to follow "This text …" (a
 * loop inside a loop, or a loop over a long range): it may hit the render limits when it runs.
 */
export type TemplateAnalysis =
  { ok: true; variables: string[][]; risk?: string } | { ok: false; error: string };

const analyses = new Map<string, TemplateAnalysis>();

/** Parses a template and lists the variable paths it reads from the outside (e.g. ["coupon","code"]). */
export function analyzeTemplate(template: string): TemplateAnalysis {
  if (!template.includes("{")) return { ok: true, variables: [] };
  let a = analyses.get(template);
  if (!a) {
    a = analyzeUncached(template);
    if (analyses.size >= MAX_CACHED) analyses.clear();
    analyses.set(template, a);
  }
  return a;
}

function analyzeUncached(template: string): TemplateAnalysis {
  try {
    const templates = parse(template);
    const segments = liquid().globalVariableSegmentsSync(templates);
    const unique = new Map<string, string[]>();
    for (const s of segments) {
      const path = s.map((part) =>
        typeof part === "string" || typeof part === "number" ? String(part) : "*",
      );
      unique.set(path.join("."), path);
    }
    const risk = loopRisk(templates);
    return { ok: true, variables: [...unique.values()], ...(risk ? { risk } : {}) };
  } catch (e) {
    const limit = templateLimitOf(e);
    return {
      ok: false,
      error:
        limit !== null
          ? `the text ${describeLimit(limit, TEMPLATE_LIMITS.step)}`
          : e instanceof Error
            ? (e.message.split("\n")[0] ?? e.message)
            : String(e),
    };
  }
}

/** A range in a loop longer than this is suspicious on its own. */
export const LONG_RANGE = 1000;

/** Why the loops of a template look dangerous, or null. */
function loopRisk(templates: readonly Template[]): string | null {
  const { nested, longest } = loopShape(templates);
  if (nested)
    return "has a loop inside a loop, which can take very long for customers with long lists. Simplify it, or the step may fail for them.";
  if (longest > LONG_RANGE)
    return `repeats ${longest.toLocaleString("en")} times, which can take very long. Use a shorter range, or the step may fail.`;
  return null;
}

type LoopShape = { loops: boolean; nested: boolean; longest: number };

/** Whether a template loops (for, tablerow), loops inside a loop, and its longest literal range. */
function loopShape(templates: readonly Template[]): LoopShape {
  let loops = false;
  let nested = false;
  let longest = 0;
  const visit = (list: readonly Template[], depth: number): void => {
    for (const t of list) {
      const isLoop = t instanceof ForTag || t instanceof TablerowTag;
      if (isLoop) {
        loops = true;
        if (depth > 0) nested = true;
        const c = t.collection;
        if (
          TypeGuards.isRangeToken(c) &&
          TypeGuards.isNumberToken(c.lhs) &&
          TypeGuards.isNumberToken(c.rhs)
        )
          longest = Math.max(longest, c.rhs.content - c.lhs.content + 1);
      }
      const children = (t as { children?: Template["children"] }).children;
      if (children) {
        const inner = toValueSync<Template[]>(children.call(t, false, true));
        visit(inner, isLoop ? depth + 1 : depth);
      }
    }
  };
  visit(templates, 0);
  return { loops, nested, longest };
}

const loopFree = new WeakMap<Template[], boolean>();

/**
 * Whether a parsed template has no loop. Without loops (and without partials, which this Liquid
 * has none of) a template's work is bounded by its length and the memory limit, so it renders
 * without the time limit: renderLimit is wall-clock time, and a process the machine starves of
 * CPU for a moment must not fail `{{ first_name }}`.
 */
function isLoopFree(templates: Template[]): boolean {
  let free = loopFree.get(templates);
  if (free === undefined) {
    free = !loopShape(templates).loops;
    loopFree.set(templates, free);
  }
  return free;
}

/** Names a template can always use, whatever the journey: */
// issue 16: `unsubscribe_url` is filled in by the engine when an email is sent (a personal link).
export const BUILTIN_TEMPLATE_ROOTS = [
  "customer",
  "event",
  "run",
  "steps",
  "unsubscribe_url",
] as const;

/**
 * What Liquid templates see for a run: the customer's attributes at the top level (`{{ first_name }}`),
 * `customer` (its attributes, then id, externalId, email, phone, timezone, attributes, tags — the
 * built-in fields win), `event` (the trigger's
 * properties), `run` (id, enteredAt), the named outputs of earlier steps (`coupon.code`, `purl.url`,
 * the event a wait received under its name) and `steps` (every output by step id).
 */
export function templateContext(state: RunState): Record<string, unknown> {
  // customerScope's fields, built once: attributes at the top level, then vars, then `customer`.
  // (What `{ ...attributes, ...vars, customer, event, run, steps }` gives, copied key by key: see
  // copyOwn.)
  const ctx = copyOwn(copyOwn({}, state.customer.attributes), state.vars);
  ctx["customer"] = templateCustomer(state.customer);
  ctx["event"] = state.trigger?.properties ?? {};
  ctx["run"] = { id: state.runId, enteredAt: state.enteredAt };
  ctx["steps"] = state.outputs;
  return ctx;
}

/**
 * `Object.assign(target, source)` as an object spread does it (`{ ...target, ...source }` with
 * `target` new): each own enumerable string key in order, as an own data property — an own
 * `__proto__` key too (JSON can hold one), which plain assignment would take as the prototype.
 * Used where an object spread would be followed by more keys: V8 (Node 20) is slow at adding keys
 * to an object made by a spread (templateCustomer's `{ ...attributes, id, … }` took ~20 µs for
 * a customer of 7 attributes, key by key ~0.2 µs; timed alone).
 */
export function copyOwn(target: Record<string, unknown>, source: object): Record<string, unknown> {
  const from = source as Record<string, unknown>;
  for (const k of Object.keys(from)) {
    if (k === "__proto__")
      Object.defineProperty(target, k, {
        value: from[k],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    else target[k] = from[k];
  }
  return target;
}

/** The built-in fields of `customer` in a template. Attributes are readable as `{{ name }}`,
 * `{{ customer.name }}` (as in Customer.io; a built-in field of the same name wins) and
 * `{{ customer.attributes.name }}`. */
export const CUSTOMER_FIELDS = [
  "id",
  "externalId",
  "email",
  "phone",
  "timezone",
  "attributes",
  "tags",
  // issue 16: saved segments (ids) and the lifecycle stage, for splits (membership.ts).
  "segments",
  "lifecycle_stage",
] as const;

/** `customer` as a template sees it: its attributes, then the built-in fields (which win). */
export function templateCustomer(c: CustomerSnapshot): Record<string, unknown> {
  // `{ ...c.attributes, id: c.id, … }`, copied key by key (see copyOwn).
  const out = copyOwn({}, c.attributes);
  out["id"] = c.id;
  out["externalId"] = c.externalId;
  out["email"] = c.email ?? null;
  out["phone"] = c.phone ?? null;
  out["timezone"] = c.timezone ?? null;
  out["attributes"] = c.attributes;
  out["tags"] = c.tags;
  out["segments"] = c.segments ?? [];
  out["lifecycle_stage"] = c.lifecycleStage ?? null;
  return out;
}

/** What segment conditions see: attributes at the top level plus `customer`. */
export function customerScope(c: CustomerSnapshot): Record<string, unknown> {
  return { ...c.attributes, customer: templateCustomer(c) };
}

/**
 * `getPath(customerScope(c), path)` without building the scope (bulk enrolment evaluates a segment
 * on every customer of a page): attributes are read in place, `customer` is built only when the
 * path starts with it.
 */
export function customerPath(c: CustomerSnapshot, path: string): unknown {
  const attrs = c.attributes;
  if (path === "customer") return templateCustomer(c);
  if (Object.hasOwn(attrs, path)) return attrs[path];
  const keys = path.split(".");
  const head = keys[0]!;
  if (keys.length === 1) return undefined;
  if (head === "customer") return walkPath(templateCustomer(c), keys, 1);
  return Object.hasOwn(attrs, head) ? walkPath(attrs[head], keys, 1) : undefined;
}

/** Whether the customer meets segment conditions (evaluated on `customerScope`). */
export function matchesCustomer(
  conditions: readonly Condition[],
  match: MatchMode,
  c: CustomerSnapshot,
): boolean {
  return evaluateConditionsWith(conditions, match, (path) => customerPath(c, path));
}
