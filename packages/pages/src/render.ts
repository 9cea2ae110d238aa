// issue 14: the element the server renders (react-dom/server) for a published page — the block
// components of the same Puck config the editor uses, called the way Puck's server `Render` calls
// them (each block's props plus `puck` {metadata, isEditing: false}; a slot field becomes a
// component drawing its blocks; the root's render gets the blocks as children), without Render's
// per-block bookkeeping for editing features pages don't use (rich text, drop zones): 0.06 against
// 0.21 ms of CPU per page (a micro-benchmark of the bench page; render.test.ts checks the HTML is Puck's, byte for
// byte, on every block type).
import {
  Fragment,
  createElement,
  type ComponentType,
  type CSSProperties,
  type ElementType,
  type ReactElement,
  type ReactNode,
} from "react";
import { pageConfig, type PageMetadata } from "./blocks.tsx";

type Block = { type: string; props: Record<string, unknown> };
type SlotProps = { className?: string; style?: CSSProperties; as?: ElementType };
type AnyComponent = {
  fields?: Record<string, { type?: string }>;
  render: ComponentType<Record<string, unknown>>;
};

const components = pageConfig.components as unknown as Record<string, AnyComponent>;
const rootRender = pageConfig.root!.render as unknown as ComponentType<Record<string, unknown>>;

/** Per block type, its slot fields (Columns: left and right). */
const slotFields = new Map(
  Object.entries(components).map(([type, c]) => [
    type,
    Object.entries(c.fields ?? {})
      .filter(([, f]) => f.type === "slot")
      .map(([name]) => name),
  ]),
);

function blocksOf(list: unknown, puck: object): ReactNode {
  if (!Array.isArray(list)) return null;
  return createElement(
    Fragment,
    null,
    ...list.map((raw) => {
      const block = raw as Block;
      const component = block && components[block.type];
      if (!component) return null; // an unknown block type draws nothing (as in Puck)
      const props: Record<string, unknown> = { ...block.props, puck };
      // A slot draws its blocks in an element of its own, as Puck's does (a div unless `as`).
      for (const slot of slotFields.get(block.type) ?? []) {
        const items = block.props[slot];
        props[slot] = ({ className, style, as }: SlotProps) =>
          createElement(as ?? "div", { className, style }, blocksOf(items, puck));
      }
      return createElement(component.render, { key: String(block.props["id"]), ...props });
    }),
  );
}

/** The page (Liquid already resolved), forms drawn with `metadata`'s runtime. */
export function pageElement(doc: unknown, metadata: PageMetadata = {}): ReactElement {
  const d = doc as { content?: unknown; root?: { props?: Record<string, unknown> } };
  const puck = { metadata, isEditing: false, dragRef: null, renderDropZone: () => null };
  const rootProps = d.root?.props ?? {};
  return createElement(rootRender, {
    ...rootProps,
    title: rootProps["title"] ?? "",
    editMode: false,
    id: "puck-root",
    puck,
    children: blocksOf(d.content, puck),
  });
}
