// The input rules of every procedure (issue 12): what cannot be stored is found wherever it is,
// with its path; everything else passes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  inputProblem,
  MAX_INPUT_DEPTH,
  NUL_MESSAGE,
  SURROGATE_MESSAGE,
  Text,
  unstorableText,
} from "./zod.ts";

const BAD = ["\u0000", "\ud83d", "\udc00", "a\udbffb"];

/** Puts `leaf` at `path` inside `value` (creating containers), returning the new value. */
function plant(value: unknown, path: (string | number)[], leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  if (typeof head === "number") {
    const arr = Array.isArray(value) ? [...(value as unknown[])] : [];
    arr[head] = plant(arr[head], rest, leaf);
    return arr.map((x) => (x === undefined ? null : x));
  }
  const obj =
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? { ...(value as Record<string, unknown>) }
      : {};
  obj[head as string] = plant(obj[head as string], rest, leaf);
  return obj;
}

describe("inputProblem", () => {
  it("passes any well-formed JSON within the depth limit (all of Unicode, emoji pairs included)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.string({ unit: "grapheme" }), (v, s) => {
        expect(inputProblem(v)).toBeNull();
        expect(inputProblem({ [s]: [s, v] })).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it("finds NUL or a lone surrogate anywhere, in a value or a key, and names its path", () => {
    const segment = fc.oneof(fc.constantFrom("a", "b", "data"), fc.nat({ max: 3 }));
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.array(segment, { maxLength: 8 }),
        fc.constantFrom(...BAD),
        fc.boolean(),
        (base, path, bad, inKey) => {
          const key = `k${bad}`;
          const input = plant(base, path, inKey ? { [key]: 1 } : `x${bad}y`);
          const problem = inputProblem(input);
          expect(problem?.path).toEqual(inKey ? [...path, key] : path);
          expect(problem?.message).toContain(
            bad.includes("\u0000") ? NUL_MESSAGE : SURROGATE_MESSAGE,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses nesting past the limit without walking it all (no stack overflow at 1,000,000 levels)", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(inputProblem({ p: deep })?.message).toMatch(/nested too deeply/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_INPUT_DEPTH; i++) ok = { a: ok }; // 32 levels: fine; 33: refused
    expect(inputProblem(ok)).toBeNull();
    expect(inputProblem({ a: ok })?.path).toHaveLength(MAX_INPUT_DEPTH);
  });

  it("refuses non-finite numbers (JSON 1e400 parses to Infinity)", () => {
    expect(inputProblem(JSON.parse('{"n":[1e400]}'))).toEqual({
      path: ["n", 0],
      message: "Enter a finite number.",
    });
  });
});

describe("Text", () => {
  it("refuses exactly what unstorableText refuses, with its message", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "é", "😀", "\u0000", "\ud800", "\udfff", " ") }),
        (s) => {
          const res = Text.safeParse(s);
          const why = unstorableText(s);
          expect(res.success).toBe(why === null);
          if (!res.success) expect(res.error.issues[0]?.message).toBe(why);
        },
      ),
      { numRuns: 500 },
    );
  });
});
