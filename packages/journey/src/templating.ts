// Liquid templates: rendering (synchronous) and the static analysis validation uses.
import { Liquid, type Template } from "liquidjs";
import { evaluateConditionsWith, walkPath, type Condition, type MatchMode } from "./conditions.ts";
import type { CustomerSnapshot, RunState } from "./state.ts";

// `templates: {}` gives Liquid an empty in-memory file system: `{% include %}` and `{% render %}` can
// never read files from the server (a journey author must not be able to print `.env`).
const liquid = new Liquid({ strictFilters: true, ownPropertyOnly: true, templates: {} });

const MAX_CACHED = 2000;
const parsed = new Map<string, Template[]>();

function parse(template: string): Template[] {
  let t = parsed.get(template);
  if (!t) {
    t = liquid.parse(template);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(template, t);
  }
  return t;
}

/** Renders a Liquid template synchronously. Unknown variables render as empty text. */
export function renderTemplate(template: string, context: Record<string, unknown>): string {
  if (!template.includes("{")) return template;
  return String(liquid.renderSync(parse(template), context));
}

/** `variables`: each distinct path once, in order of first use. */
export type TemplateAnalysis = { ok: true; variables: string[][] } | { ok: false; error: string };

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
    const segments = liquid.globalVariableSegmentsSync(parse(template));
    const unique = new Map<string, string[]>();
    for (const s of segments) {
      const path = s.map((part) =>
        typeof part === "string" || typeof part === "number" ? String(part) : "*",
      );
      unique.set(path.join("."), path);
    }
    return { ok: true, variables: [...unique.values()] };
  } catch (e) {
    return {
      ok: false,
      error: e instanceof Error ? (e.message.split("\n")[0] ?? e.message) : String(e),
    };
  }
}

/** Names a template can always use, whatever the journey: */
export const BUILTIN_TEMPLATE_ROOTS = ["customer", "event", "run", "steps"] as const;

/**
 * What Liquid templates see for a run: the customer's attributes at the top level (`{{ first_name }}`),
 * `customer` (its attributes, then id, externalId, email, phone, timezone, attributes, tags — the
 * built-in fields win), `event` (the trigger's
 * properties), `run` (id, enteredAt), the named outputs of earlier steps (`coupon.code`, `purl.url`,
 * the event a wait received under its name) and `steps` (every output by step id).
 */
export function templateContext(state: RunState): Record<string, unknown> {
  // customerScope's fields, built once: attributes at the top level, then vars, then `customer`.
  return {
    ...state.customer.attributes,
    ...state.vars,
    customer: templateCustomer(state.customer),
    event: state.trigger?.properties ?? {},
    run: { id: state.runId, enteredAt: state.enteredAt },
    steps: state.outputs,
  };
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
] as const;

/** `customer` as a template sees it: its attributes, then the built-in fields (which win). */
export function templateCustomer(c: CustomerSnapshot): Record<string, unknown> {
  return {
    ...c.attributes,
    id: c.id,
    externalId: c.externalId,
    email: c.email ?? null,
    phone: c.phone ?? null,
    timezone: c.timezone ?? null,
    attributes: c.attributes,
    tags: c.tags,
  };
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
