// issue 14: a visit's page comes from its document's skeleton (page-skeleton.ts) when it has one:
// the markup must be React's, byte for byte, for any customer — empty, padded, multi-line, HTML,
// unicode values included — and pages whose values decide what is drawn must have no skeleton.
import { createHash } from "node:crypto";
import { parsePublishedPage, validatePageDocument } from "@postpath/journey";
import { pageConfig } from "@postpath/pages";
import { describe, expect, it } from "vitest";
import { compileSkeleton, fillSkeleton } from "./page-skeleton.ts";
import {
  formRuntimes,
  pageBody,
  pageContext,
  pageRenderer,
  readySkeleton,
  skeletonOf,
} from "./purl.ts";

type Doc = Parameters<typeof pageBody>[0];

const defaults = (type: string) =>
  (pageConfig.components as Record<string, { defaultProps?: object }>)[type]?.defaultProps ?? {};
let blocks = 0;
const block = (type: string, props: Record<string, unknown>) => ({
  type,
  props: { id: `${type}-${++blocks}`, ...defaults(type), ...props },
});
/** A form field: the editor's new-field defaults (the Form block's `fields` array) and `extra`. */
const FIELD_DEFAULTS = (
  pageConfig.components.Form.fields as unknown as { fields: { defaultItemProps: object } }
).fields.defaultItemProps;
const field = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
  ...FIELD_DEFAULTS,
  name,
  label: `The ${name}`,
  type,
  ...extra,
});

/** Every block, Liquid in every templated text that is not a web address, forms of every field. */
function everyBlockDoc(): Doc {
  const doc = {
    root: { props: { title: "Hi {{ customer.first_name }}", accent: "#1f5f8b" } },
    content: [
      block("Heading", { text: "Welcome, {{ customer.first_name }}!" }),
      block("Text", { text: "{{ customer.note }} for {{ purl.serial }}." }),
      block("Text", { text: "No Liquid.\n\nTwo paragraphs." }),
      block("Image", { src: "https://example.com/m.png", alt: "{{ purl.model }}" }),
      block("Button", { label: "Open {{ purl.model }}", href: "/help" }),
      block("ProductCard", {
        title: "{{ purl.model }}",
        subtitle: "Serial {{ purl.serial }}",
        imageSrc: "https://example.com/p.png",
        imageAlt: "{{ purl.model }} photo",
        details: "{{ customer.note }}",
      }),
      block("CouponCard", {
        title: "{{ customer.first_name }}'s code",
        code: "{{ purl.code }}",
        description: "{{ customer.note }}",
        pendingText: "On its way, {{ customer.first_name }}.",
      }),
      block("Columns", {
        left: [block("Heading", { text: "{{ customer.city }}", level: "h2" })],
        right: [block("Text", { text: "Left: {{ customer.note }}" })],
      }),
      block("Form", {
        formId: "registration",
        title: "{{ customer.first_name }}, register",
        submitLabel: "Register",
        fields: [
          field("serial", "hidden", { prefill: "{{ purl.serial }}" }),
          field("email", "email", { required: true, prefill: "{{ customer.email }}" }),
          field("phone", "phone", { prefill: "{{ customer.phone }}" }),
          field("born", "date", { prefill: "{{ customer.born }}" }),
          field("city", "text", { prefill: "{{ customer.city }}", placeholder: "Town" }),
          field("plan", "select", { options: "Basic\nPremium", prefill: "Premium" }),
          field("news", "checkbox", { prefill: "yes" }),
        ],
        consent: { enabled: true, text: "Offers, please.", version: "1", required: false },
      }),
    ],
  };
  expect(validatePageDocument(doc)).toEqual([]);
  return parsePublishedPage(doc);
}

/**
 * Case `i`'s choices, from the bytes of a hash of its number: the same cases on every run, so a
 * failure names one that can be run again.
 */
function choices(i: number): () => number {
  const bytes = createHash("sha512").update(`purl-skeleton case ${i}`).digest();
  let at = 0;
  return () => bytes[at++ % bytes.length]! / 256;
}
const PIECES = [
  "",
  " ",
  "Ann",
  "O'Neil",
  "<img src=x onerror=alert(1)>",
  "&amp;",
  '"quoted"',
  "\n",
  "\n\n",
  "\r\n",
  "\t",
  "\u00a0",
  "Zoë",
  "🙂",
  "https://x.test/?a=1&b=2",
  "javascript:alert(1)",
  "{{ x }}",
  "\uE0001\uE001",
  "yes",
  "Premium",
];
const SOLID = PIECES.filter((p) => p !== "" && p.trim() === p && !/[\n\r]/.test(p));
/** Text of up to 3 pieces; `solid`: 1 to 3 pieces without spaces or line breaks (fits a skeleton). */
function value(next: () => number, solid: boolean): string {
  const from = solid ? SOLID : PIECES;
  let s = "";
  const n = solid ? 1 + Math.floor(next() * 3) : Math.floor(next() * 4);
  for (let i = 0; i < n; i++) s += from[Math.floor(next() * from.length)]!;
  return s;
}

/**
 * The page body of one visit from the skeleton (or React where the values don't fit it) and drawn
 * by React, and whether the skeleton's fill answered.
 */
function body(doc: Doc, attributes: Record<string, unknown>, params: Record<string, unknown>) {
  const ctx = pageContext(
    { token: "tok", runId: "run", customerId: "c1", params },
    { id: "c1", externalId: "u1", email: null, phone: null, timezone: null, attributes, tags: [] },
    [],
    [],
    "https://pages.test",
  );
  const render = pageRenderer(ctx, doc);
  const forms = formRuntimes(doc, render, (formId) => ({
    action: `/p/tok/forms/${formId}?v=3`,
    csrf: "Q2xpZW50LXNpZGUtdG9rZW4tZm9yLXRoZS1mb3Jt",
    key: "a1B2-c3D4_e5",
  }));
  const compiled = skeletonOf(doc);
  const filled =
    compiled &&
    fillSkeleton(
      compiled.skeleton,
      compiled.slots.map((s) =>
        s.kind === "template" ? render(s.template, s.field) : forms[s.formId]![s.part],
      ),
    );
  return {
    fromSkeleton: pageBody(doc, render, forms, { skeleton: true }),
    byReact: pageBody(doc, render, forms, { skeleton: false }),
    filled: filled != null,
  };
}

describe("landing page skeleton", () => {
  it("gives React's markup for 1,000 customers with odd values, on a page of every block", () => {
    const doc = everyBlockDoc();
    expect(skeletonOf(doc)).not.toBeNull();
    let filled = 0;
    for (let i = 0; i < 1000; i++) {
      const next = choices(i);
      const attributes = Object.fromEntries(
        ["first_name", "note", "email", "phone", "born", "city"].map((k) => [
          k,
          value(next, i % 2 === 0),
        ]),
      );
      const params = Object.fromEntries(
        ["serial", "model", "code"].map((k) => [k, value(next, i % 2 === 0)]),
      );
      const visit = body(doc, attributes, params);
      expect(visit.fromSkeleton, `case ${i}: ${JSON.stringify({ attributes, params })}`).toBe(
        visit.byReact,
      );
      if (visit.filled) filled++;
    }
    // Half the customers have values that all fit: those at least came from the fill.
    expect(filled).toBeGreaterThanOrEqual(500);
  });

  it("draws a plain customer from the skeleton, escaping what React escapes", () => {
    const doc = everyBlockDoc();
    const attributes = {
      first_name: "<img src=x onerror=alert(1)>",
      note: "Likes \"strong\" coffee & 'cream'",
      email: "ann@example.com",
      phone: "+44 20 7946 0958",
      born: "1980-02-03",
      city: "Zoë's town",
    };
    const params = { serial: "SN-1", model: "Barista Pro", code: "SAVE30" };
    const { fromSkeleton, byReact, filled } = body(doc, attributes, params);
    expect(fromSkeleton).toBe(byReact);
    expect(fromSkeleton).toContain("Welcome, &lt;img src=x onerror=alert(1)&gt;!");
    expect(fromSkeleton).not.toContain("<img src=x");
    // Every value of this customer fits the skeleton: its fill answered, not React.
    expect(filled).toBe(true);
  });

  it("has none where a value decides what is drawn: a web address, a checkbox's or select's pre-fill", () => {
    const page = (content: unknown[]) =>
      parsePublishedPage({ root: { props: { title: "t" } }, content }) as unknown as Doc;
    const form = (f: ReturnType<typeof field>) =>
      block("Form", {
        formId: "f",
        title: "",
        submitLabel: "Go",
        fields: [f],
        consent: { enabled: false, text: "", version: "1", required: false },
      });
    expect(
      skeletonOf(page([block("Heading", { text: "Hi {{ customer.first_name }}" })])),
    ).not.toBeNull();
    for (const doc of [
      page([block("Image", { src: "{{ purl.image }}", alt: "" })]),
      page([block("Button", { label: "Go", href: "{{ purl.link }}" })]),
      page([block("ProductCard", { title: "x", imageSrc: "https://x.test/{{ purl.model }}.png" })]),
      page([form(field("news", "checkbox", { prefill: "{{ customer.news }}" }))]),
      page([form(field("plan", "select", { options: "A\nB", prefill: "{{ customer.plan }}" }))]),
    ]) {
      expect(skeletonOf(doc)).toBeNull();
      // ...and the page is still drawn, by React.
      const { fromSkeleton, byReact } = body(doc, { news: "yes", plan: "B" }, { link: "/a" });
      expect(fromSkeleton).toBe(byReact);
    }
    // Paragraphs around a template: its text always has line breaks, which a Text block splits
    // into paragraphs, so every visit of this page is drawn by React.
    const paragraphs = page([
      block("Text", { text: "First.\n\nSecond, {{ customer.first_name }}." }),
    ]);
    expect(skeletonOf(paragraphs)).not.toBeNull();
    const visit = body(paragraphs, { first_name: "Ann" }, {});
    expect(visit.filled).toBe(false);
    expect(visit.fromSkeleton).toBe(visit.byReact);
    expect(visit.fromSkeleton).toContain("<p>Second, Ann.</p>");
  });

  it("is refused when a block changes a value, and a slot keeps only the kinds of value it was shown", () => {
    // A block that upper-cases its text: no skeleton.
    expect(compileSkeleton(["text"], ([v]) => `<p>${v!.toUpperCase()}</p>`)).toBeNull();
    // A block that drops an empty text and splits lines: the slot takes plain text only.
    const escape = (s: string) =>
      s
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;")
        .replace(/'/g, "&#x27;");
    const draw = ([v]: readonly string[]) =>
      v!.trim()
        ? v!
            .split("\n")
            .map((l) => `<p>${escape(l)}</p>`)
            .join("")
        : "";
    const s = compileSkeleton(["text"], draw)!;
    expect(s).not.toBeNull();
    expect(s.domains[0]).toEqual({ empty: false, padded: false, lines: false });
    expect(fillSkeleton(s, ["a <b>"])).toBe("<p>a &lt;b&gt;</p>");
    expect(fillSkeleton(s, [""])).toBeNull();
    expect(fillSkeleton(s, [" a"])).toBeNull();
    expect(fillSkeleton(s, ["a\nb"])).toBeNull();
    // A path slot takes only a path on this server; a token slot only base64url.
    const attrs = compileSkeleton(
      ["path", "token"],
      ([a, t]) => `<form action="${escape(a!)}"><input value="${escape(t!)}"/></form>`,
    )!;
    expect(fillSkeleton(attrs, ["/p/x", "abc"])).toBe(
      '<form action="/p/x"><input value="abc"/></form>',
    );
    expect(fillSkeleton(attrs, ["javascript:x", "abc"])).toBeNull();
    expect(fillSkeleton(attrs, ["/p/x", "a b"])).toBeNull();
  });

  it("compiles in turns on a page's first visits, drawn by React meanwhile", async () => {
    const doc = everyBlockDoc();
    const customer = { first_name: "Ann", email: "ann@example.com" };
    expect(readySkeleton(doc)).toBeNull(); // starts compiling
    const render = pageRenderer(
      pageContext(
        { token: "tok", runId: "run", customerId: "c1", params: {} },
        {
          id: "c1",
          externalId: "u1",
          email: null,
          phone: null,
          timezone: null,
          attributes: customer,
          tags: [],
        },
        [],
        [],
        "https://pages.test",
      ),
      doc,
    );
    const forms = formRuntimes(doc, render, () => ({ action: "/p/t", csrf: "c", key: "k" }));
    expect(pageBody(doc, render, forms, { skeleton: true })).toContain("Welcome, Ann!");
    // Each turn probes one slot; the event loop runs in between.
    let turns = 0;
    while (readySkeleton(doc) === null) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
      expect(turns, "the skeleton never became ready").toBeLessThan(10_000);
    }
    expect(turns).toBeGreaterThan(1);
    const ready = readySkeleton(doc)!;
    expect(ready.skeleton).toEqual(skeletonOf(everyBlockDoc())!.skeleton);
  });
});
