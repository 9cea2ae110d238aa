// The string and JSON rules every tRPC input follows (issue 12, finding 2). Postgres cannot store
// a NUL character (text and jsonb both refuse it) nor a lone UTF-16 surrogate (jsonb refuses its
// escape; it is not Unicode at all), and deep JSON overflows the stack of whatever walks it
// (JSON.stringify, zod, Postgres). Such input is refused with a message naming the field, never
// passed on to become a 500.
import { TRPCError } from "@trpc/server";
import { z } from "zod";

export const NUL_MESSAGE =
  "Remove the invisible control character (NUL, code 0) from this text: it cannot be saved.";
export const SURROGATE_MESSAGE =
  "This text contains a broken character (half of an emoji or symbol). Retype or remove it.";

/** A lone high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be stored, or null when it can. */
export function unstorableText(s: string): string | null {
  if (s.includes("\u0000")) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(s)) return SURROGATE_MESSAGE;
  return null;
}

/**
 * The string type of every procedure input: `Text.trim().min(1, "…").max(120)` as with
 * `z.string()`, but NUL and lone surrogates are refused with a message.
 */
export const Text = z
  .string()
  .refine((s) => !s.includes("\u0000"), { message: NUL_MESSAGE, abort: true })
  .refine((s) => !LONE_SURROGATE.test(s), { message: SURROGATE_MESSAGE, abort: true });

/** The id of a stored thing (cuid): `label` names it in the message when it is missing. */
export const IdText = (label = "id") => Text.min(1, `${label} is required`).max(100);

/** Nesting deeper than this (objects and arrays) is refused; journey drafts need about 8. */
export const MAX_INPUT_DEPTH = 32;
/**
 * More strings, numbers and containers than this in one input is refused (over HTTP the 512 KB
 * body limit binds first: enrolling 100,000 customer ids by hand must still fit).
 */
export const MAX_INPUT_VALUES = 300_000;

export interface InputProblem {
  path: (string | number)[];
  message: string;
}

/**
 * The first thing in a parsed JSON input that cannot be stored: a string or object key with NUL
 * or a lone surrogate, nesting deeper than MAX_INPUT_DEPTH, more than MAX_INPUT_VALUES values, or
 * a number JSON cannot carry. Iterative, so no input can overflow the stack here.
 */
export function inputProblem(input: unknown): InputProblem | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: input, path: [] }];
  let seen = 0;
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (++seen > MAX_INPUT_VALUES)
      return { path: [], message: "This request is too large. Send less at a time." };
    if (typeof value === "string") {
      const message = unstorableText(value);
      if (message) return { path, message };
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) return { path, message: "Enter a finite number." };
    } else if (value !== null && typeof value === "object") {
      if (path.length >= MAX_INPUT_DEPTH)
        return {
          path,
          message: `This is nested too deeply (more than ${MAX_INPUT_DEPTH} levels).`,
        };
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--)
          stack.push({ value: value[i], path: [...path, i] });
      } else if (isPlain(value)) {
        const entries = Object.entries(value);
        for (let i = entries.length - 1; i >= 0; i--) {
          const [key, v] = entries[i]!;
          const message = unstorableText(key);
          if (message)
            return { path: [...path, key], message: `The name of this field: ${message}` };
          stack.push({ value: v, path: [...path, key] });
        }
      }
      // Anything else (FormData, Blob…) is left to the procedure's own schema.
    }
  }
  return null;
}

function isPlain(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The BAD_REQUEST for a problem, shaped like a zod error so clients show it next to the field. */
export function inputProblemError(problem: InputProblem): TRPCError {
  const field = problem.path.length ? problem.path.join(".") : "input";
  const error = new TRPCError({ code: "BAD_REQUEST", message: `${field}: ${problem.message}` });
  // Set after construction: TRPCError would wrap a cause that is not an `Error` (a ZodError is not).
  (error as { cause?: unknown }).cause = new z.ZodError([
    { code: "custom", path: problem.path, message: problem.message, input: undefined },
  ]);
  return error;
}

/** A calendar day written as YYYY-MM-DD (UTC), naming `field` in its errors. */
export const IsoDay = (field: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${field} must be a date written as YYYY-MM-DD`)
    .refine(
      (s) =>
        Number(s.slice(0, 4)) >= 1900 &&
        !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) &&
        new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
      { message: `${field} is not a date in the calendar` },
    );
