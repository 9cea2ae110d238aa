// A page's <title> (purl.ts pageTitle) is decided without a zod parse per page: it must be what
// `PageRootProps.safeParse` of the personalised root props gave before — the personalised title,
// or the page's slug when the title is empty, too long, not text, or another root prop is invalid.
import { describe, expect, it } from "vitest";
import { PageRootProps } from "@postpath/journey";
import { pageTitle } from "./purl.ts";

/** How renderPage chose the title before. */
function parsedTitle(props: Record<string, unknown>, title: unknown, slug: string): string {
  const root = PageRootProps.safeParse({ ...props, title });
  return root.success ? root.data.title || slug : slug;
}

describe("page title without a zod parse per page", () => {
  it("is what PageRootProps.safeParse gave, for odd root props and titles", () => {
    const propsList: Record<string, unknown>[] = [
      {},
      { title: "Hello {{ customer.first_name }}", accent: "#1f5f8b" },
      { accent: "#1F5F8B", schemaVersion: 1 },
      { accent: "blue" },
      { accent: null },
      { schemaVersion: 1.5 },
      { schemaVersion: "1" },
      { extra: { anything: true } },
      { title: 5 },
    ];
    const titles: unknown[] = [
      undefined,
      null,
      "",
      " ",
      "Hello Ann",
      "x".repeat(499),
      "x".repeat(500),
      "x".repeat(501),
      "é".repeat(500),
      "😀".repeat(250),
      "😀".repeat(251),
      5,
      {},
      ["a"],
    ];
    let compared = 0;
    for (const props of propsList) {
      // Each stored document once (its checks are kept per document object).
      const stored = { content: [], root: { props } };
      for (const title of titles) {
        expect(pageTitle(stored, title, "welcome")).toBe(parsedTitle(props, title, "welcome"));
        compared++;
      }
    }
    expect(compared).toBe(propsList.length * titles.length);
    expect(pageTitle({ content: [], root: { props: {} } }, "Hi", "welcome")).toBe("Hi");
    expect(pageTitle({ content: [], root: { props: { accent: "x" } } }, "Hi", "welcome")).toBe(
      "welcome",
    );
  });
});
