import { Render } from "@puckeditor/core/rsc";
import type { Data } from "@puckeditor/core";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { pageConfig, pageElement } from "./index.ts";

const doc = {
  root: { props: { title: "T", accent: "#112233", schemaVersion: 1 } },
  content: [
    {
      type: "Heading",
      props: { id: "h", text: "Hello <img src=x onerror=alert(1)>", level: "h1", align: "left" },
    },
    {
      type: "Columns",
      props: {
        id: "c",
        layout: "2:1",
        left: [{ type: "Text", props: { id: "t", text: "Left text", align: "left" } }],
        right: [
          {
            type: "CouponCard",
            props: { id: "k", title: "Code", code: "", description: "", pendingText: "On its way" },
          },
        ],
      },
    },
    { type: "Form", props: { id: "f", ...pageConfig.components.Form.defaultProps } },
  ],
};

describe("pageElement", () => {
  it("renders every block with the same config the editor uses, text escaped, forms with their runtime", () => {
    const html = renderToStaticMarkup(
      pageElement(doc, {
        forms: {
          registration: {
            action: "/p/tok/forms/registration",
            csrf: "C",
            key: "K",
            values: { email: "a@b.co" },
            errors: { email: "Enter an email address" },
          },
        },
      }),
    );
    expect(html).toContain("Hello &lt;img src=x onerror=alert(1)&gt;");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("Left text");
    expect(html).toContain("On its way");
    expect(html).toContain('action="/p/tok/forms/registration"');
    expect(html).toContain('value="a@b.co"');
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain("--pp-accent:#112233");
  });
});

describe("pageElement draws what Puck's server Render draws", () => {
  const every = {
    root: { props: { title: "All blocks", accent: "#1f5f8b", schemaVersion: 1 } },
    content: [
      ...Object.entries(pageConfig.components)
        .filter(([type]) => type !== "Columns")
        .map(([type, c]) => ({ type, props: { id: `${type}-1`, ...c.defaultProps } })),
      {
        type: "Columns",
        props: {
          id: "cols",
          layout: "1:2",
          left: [{ type: "Image", props: { id: "i", src: "/logo.png", alt: "Logo" } }],
          right: [{ type: "Button", props: { id: "b", label: "Go", href: "https://x.example" } }],
        },
      },
      { type: "NoSuchBlock", props: { id: "gone" } },
    ],
  };
  for (const [name, d] of [
    ["the document above", doc],
    ["every block type with its defaults, columns, an unknown block", every],
  ] as const)
    it(`byte for byte: ${name}`, () => {
      const metadata = {
        forms: {
          registration: {
            action: "/p/t/forms/registration",
            csrf: "C",
            key: "K",
            values: { email: "a@b.co" },
            errors: { email: "Enter an email address" },
          },
        },
      };
      const puck = renderToStaticMarkup(
        createElement(Render, { config: pageConfig, data: d as unknown as Data, metadata }),
      );
      expect(renderToStaticMarkup(pageElement(d, metadata))).toBe(puck);
      expect(puck.length).toBeGreaterThan(200);
    });
});
