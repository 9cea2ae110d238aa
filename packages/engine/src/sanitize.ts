// What a client sends, made storable — one place every ingest path goes through (the /v1 HTTP API
// in apps/server and the engine's own track/identify). Postgres and Prisma's JSON layer refuse
// some JSON that parses fine; without this, one such value failed the call (and a Segment
// client's whole batch) with a 500. The decisions, documented in README ("Admin, credentials and
// ingest"):
// - a lone UTF-16 surrogate or a NUL character, in any string or object key → U+FFFD (the
//   replacement character), as Node's own UTF-8 encoder and most collectors do: the item is kept;
// - nesting deeper than MAX_JSON_DEPTH levels → the item is refused, naming the path;
// - a number beyond ±1.8e308 (JSON.parse makes it ±Infinity, which JSON cannot store) → refused;
// - a key named `__proto__` (a prototype-pollution vector for any code that merges it) → refused;
// - a timestamp before 1970 or more than a day after the call arrived → the arrival time
//   (as Segment corrects skewed client clocks towards receivedAt).

/** Levels of nesting a call may have, counting the call's own object as level 1. */
export const MAX_JSON_DEPTH = 64;
/** How far past the arrival time a client's timestamp may be before it counts as a wrong clock. */
export const MAX_TIMESTAMP_AHEAD_MS = 24 * 60 * 60 * 1000;
/** The earliest timestamp kept as sent (1970-01-01T00:00:00Z). */
export const MIN_TIMESTAMP_MS = 0;

const REPLACEMENT = "\uFFFD";
// A high surrogate not followed by a low one, a low one not preceded by a high one, or NUL
// (matching NUL is the point here, hence the control character).
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/g;
// eslint-disable-next-line no-control-regex
const HAS_UNSTORABLE = /[\uD800-\uDFFF\u0000]/;

/** The string with lone surrogates and NUL replaced by U+FFFD (the same string when clean). */
export function sanitizeString(s: string): string {
  return HAS_UNSTORABLE.test(s) ? s.replace(UNSTORABLE, REPLACEMENT) : s;
}

export interface Refusal {
  /** Dotted path from the call's top level, e.g. `properties.items.3.name`. */
  field: string;
  /** The same path as keys and indexes. */
  path: (string | number)[];
  message: string;
}

export type Sanitized<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

const MAX_FIELD_CHARS = 200;

/** A dotted path for messages, shortened in the middle when very long (deep nesting). */
export function fieldName(path: readonly (string | number)[]): string {
  const full = path.map(String).join(".") || "(body)";
  if (full.length <= MAX_FIELD_CHARS) return full;
  return `${full.slice(0, MAX_FIELD_CHARS / 2)}…${full.slice(-MAX_FIELD_CHARS / 2)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `out[key] = value` that keeps a key such as "__proto__" a plain data key. */
function define(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A parsed JSON value that Postgres can store (the value itself when it already can, else a copy
 * with its strings and keys made storable), or the first reason it cannot.
 * `path` and `level` place `value` inside the call (the body itself: `[]` and 1), so the same
 * value is judged the same whether the HTTP layer or the engine checks it. Recursion stops at
 * MAX_JSON_DEPTH, so a hostile body cannot exhaust the stack here.
 */
export function sanitizeJson<T = unknown>(
  value: T,
  at: { path?: readonly (string | number)[]; level?: number } = {},
): Sanitized<T> {
  const path = [...(at.path ?? [])];
  let refusal: Refusal | null = null;
  const walk = (v: unknown, level: number): unknown => {
    if (refusal) return v;
    if (typeof v === "string") return sanitizeString(v);
    if (typeof v === "number") {
      if (!Number.isFinite(v))
        refusal = {
          field: fieldName(path),
          path: [...path],
          message: "is a number too large to store (beyond ±1.8e308)",
        };
      return v;
    }
    const array = Array.isArray(v);
    if (!array && !isPlainObject(v)) return v;
    if (level > MAX_JSON_DEPTH) {
      refusal = {
        field: fieldName(path),
        path: [...path],
        message: `is nested too deeply: at most ${MAX_JSON_DEPTH} levels are stored`,
      };
      return v;
    }
    // Copied only from the first value that changes (issue 15: a clean call, the usual case, is
    // returned as it came instead of rebuilt, which was most of this function's cost).
    if (array) {
      let out: unknown[] | null = null;
      for (let i = 0; i < v.length && !refusal; i++) {
        const item: unknown = v[i];
        path.push(i);
        const clean = walk(item, level + 1);
        path.pop();
        if (!out && clean !== item) out = v.slice(0, i);
        out?.push(clean);
      }
      return out ?? v;
    }
    const object = v;
    const keys = Object.keys(object);
    let out: Record<string, unknown> | null = null;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      path.push(key);
      if (key === "__proto__") {
        refusal = {
          field: fieldName(path),
          path: [...path],
          message: "is a key that is not accepted (__proto__)",
        };
        break;
      }
      const item = object[key];
      const clean = walk(item, level + 1);
      path.pop();
      if (refusal) break;
      const cleanKey = sanitizeString(key);
      if (!out && (clean !== item || cleanKey !== key)) {
        out = {};
        for (let j = 0; j < k; j++) define(out, keys[j]!, object[keys[j]!]);
      }
      if (out) define(out, cleanKey, clean);
    }
    return out ?? v;
  };
  const clean = walk(value, at.level ?? 1);
  return refusal ? { ok: false, refusal } : { ok: true, value: clean as T };
}

/**
 * When an event happened: the client's timestamp, or the arrival time when there is none or it
 * cannot be right (before 1970, more than a day ahead, or not a real date).
 */
export function eventTime(timestamp: string | undefined, receivedAt: number): Date {
  const t = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
  if (!Number.isFinite(t) || t < MIN_TIMESTAMP_MS || t > receivedAt + MAX_TIMESTAMP_AHEAD_MS)
    return new Date(receivedAt);
  return new Date(t);
}

const SQLSTATE = /^(22|54)[0-9A-Z]{3}$/; // data exception, program limit exceeded

/**
 * Whether an error from storing a call means the database refused its data (a value it cannot
 * hold) rather than that the database is unavailable: a second line behind sanitizeJson, so a
 * value we did not foresee refuses that one call or batch item instead of answering 500. Looks
 * for a Postgres SQLSTATE of class 22 or 54 through Prisma's wrappers, and Prisma's own
 * "JSON Error" / validation errors.
 */
export function isUnstorableInput(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length) {
    const e = queue.shift();
    if (typeof e !== "object" || e === null || seen.has(e)) continue;
    seen.add(e);
    const o = e as Record<string, unknown>;
    for (const k of ["code", "originalCode"])
      if (typeof o[k] === "string" && SQLSTATE.test(o[k])) return true;
    if (o.name === "PrismaClientValidationError") return true;
    if (typeof o.message === "string" && /JSON Error:/.test(o.message)) return true;
    queue.push(
      o.cause,
      o.meta,
      (o.meta as Record<string, unknown> | undefined)?.driverAdapterError,
    );
  }
  return false;
}
