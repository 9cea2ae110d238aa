// Property conditions: the filters of event triggers, the rules of splits and coupon values.
import { z } from "zod";

export const ConditionOp = z.enum([
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "contains",
  "notContains",
  "startsWith",
  "endsWith",
  "in",
  "notIn",
  "exists",
  "notExists",
]);
export type ConditionOp = z.infer<typeof ConditionOp>;

const VALUELESS: readonly ConditionOp[] = ["exists", "notExists"];

export const Condition = z
  .object({
    /** A dotted path: `product.tier`, `customer.tags`, `total_spent`. */
    property: z.string().trim().min(1, { error: "Choose a property." }),
    op: ConditionOp,
    value: z.unknown().optional(),
  })
  .superRefine((c, ctx) => {
    if (VALUELESS.includes(c.op)) return;
    if (c.value === undefined) {
      ctx.addIssue({ code: "custom", path: ["value"], message: "Enter a value to compare with." });
    } else if ((c.op === "in" || c.op === "notIn") && !Array.isArray(c.value)) {
      ctx.addIssue({ code: "custom", path: ["value"], message: "Enter a list of values." });
    }
  });
export type Condition = z.infer<typeof Condition>;

export const MatchMode = z.enum(["all", "any"]);
export type MatchMode = z.infer<typeof MatchMode>;

/** Reads a dotted path (`a.b.0.c`) from plain data; an exact key containing dots wins. */
export function getPath(source: unknown, path: string): unknown {
  if (source !== null && typeof source === "object" && Object.hasOwn(source, path)) {
    return (source as Record<string, unknown>)[path];
  }
  return walkPath(source, path.split("."), 0);
}

/** Follows `keys[from..]` through own properties of plain data (undefined when one is missing). */
export function walkPath(source: unknown, keys: readonly string[], from: number): unknown {
  let cur: unknown = source;
  for (let i = from; i < keys.length; i++) {
    const key = keys[i]!;
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function isPrimitive(v: unknown): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** Equality that treats 30 and "30" alike (event properties arrive as JSON from many sources). */
export function looseEquals(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (isPrimitive(a) && isPrimitive(b)) return String(a) === String(b);
  return false;
}

function compare(a: unknown, b: unknown): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  const na = typeof a === "number" ? a : typeof a === "string" && a.trim() !== "" ? Number(a) : NaN;
  const nb = typeof b === "number" ? b : typeof b === "string" && b.trim() !== "" ? Number(b) : NaN;
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

function contains(haystack: unknown, needle: unknown): boolean {
  if (Array.isArray(haystack)) return haystack.some((x) => looseEquals(x, needle));
  if (typeof haystack === "string" && isPrimitive(needle)) return haystack.includes(String(needle));
  return false;
}

export function evaluateCondition(c: Condition, scope: unknown): boolean {
  return testCondition(c, getPath(scope, c.property));
}

/** Whether `actual` (the value at the condition's property) meets the condition. */
export function testCondition(c: Condition, actual: unknown): boolean {
  const expected = c.value;
  switch (c.op) {
    case "eq":
      return looseEquals(actual, expected);
    case "neq":
      return !looseEquals(actual, expected);
    case "gt": {
      const r = compare(actual, expected);
      return r !== null && r > 0;
    }
    case "gte": {
      const r = compare(actual, expected);
      return r !== null && r >= 0;
    }
    case "lt": {
      const r = compare(actual, expected);
      return r !== null && r < 0;
    }
    case "lte": {
      const r = compare(actual, expected);
      return r !== null && r <= 0;
    }
    case "contains":
      return contains(actual, expected);
    case "notContains":
      return !contains(actual, expected);
    case "startsWith":
      return (
        typeof actual === "string" && isPrimitive(expected) && actual.startsWith(String(expected))
      );
    case "endsWith":
      return (
        typeof actual === "string" && isPrimitive(expected) && actual.endsWith(String(expected))
      );
    case "in":
      return Array.isArray(expected) && expected.some((x) => looseEquals(actual, x));
    case "notIn":
      return !Array.isArray(expected) || !expected.some((x) => looseEquals(actual, x));
    case "exists":
      return actual !== undefined && actual !== null && actual !== "";
    case "notExists":
      return actual === undefined || actual === null || actual === "";
    default: {
      const never: never = c.op;
      return never;
    }
  }
}

/** `all` of no conditions is true; `any` of no conditions is false. */
export function evaluateConditions(
  conditions: readonly Condition[],
  match: MatchMode,
  scope: unknown,
): boolean {
  return evaluateConditionsWith(conditions, match, (path) => getPath(scope, path));
}

/** The same, reading each condition's property through `read` (a scope that is never built). */
export function evaluateConditionsWith(
  conditions: readonly Condition[],
  match: MatchMode,
  read: (path: string) => unknown,
): boolean {
  return match === "all"
    ? conditions.every((c) => testCondition(c, read(c.property)))
    : conditions.some((c) => testCondition(c, read(c.property)));
}

/**
 * Each comparison in the words a marketer reads ("is at least", never `gte`): the trace's split
 * details, and the editor's forms, node summaries and segment rules (apps/web canvas/words.ts).
 */
export const CONDITION_OP_WORDS: Readonly<Record<ConditionOp, string>> = {
  eq: "equals",
  neq: "does not equal",
  gt: "is greater than",
  gte: "is at least",
  lt: "is less than",
  lte: "is at most",
  contains: "contains",
  notContains: "does not contain",
  startsWith: "starts with",
  endsWith: "ends with",
  in: "is one of",
  notIn: "is not one of",
  exists: "is set",
  notExists: "is not set",
};

export function describeCondition(c: Condition): string {
  // issue 16: membership conditions (membership.ts) read as what they mean.
  if (c.property === "customer.segments" && (c.op === "contains" || c.op === "notContains"))
    return `${c.op === "contains" ? "is in" : "is not in"} segment ${JSON.stringify(c.value)}`;
  if (c.property === "customer.lifecycle_stage" && !VALUELESS.includes(c.op))
    return `lifecycle stage ${CONDITION_OP_WORDS[c.op]} ${JSON.stringify(c.value)}`;
  const value = VALUELESS.includes(c.op) ? "" : ` ${JSON.stringify(c.value)}`;
  return `${c.property} ${CONDITION_OP_WORDS[c.op]}${value}`;
}
