// Walk finding (page editor): the preview showed raw Liquid. The editor's config draws each block
// with its Liquid rendered for the sample customer and sample link values, under the server's
// Liquid limits; the stored props stay the Liquid the marketer typed.
import { pageConfig } from "@postpath/pages";
import { render, screen } from "@testing-library/react";
import type { ReactElement } from "react";
import { describe, expect, it } from "vitest";
import { previewConfig, previewText, samplePageContext } from "./pagePreview.ts";

const puck = { metadata: {}, isEditing: true, dragRef: null, renderDropZone: () => null };

function draw(type: string, props: Record<string, unknown>) {
  const components = previewConfig(pageConfig).components as unknown as Record<
    string,
    { render: (p: Record<string, unknown>) => ReactElement }
  >;
  return render(components[type]!.render({ ...props, id: "b1", puck }));
}

describe("page editor preview with sample values", () => {
  it("draws the heading and product card with the sample customer and link values", () => {
    const stored = { text: "Welcome, {{ customer.first_name }}!", level: "h1", align: "left" };
    draw("Heading", stored);
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Welcome, Ada!");
    expect(stored.text).toBe("Welcome, {{ customer.first_name }}!");
    draw("ProductCard", {
      title: "{{ purl.model }}",
      subtitle:
        'Save {% if purl.tier == "premium" %}30{% else %}25{% endif %}% · {{ purl.serial }}',
      imageSrc: "",
      imageAlt: "",
      details: "",
    });
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Barista Pro");
    expect(screen.getByText("Save 30% · SN-0042")).toBeTruthy();
    expect(document.body.textContent).not.toMatch(/\{\{|\{%/);
  });

  it("never reads files and stops runaway templates, as the server does", () => {
    const ctx = samplePageContext();
    expect(previewText("Hi {{ customer.first_name }}{% include '/etc/passwd' %}", ctx, "t")).toBe(
      "Hi Ada",
    );
    const runaway =
      "{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}";
    // Stopped by the time/render limit: the tags drop, the literal text stays (as on the server).
    expect(previewText(`A${runaway}B`, ctx, "t")).toBe("AxB");
    expect(previewText("{{ customer.first_name | no_such_filter }} there", ctx, "t")).toBe(
      " there",
    );
  });
});
