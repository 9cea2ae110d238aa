// The ingest sanitiser on its own: every string comes out storable (well-formed UTF-16, no NUL)
// and clean input comes out unchanged; depth and non-finite numbers are refused with the path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventTime, MAX_JSON_DEPTH, sanitizeJson, sanitizeString } from "./sanitize.ts";

// Well-formed UTF-16 (every surrogate in a pair) and no NUL.
const storable = (s: string) =>
  !s.includes("\u0000") &&
  !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));

describe("sanitizeString / sanitizeJson", () => {
  it("any string becomes storable; a storable one is unchanged; pairs stay pairs", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), (any, clean) => {
        const out = sanitizeString(any);
        expect(storable(out)).toBe(true);
        expect(out.length).toBe(any.length); // one U+FFFD per bad code unit
        if (storable(any)) expect(out).toBe(any);
        expect(sanitizeString(clean.replaceAll("\u0000", ""))).toBe(clean.replaceAll("\u0000", ""));
      }),
      { seed: 12, numRuns: 500 },
    );
  });

  it("sanitises keys and values at every level", () => {
    const input = JSON.parse('{"a\\u0000":["\\ud83d",{"constructor":{"x":"\\udc00"}}]}') as unknown;
    expect(sanitizeJson(input)).toEqual({
      ok: true,
      value: { "a\uFFFD": ["\uFFFD", { constructor: { x: "\uFFFD" } }] },
    });
  });

  it("a storable value comes back as it is; otherwise a copy where it changed, the input untouched", () => {
    // Strings that are sometimes unstorable (a lone surrogate, a NUL), as values and as keys.
    const text = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom("\u0000", "\ud83d", "a\udc00b", "\ud83d\ude00"),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        text,
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(text, tie("value"), { maxKeys: 4 }),
      ),
    })).value;
    /** Every string and key storable, and the same shape as `before` with its strings cleaned. */
    const cleaned = (before: unknown, after: unknown): boolean => {
      if (typeof before === "string") return after === sanitizeString(before);
      if (Array.isArray(before))
        return (
          Array.isArray(after) &&
          after.length === before.length &&
          before.every((b, i) => cleaned(b, (after as unknown[])[i]))
        );
      if (before && typeof before === "object") {
        if (!after || typeof after !== "object") return false;
        const want = new Map(Object.entries(before).map(([k, v]) => [sanitizeString(k), v]));
        const got = Object.entries(after);
        return (
          got.length === want.size && got.every(([k, v]) => want.has(k) && cleaned(want.get(k), v))
        );
      }
      return Object.is(before, after);
    };
    const allStorable = (v: unknown): boolean =>
      typeof v === "string"
        ? storable(v)
        : Array.isArray(v)
          ? v.every(allStorable)
          : v && typeof v === "object"
            ? Object.entries(v).every(([k, x]) => storable(k) && allStorable(x))
            : true;
    fc.assert(
      fc.property(json, (input) => {
        const before = JSON.stringify(input);
        const out = sanitizeJson(input);
        if (!out.ok) return; // a "__proto__" key from the generator: refused, tested below
        expect(JSON.stringify(input)).toBe(before); // the input is never changed
        expect(allStorable(out.value)).toBe(true);
        expect(cleaned(input, out.value)).toBe(true);
        if (allStorable(input)) expect(out.value).toBe(input);
      }),
      { seed: 15, numRuns: 1000 },
    );
  });

  it("refuses a __proto__ key (JSON.parse makes it an own property), naming it", () => {
    const input = JSON.parse('{"p":{"ok":1,"__proto__":{"polluted":true}}}') as unknown;
    expect(sanitizeJson(input, { path: ["batch", 0] })).toMatchObject({
      ok: false,
      refusal: { field: "batch.0.p.__proto__" },
    });
  });

  it("refuses nesting past the limit and infinite numbers, naming the path", () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
    expect(sanitizeJson({ p: deep }).ok).toBe(false); // the body is level 1
    expect(sanitizeJson(deep).ok).toBe(true);
    const refused = sanitizeJson({ p: [{ n: Number.POSITIVE_INFINITY }] }, { path: ["batch", 2] });
    expect(refused).toMatchObject({ ok: false, refusal: { field: "batch.2.p.0.n" } });
  });

  it("a timestamp before 1970 or over a day ahead becomes the arrival time", () => {
    const now = Date.parse("2026-06-01T00:00:00Z");
    expect(eventTime("0000-01-01T00:00:00Z", now).getTime()).toBe(now);
    expect(eventTime("1969-12-31T23:59:59Z", now).getTime()).toBe(now);
    expect(eventTime("2026-06-02T00:00:01Z", now).getTime()).toBe(now);
    expect(eventTime(undefined, now).getTime()).toBe(now);
    expect(eventTime("2026-06-02T00:00:00Z", now).toISOString()).toBe("2026-06-02T00:00:00.000Z");
    expect(eventTime("1970-01-01T00:00:00Z", now).getTime()).toBe(0);
  });
});
