// issue 14: the editor's blocks (@postpath/pages, React + Puck) and the document model
// (@postpath/journey, zod) describe the same props: every block the editor offers is known to
// publish validation, and a page made of every block with its editor defaults can be published
// and rendered on the server.
import {
  BLOCK_PROPS,
  BLOCK_TYPES,
  parsePublishedPage,
  validatePageDocument,
} from "@postpath/journey";
import { pageConfig, pageElement } from "@postpath/pages";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

describe("page blocks: editor config and document model agree", () => {
  it("offers exactly the block types publish knows, each default valid", () => {
    expect(Object.keys(pageConfig.components).sort()).toEqual([...BLOCK_TYPES].sort());
    for (const [type, c] of Object.entries(pageConfig.components)) {
      const parsed = BLOCK_PROPS[type as keyof typeof BLOCK_PROPS].safeParse({
        id: `${type}-1`,
        ...c.defaultProps,
      });
      expect(parsed.success, `${type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it("a page of every block with its defaults publishes and renders", () => {
    const block = (type: string) => ({
      type,
      props: {
        id: `${type}-1`,
        ...(pageConfig.components as Record<string, { defaultProps?: object }>)[type]?.defaultProps,
      },
    });
    const doc = {
      root: { props: pageConfig.root?.defaultProps ?? {} },
      content: BLOCK_TYPES.map((t) =>
        t === "Columns"
          ? {
              type: t,
              props: { ...block(t).props, left: [block("Text")], right: [block("Button")] },
            }
          : block(t),
      ),
    };
    expect(validatePageDocument(doc)).toEqual([]);
    const html = renderToStaticMarkup(pageElement(parsePublishedPage(doc)));
    expect(html).toContain("pp-columns");
    expect(html).toContain("pp-form");
  });
});
