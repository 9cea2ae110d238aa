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
