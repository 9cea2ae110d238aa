// issue 14: the element the server renders (react-dom/server) for a published page: Puck's own
// `Render` with the same config the editor uses.
import { Render } from "@puckeditor/core/rsc";
import type { Data } from "@puckeditor/core";
import { createElement, type ReactElement } from "react";
import { pageConfig, type PageMetadata } from "./blocks.tsx";

/** `<Render config={pageConfig} data={doc} metadata={metadata} />` (Liquid already resolved). */
export function pageElement(doc: unknown, metadata: PageMetadata = {}): ReactElement {
  return createElement(Render, { config: pageConfig, data: doc as Data, metadata });
}
