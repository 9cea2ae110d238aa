// issue 14: the page document model — publish checks name the block, and a form's submission
// schema checks each field type and keeps only the form's own fields.
import { describe, expect, it } from "vitest";
import { FormProps, formsOf, submissionSchema, validatePageDocument } from "./pages.ts";

const form = FormProps.parse({
  id: "f",
  formId: "registration",
  fields: [
    { name: "email", label: "Email", type: "email", required: true },
    { name: "phone", label: "Phone", type: "phone" },
    { name: "born", label: "Birthday", type: "date" },
    { name: "model", label: "Model", type: "select", options: "Basic\nPremium", required: true },
    { name: "news", label: "News", type: "checkbox" },
    { name: "serial", label: "", type: "hidden" },
  ],
  consent: { enabled: true, text: "I agree", required: true },
});

describe("submissionSchema", () => {
  const schema = submissionSchema(form);

  it("accepts a valid submission, trims text, turns checkboxes into booleans, drops unknown names", () => {
    const r = schema.safeParse({
      email: " ada@example.com ",
      phone: "+41 44 123 45 67",
      born: "1990-02-28",
      model: "Premium",
      news: "on",
      serial: "SN-1",
      consent: "on",
      admin: "true",
    });
    expect(r.success).toBe(true);
    expect(r.data).toEqual({
      email: "ada@example.com",
      phone: "+41 44 123 45 67",
      born: "1990-02-28",
      model: "Premium",
      news: true,
      serial: "SN-1",
      consent: true,
    });
  });

  it("names each field that is wrong, in a customer's words", () => {
    const r = schema.safeParse({
      email: "nope",
      phone: "call me",
      born: "2026-13-45",
      model: "Deluxe",
      serial: ["a", "b"],
    });
    expect(r.success).toBe(false);
    const byField = Object.fromEntries(
      (r.error?.issues ?? []).map((i) => [String(i.path[0]), i.message]),
    );
    expect(byField).toMatchObject({
      email: "Enter an email address like name@example.com.",
      phone: "Enter a phone number, digits and + only.",
      born: "Enter a date like 2026-03-31.",
      model: "Choose one of the options for “Model”.",
      consent: "Tick the box to agree before you submit.",
    });
    expect(schema.safeParse({ model: "Basic", consent: "on" }).error?.issues[0]?.message).toBe(
      "Fill in “Email”.",
    );
  });
});

describe("validatePageDocument", () => {
  it("finds forms inside columns and names blocks with problems", () => {
    const doc = {
      root: { props: { accent: "red" } },
      content: [
        {
          type: "Columns",
          props: {
            id: "c",
            left: [{ type: "Form", props: { id: "f1", formId: "a", fields: [] } }],
            right: [
              {
                type: "Form",
                props: { id: "f2", formId: "a", fields: [{ name: "_csrf", label: "X" }] },
              },
            ],
          },
        },
        { type: "Marquee", props: { id: "m" } },
      ],
    };
    expect(formsOf(doc).map((f) => f.formId)).toEqual(["a", "a"]);
    const issues = validatePageDocument(doc).map((i) => `${i.block}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        "Page settings: Use a colour like #1f6feb",
        "Form “a”: Add at least one field to the form.",
        "Form “a”: Another form on this page already has the name “a”.",
        "Form “a”: The field name “_csrf” is reserved; choose another.",
        "Block “Marquee”: This kind of block is not known; remove it.",
      ]),
    );
  });

  it("names a block's settings as the editor's panel does, not by their code names", () => {
    const doc = {
      root: { props: {} },
      content: [
        { type: "CouponCard", props: { id: "c", pendingText: "{% if %}" } },
        {
          type: "Form",
          props: { id: "f", formId: "reg", fields: [{ name: "a", label: "A" }, { maxLength: 0 }] },
        },
      ],
    };
    const messages = validatePageDocument(doc).map((i) => i.message);
    expect(messages).toEqual([
      expect.stringMatching(/^The text while the code is on its way: /),
      expect.stringMatching(/^The field 2, longest answer: /),
    ]);
    expect(messages.join(" ")).not.toMatch(/pendingText|maxLength|fields\.1/);
  });
});
