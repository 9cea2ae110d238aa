// issue 14: a page's output-only Liquid texts are rendered in one Liquid call (purl.ts
// pageRenderer); every text must come out exactly as when it is rendered on its own — also
// beside texts that do not parse, run into the next one, trim whitespace or fail.
import { describe, expect, it } from "vitest";
import { stepTemplateRenderer } from "@postpath/journey";
import { pageRenderer, renderJoined, templatesOf } from "./purl.ts";

const context = {
  first_name: "ann",
  customer: {
    first_name: "ann",
    last_name: "<b>Lee</b>",
    email: "ann@example.com",
    note: "}} {{ not liquid {% raw %}",
  },
  purl: { serial: "SN-1", model: "Barista Pro" },
};

/** A page whose heading, texts and form pre-fills are `texts` (fields, then the title). */
function page(texts: string[]) {
  return {
    root: { props: { title: texts[0] ?? "" } },
    content: [
      ...texts.map((text, i) => ({ type: "Text", props: { id: `t${i}`, text } })),
      {
        type: "Form",
        props: {
          id: "f",
          formId: "reg",
          title: "Register",
          submitLabel: "Send",
          thankYouSlug: "thanks",
          fields: texts.map((prefill, i) => ({
            name: `f${i}`,
            label: `Field ${i}`,
            type: "text",
            prefill,
          })),
          consent: { enabled: false, text: "", version: "1", required: false },
        },
      },
    ],
  };
}

/** Whether the page's texts went out in one Liquid call (else each alone). */
const joinedOnce = (texts: string[]) =>
  renderJoined(page(texts), (t) => stepTemplateRenderer()(t, context, "page")) !== null;

/** What each text renders to: combined for the page (with its document) and each on its own. */
function both(texts: string[]) {
  const doc = page(texts);
  const combined = pageRenderer(context, doc);
  const alone = pageRenderer(context);
  return texts.map((t, i) => ({
    t,
    combined: combined(t, `t${i}`),
    alone: alone(t, `t${i}`),
  }));
}

describe("issue 14: a page's Liquid texts in one render", () => {
  it("renders each text as it renders alone", () => {
    const texts = [
      "Register your machine, {{ customer.first_name }}",
      "Welcome, {{ customer.first_name | capitalize }}!",
      "{{ purl.model | default: 'Barista Pro' }}",
      "Serial {{ purl.serial }}",
      "Bought by {{ customer.first_name }} {{ customer.last_name }}.",
      "{{ customer.email }}",
      "{{ customer.note }}",
      "Trim  {{- customer.first_name -}}  here",
      "  {{- purl.serial }}",
      "{{ purl.serial -}}   ",
      "{{ first_name }} {{ missing.value }}.",
      "No Liquid at all",
      "{ braces } but no Liquid {",
    ];
    const joined = templatesOf(page(texts));
    expect(joined?.list.length).toBe(texts.filter((t) => t.includes("{")).length);
    expect(joinedOnce(texts)).toBe(true);
    for (const r of both(texts)) expect(r.combined, r.t).toBe(r.alone);
    expect(both(texts)[1]!.combined).toBe("Welcome, Ann!");
    expect(both(texts)[7]!.combined).toBe("Trimannhere");
  });

  it("a text that does not parse, or runs into the next, leaves every other text as it renders alone", () => {
    for (const bad of [
      "Hi {{ customer.first_name",
      "Hi {{ customer.first_name }",
      "{{ customer.first_name | no_such_filter }}",
      "{{ 'unterminated }}",
      "}} {{",
      "{{ customer.first_name | append: }}",
    ]) {
      const texts = ["Welcome, {{ customer.first_name }}!", bad, "Serial {{ purl.serial }}"];
      const rs = both(texts);
      for (const r of rs) expect(r.combined, `${bad} / ${r.t}`).toBe(r.alone);
      // Each of these fails alone, so the one call must fail too (and each renders alone).
      expect(joinedOnce(texts), bad).toBe(false);
      expect(rs[0]!.combined).toBe("Welcome, ann!");
      expect(rs[2]!.combined).toBe("Serial SN-1");
    }
  });

  it("texts with tags render alone (a tag may assign or loop), beside the combined ones", () => {
    const texts = [
      "{% assign first_name = 'zed' %}{{ first_name }}",
      "{{ first_name }}",
      "{% for i in (1..3) %}{{ i }}{% endfor %}",
      "{{ purl.serial }}",
    ];
    const rs = both(texts);
    for (const r of rs) expect(r.combined, r.t).toBe(r.alone);
    expect(rs.map((r) => r.combined)).toEqual(["zed", "ann", "123", "SN-1"]);
    expect(templatesOf(page(texts))?.list).toEqual(["{{ first_name }}", "{{ purl.serial }}"]);
    expect(joinedOnce(texts)).toBe(true);
  });
});
