// Walk finding (page editor): block fields were labelled in a developer's words ("Form id",
// "Thank-you page address (slug)", "Accent colour (#rrggbb)", "Liquid: …"). Every field label is a
// marketer's, and the fields whose format matters say it and show an example.
import { describe, expect, it } from "vitest";
import { pageConfig } from "./index.ts";

type AnyField = {
  type?: string;
  label?: string;
  placeholder?: string;
  arrayFields?: Record<string, AnyField>;
  objectFields?: Record<string, AnyField>;
};

/** Every field of the config as [where, field], nested ones included. */
function allFields(): [string, AnyField][] {
  const out: [string, AnyField][] = [];
  const walk = (where: string, fields: Record<string, AnyField> | undefined) => {
    for (const [name, f] of Object.entries(fields ?? {})) {
      out.push([`${where}.${name}`, f]);
      walk(`${where}.${name}`, f.arrayFields);
      walk(`${where}.${name}`, f.objectFields);
    }
  };
  walk("root", pageConfig.root?.fields as Record<string, AnyField>);
  for (const [type, c] of Object.entries(pageConfig.components))
    walk(type, (c as { fields?: Record<string, AnyField> }).fields);
  return out;
}

describe("block field labels", () => {
  it("use no developer words", () => {
    const jargon = /\bids?\b|slug|liquid|#rrggbb|\battribute\b|\bpath\b|most characters/i;
    const bad = allFields().filter(([, f]) => jargon.test(f.label ?? ""));
    expect(bad.map(([where, f]) => `${where}: ${f.label}`)).toEqual([]);
    for (const [where, f] of allFields()) expect(f.label, where).toBeTruthy();
  });

  it("say the format, with an example, where one matters", () => {
    const fields = new Map(allFields());
    for (const where of [
      "root.accent",
      "Form.formId",
      "Form.thankYouSlug",
      "Form.fields.name",
      "Form.fields.saveTo",
      "Image.src",
      "Button.href",
    ])
      expect(fields.get(where)?.placeholder, where).toBeTruthy();
    expect(fields.get("root.accent")?.label).toBe("Brand colour (a colour code such as #1f5f8b)");
    expect(fields.get("Form.formId")?.label).toMatch(/^Form name for journeys/);
    expect(fields.get("Form.thankYouSlug")?.label).toMatch(/^Thank-you page shown after sending/);
  });
});
