// issue 14: a published page's markup drawn once, its personal values filled in per visit.
//
// A visit's page differs from the next visitor's only in its personal strings: the Liquid of its
// blocks, its forms' pre-fills, action, same-origin token and idempotency key. React drew the whole
// page on every visit (~60 µs of a render's ~100 µs of CPU on the bench page). Here the page is
// drawn once per stored document with a marker in place of each personal string; a visit joins the
// markup's fixed parts with its strings, escaped as React escapes text and attribute values.
//
// Not trusted to hold, checked: a block may drop an empty value, trim it, split it into paragraphs
// or refuse a URL. So the skeleton is only used where it was shown to give React's markup:
//   - when compiled, the page is drawn in full with probe values (HTML specials, quotes, URLs,
//     unicode, long text...) in every slot at once and in each slot alone, and compared with the
//     filled skeleton; one difference and the document has no skeleton (every visit drawn in full);
//   - per slot, which kinds of value it was shown to take: empty, with whitespace at either end,
//     with line breaks. A visit whose value is of a kind not shown is drawn in full.
// The fill is then byte for byte what React would draw (page-skeleton.test.ts, and purl tests
// compare both paths).

/** What a slot was shown to take besides plain text (text without whitespace at either end). */
export interface SlotDomain {
  empty: boolean;
  padded: boolean;
  lines: boolean;
}

export interface PageSkeleton {
  kinds: SlotKind[];
  /** The fixed markup around the slots: parts[0] slot parts[1] slot ... parts[n]. */
  parts: string[];
  /** Which slot goes after parts[i]. A slot may appear more than once, or not at all. */
  at: number[];
  domains: SlotDomain[];
}

/** Private-use characters around a slot's number: no block writes them, React leaves them. */
const OPEN = "\uE000";
const CLOSE = "\uE001";
const MARKER = /\uE000(\d+)\uE001/g;
const marker = (i: number) => `${OPEN}${i}${CLOSE}`;

/**
 * What a slot holds: text (a template's output: anything), a path on this server (a form's action,
 * made by the server) or a token (base64url: a form's same-origin token and idempotency key).
 */
export type SlotKind = "text" | "path" | "token";

/** Per kind, values every slot must render exactly as React does (else no skeleton). */
const PLAIN_PROBES: Record<SlotKind, readonly string[]> = {
  text: [
    "x",
    "Ann-Marie O'Neil",
    `<img src=x onerror="alert(1)">&amp;&lt;`,
    "Zoë 🙂 漢字 \u00a0inner\tspace",
    "0",
    "false",
    "true",
    "yes",
    "https://example.com/a?b=1&c=2",
    "javascript:alert(1)",
    "/relative/path",
    "{{ customer.first_name }}",
    `${OPEN}0${CLOSE}`,
    "y".repeat(600),
  ],
  path: [
    "/p/x/forms/y?v=1",
    "/p/a%20b/forms/c-d?v=12&page=e%26f",
    `/p/${"t".repeat(200)}/forms/f?v=1`,
  ],
  token: ["AbC-_09", "x".repeat(43)],
};
/** Per kind, what a visit's value must be for its slot (else the page is drawn by React). */
const FITS: Record<SlotKind, (v: string) => boolean> = {
  text: () => true,
  path: (v) => v.startsWith("/") && !v.startsWith("//"),
  token: (v) => /^[\w-]+$/.test(v),
};
const EMPTY_PROBES = [""];
/** Whitespace at either end, or only whitespace (a block may trim, then find nothing). */
const PADDED_PROBES = [" x", "x ", "  two  ", "\u00a0x", " ", "\t", "\u00a0"];
const LINES_PROBES = ["a\nb", "a\n\nb", "a\r\nb", "a\n \nb\n"];
/** Beyond this many slots a document is drawn in full (probing costs a render per slot and probe). */
export const MAX_SLOTS = 40;

/** React's escaping of text and attribute values (react-dom escapeTextForBrowser). */
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#x27;",
};
const HAS_SPECIAL = /[&<>"']/;
const SPECIAL = /[&<>"']/g;
export const escapeLikeReact = (s: string): string =>
  HAS_SPECIAL.test(s) ? s.replace(SPECIAL, (c) => ESCAPES[c]!) : s;

const PADDED = /^\s|\s$/;
const LINES = /[\n\r]/;

/** The markup with `values` in the slots, or null when a value is of a kind its slot was not shown. */
export function fillSkeleton(s: PageSkeleton, values: readonly string[]): string | null {
  for (let i = 0; i < s.domains.length; i++) {
    const v = values[i]!;
    const d = s.domains[i]!;
    if (!FITS[s.kinds[i]!](v)) return null;
    if (v === "") {
      if (!d.empty) return null;
    } else if ((!d.padded && PADDED.test(v)) || (!d.lines && LINES.test(v))) return null;
  }
  let out = s.parts[0]!;
  for (let i = 0; i < s.at.length; i++) out += escapeLikeReact(values[s.at[i]!]!) + s.parts[i + 1]!;
  return out;
}

/**
 * The skeleton of a page with `slots` personal strings, where `draw(values)` is the page's markup
 * drawn in full (React) with those strings; null when some slot's plain values do not come out as
 * React draws them, or there are more than MAX_SLOTS.
 */
export function compileSkeleton(
  kinds: readonly SlotKind[],
  draw: (values: readonly string[]) => string,
): PageSkeleton | null {
  const steps = compileSteps(kinds, draw);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * compileSkeleton in turns: the event loop runs between one slot's probes and the next (a page's
 * probes are ~25 React draws per slot, milliseconds each turn, tens of them in all).
 */
export async function compileSkeletonInTurns(
  kinds: readonly SlotKind[],
  draw: (values: readonly string[]) => string,
): Promise<PageSkeleton | null> {
  const steps = compileSteps(kinds, draw);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* compileSteps(
  kinds: readonly SlotKind[],
  draw: (values: readonly string[]) => string,
): Generator<void, PageSkeleton | null> {
  const slots = kinds.length;
  if (slots > MAX_SLOTS) return null;
  const markup = draw(Array.from({ length: slots }, (_, i) => marker(i)));
  const parts: string[] = [];
  const at: number[] = [];
  let last = 0;
  for (const m of markup.matchAll(MARKER)) {
    const slot = Number(m[1]);
    if (slot >= slots) return null;
    parts.push(markup.slice(last, m.index));
    at.push(slot);
    last = m.index + m[0].length;
  }
  parts.push(markup.slice(last));
  // A marker cut or changed by a block (a slice, a case change) leaves a stray half.
  if (parts.some((p) => p.includes(OPEN) || p.includes(CLOSE))) return null;
  const full: SlotDomain = { empty: true, padded: true, lines: true };
  const skeleton: PageSkeleton = {
    kinds: [...kinds],
    parts,
    at,
    domains: Array.from({ length: slots }, () => full),
  };
  const same = (values: string[]) => fillSkeleton(skeleton, values) === draw(values);
  const base = kinds.map((k) => PLAIN_PROBES[k][0]!);
  // Every slot at once (the n-th probe of its kind), then each slot alone (the others plain).
  const rounds = Math.max(...Object.values(PLAIN_PROBES).map((p) => p.length));
  for (let r = 0; r < rounds; r++)
    if (!same(kinds.map((k) => PLAIN_PROBES[k][r % PLAIN_PROBES[k].length]!))) return null;
  const domains: SlotDomain[] = [];
  for (let i = 0; i < slots; i++) {
    yield;
    const alone = (probe: string) => {
      const values = [...base];
      values[i] = probe;
      return same(values);
    };
    if (!PLAIN_PROBES[kinds[i]!].every(alone)) return null;
    domains.push({
      empty: EMPTY_PROBES.every(alone),
      padded: PADDED_PROBES.every(alone),
      lines: LINES_PROBES.every(alone),
    });
  }
  return { ...skeleton, domains };
}
