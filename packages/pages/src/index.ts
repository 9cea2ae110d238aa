// @postpath/pages (issue 14): the landing-page blocks as React components and the Puck config the
// web editor and the server both use. The document's zod model (PageDocument, formsOf,
// validatePageDocument, submissionSchema) is in @postpath/journey — the API cannot import React.
export { pageConfig, safeUrl, optionsOf } from "./blocks.tsx";
export type {
  Blocks,
  PageRoot,
  FieldType,
  FormBlock,
  FormFieldProps,
  FormRuntime,
  PageMetadata,
  HeadingBlock,
  TextBlock,
  ImageBlock,
  ButtonBlock,
  ProductCardBlock,
  CouponCardBlock,
  ColumnsBlock,
} from "./blocks.tsx";
export { PAGE_CSS } from "./styles.ts";
export { pageElement } from "./render.ts";
export { TEMPLATED_PROPS, URL_PROPS, renderForgiving } from "./personalise.ts";
