// issue 14: landing-page documents. A page is a Puck document (`{content, root}`) of blocks; this
// module is its pure model — block props schemas, the stored-document shape, publish validation
// and the form-submission schema built from a form block. It lives here (not in @postpath/pages,
// which holds the React components and the Puck config) because the API, the server and the web
// app all import @postpath/journey, and the API cannot import React.
import { z } from "zod";
import { analyzeTemplate } from "./templating.ts";

/** Version of the stored document shape (kept in root.props). */
export const PAGE_SCHEMA_VERSION = 1;

/** A slug: what a PURL step's `page` names, and the thank-you page reference of a form. */
export const PageSlug = z
  .string()
  .trim()
  .min(1, "Give the page an address")
  .max(80, "Keep the page address under 80 characters")
  .regex(
    /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
    "Use lower-case letters, digits and dashes for the page address (e.g. machine-registration)",
  );

export const FORM_FIELD_TYPES = [
  "text",
  "email",
  "phone",
  "select",
  "checkbox",
  "date",
  "hidden",
] as const;
export const FormFieldType = z.enum(FORM_FIELD_TYPES);
export type FormFieldType = z.infer<typeof FormFieldType>;

/** Props every block carries (Puck gives each block an id). */
const BlockId = z.string().min(1).max(200);

export const HeadingProps = z.object({
  id: BlockId,
  /** Liquid: `Welcome, {{ customer.first_name }}`. */
  text: z.string().max(2000).default(""),
  level: z.enum(["h1", "h2", "h3"]).default("h1"),
  align: z.enum(["left", "center"]).default("left"),
});
export type HeadingProps = z.infer<typeof HeadingProps>;

export const TextProps = z.object({
  id: BlockId,
  /** Liquid; blank lines separate paragraphs. */
  text: z.string().max(20_000).default(""),
  align: z.enum(["left", "center"]).default("left"),
});
export type TextProps = z.infer<typeof TextProps>;

export const ImageProps = z.object({
  id: BlockId,
  /** https: or a path on this server; Liquid allowed. */
  src: z.string().max(2000).default(""),
  alt: z.string().max(500).default(""),
});
export type ImageProps = z.infer<typeof ImageProps>;

export const ButtonProps = z.object({
  id: BlockId,
  label: z.string().max(200).default("Learn more"),
  /** https:, mailto:, tel: or a path; Liquid allowed. */
  href: z.string().max(2000).default(""),
  variant: z.enum(["primary", "secondary"]).default("primary"),
});
export type ButtonProps = z.infer<typeof ButtonProps>;

/** The customer's machine/product: usually `{{ purl.model }}`, `{{ purl.serial }}`. */
export const ProductCardProps = z.object({
  id: BlockId,
  title: z.string().max(500).default(""),
  subtitle: z.string().max(500).default(""),
  imageSrc: z.string().max(2000).default(""),
  imageAlt: z.string().max(500).default(""),
  details: z.string().max(5000).default(""),
});
export type ProductCardProps = z.infer<typeof ProductCardProps>;

/** A discount code, e.g. `{{ coupon.code }}`. While it renders empty, `pendingText` shows. */
export const CouponCardProps = z.object({
  id: BlockId,
  title: z.string().max(500).default("Your discount"),
  code: z.string().max(500).default("{{ coupon.code }}"),
  description: z.string().max(5000).default(""),
  pendingText: z.string().max(2000).default("Your code is on its way by email."),
});
export type CouponCardProps = z.infer<typeof CouponCardProps>;

export const FormField = z.object({
  /** The submitted property name (`serial`, `email`): letters, digits, underscore. */
  name: z.string().max(64).default(""),
  label: z.string().max(500).default(""),
  type: FormFieldType.default("text"),
  required: z.boolean().default(false),
  /** Liquid pre-fill, e.g. `{{ customer.first_name }}` or `{{ purl.serial }}`. */
  prefill: z.string().max(2000).default(""),
  placeholder: z.string().max(200).default(""),
  /** select: the choices, one per line. */
  options: z.string().max(10_000).default(""),
  /** Most characters accepted (text-like fields). */
  maxLength: z.number().int().min(1).max(10_000).default(200),
  /** Customer attribute the submitted value is saved to (empty: not saved). */
  saveTo: z.string().max(64).default(""),
});
export type FormField = z.infer<typeof FormField>;

export const FormProps = z.object({
  id: BlockId,
  /** What `trigger.form` and `form_submitted.form` name: letters, digits, dashes. */
  formId: z.string().max(64).default(""),
  title: z.string().max(500).default(""),
  submitLabel: z.string().max(200).default("Submit"),
  fields: z.array(FormField).max(50).default([]),
  /** A consent checkbox (recorded with its text, version, time and IP when ticked). */
  consent: z
    .object({
      enabled: z.boolean().default(false),
      text: z.string().max(2000).default(""),
      version: z.string().max(50).default("1"),
      required: z.boolean().default(true),
    })
    .default({ enabled: false, text: "", version: "1", required: true }),
  /** The page shown after a successful submit (slug); empty: a plain "Thank you". */
  thankYouSlug: z.string().max(80).default(""),
});
export type FormProps = z.infer<typeof FormProps>;

export const COLUMN_LAYOUTS = ["1:1", "2:1", "1:2"] as const;

/** Any block, loosely: what a draft may hold (an editor mid-edit, an unknown type). */
export const LooseBlock = z.object({
  type: z.string().min(1).max(100),
  props: z.record(z.string(), z.unknown()),
});
export type LooseBlock = z.infer<typeof LooseBlock>;

export const RootProps = z.object({
  /** The browser tab title; Liquid allowed. */
  title: z.string().max(500).default(""),
  /** Accent colour of buttons and headings (#rrggbb). */
  accent: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, "Use a colour like #1f6feb")
    .default("#1f5f8b"),
  schemaVersion: z.number().int().default(PAGE_SCHEMA_VERSION),
});
export type RootProps = z.infer<typeof RootProps>;

/**
 * A stored Puck document as drafts keep it: blocks may be half-filled or of a type this version
 * does not know. Published versions passed `validatePageDocument`.
 */
export const PageDocument = z.object({
  content: z.array(LooseBlock).max(500),
  root: z.object({ props: z.record(z.string(), z.unknown()).default({}) }).default({ props: {} }),
  zones: z.record(z.string(), z.array(LooseBlock)).optional(),
});
export type PageDocument = z.infer<typeof PageDocument>;

export type ColumnsProps = {
  id: string;
  layout: (typeof COLUMN_LAYOUTS)[number];
  left: Block[];
  right: Block[];
};

/** A validated block (what a published version holds). */
export type Block =
  | { type: "Heading"; props: HeadingProps }
  | { type: "Text"; props: TextProps }
  | { type: "Image"; props: ImageProps }
  | { type: "Button"; props: ButtonProps }
  | { type: "ProductCard"; props: ProductCardProps }
  | { type: "CouponCard"; props: CouponCardProps }
  | { type: "Form"; props: FormProps }
  | { type: "Columns"; props: ColumnsProps };
export type BlockType = Block["type"];

export const ColumnsProps: z.ZodType<ColumnsProps> = z.lazy(() =>
  z.object({
    id: BlockId,
    layout: z.enum(COLUMN_LAYOUTS).default("1:1"),
    left: z.array(Block).max(200).default([]),
    right: z.array(Block).max(200).default([]),
  }),
);

export const Block: z.ZodType<Block> = z.lazy(() =>
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("Heading"), props: HeadingProps }),
    z.object({ type: z.literal("Text"), props: TextProps }),
    z.object({ type: z.literal("Image"), props: ImageProps }),
    z.object({ type: z.literal("Button"), props: ButtonProps }),
    z.object({ type: z.literal("ProductCard"), props: ProductCardProps }),
    z.object({ type: z.literal("CouponCard"), props: CouponCardProps }),
    z.object({ type: z.literal("Form"), props: FormProps }),
    z.object({ type: z.literal("Columns"), props: ColumnsProps }),
  ]),
);

/** The block props schema of each type (for checks that the editor's defaults are valid). */
export const BLOCK_PROPS: Record<BlockType, z.ZodType> = {
  Heading: HeadingProps,
  Text: TextProps,
  Image: ImageProps,
  Button: ButtonProps,
  ProductCard: ProductCardProps,
  CouponCard: CouponCardProps,
  Form: FormProps,
  Columns: ColumnsProps,
};
export const BLOCK_TYPES = Object.keys(BLOCK_PROPS) as BlockType[];

/** A published, validated document. */
export type PublishedPage = { content: Block[]; root: { props: RootProps } };

/** One problem that stops publishing, naming the block ("Form “registration”: …"). */
export type PageIssue = { blockId: string | null; block: string; message: string };

const BLOCK_LABELS: Record<BlockType, string> = {
  Heading: "Heading",
  Text: "Text",
  Image: "Image",
  Button: "Button",
  ProductCard: "Product card",
  CouponCard: "Coupon card",
  Form: "Form",
  Columns: "Columns",
};

function blockName(type: string, props: Record<string, unknown>): string {
  const label = (BLOCK_LABELS as Record<string, string>)[type] ?? `Block “${type}”`;
  if (type === "Form" && typeof props["formId"] === "string" && props["formId"])
    return `${label} “${props["formId"]}”`;
  if (typeof props["text"] === "string" && props["text"].trim())
    return `${label} “${props["text"].trim().slice(0, 40)}”`;
  if (typeof props["label"] === "string" && props["label"].trim())
    return `${label} “${props["label"].trim().slice(0, 40)}”`;
  return label;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FORM_ID = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;
/** Names the form itself posts; a field may not take them. */
export const RESERVED_FIELD_NAMES = [
  "_csrf",
  "_key",
  "_hp",
  "consent",
  "form",
  "formId",
  "pageSlug",
];
/** Attributes a form may not overwrite (identity and built-ins). */
const RESERVED_ATTRIBUTES = new Set(["id", "externalId", "userId", "attributes", "tags"]);

/** Every form block in the document, including those inside columns, in reading order. */
export function formsOf(doc: { content: readonly unknown[] }): FormProps[] {
  const out: FormProps[] = [];
  walkBlocks(doc.content, (b) => {
    if (b.type === "Form") {
      const parsed = FormProps.safeParse(b.props);
      if (parsed.success) out.push(parsed.data);
    }
  });
  return out;
}

/** Visits every block (depth first, columns' slots included). */
export function walkBlocks(
  content: readonly unknown[],
  visit: (block: { type: string; props: Record<string, unknown> }) => void,
): void {
  for (const raw of content) {
    const b = LooseBlock.safeParse(raw);
    if (!b.success) continue;
    visit(b.data);
    for (const value of Object.values(b.data.props))
      if (Array.isArray(value) && value.every((v) => LooseBlock.safeParse(v).success))
        walkBlocks(value, visit);
  }
}

/** A block setting in the words the page editor's side panel uses (messages never say `imageSrc`). */
const PROP_WORDS: Record<string, string> = {
  text: "text",
  level: "size",
  align: "alignment",
  src: "image address",
  alt: "image description",
  label: "label",
  href: "link",
  variant: "style",
  title: "title",
  subtitle: "subtitle",
  imageSrc: "image address",
  imageAlt: "image description",
  details: "details",
  code: "code",
  description: "description",
  pendingText: "text while the code is on its way",
  formId: "form name for journeys",
  submitLabel: "button label",
  fields: "fields",
  name: "answer name",
  type: "type",
  required: "required",
  prefill: "filled in with",
  placeholder: "placeholder",
  options: "choices",
  maxLength: "longest answer",
  saveTo: "profile attribute",
  consent: "consent checkbox",
  enabled: "ask for consent",
  version: "version of the consent text",
  thankYouSlug: "thank-you page",
  layout: "layout",
  accent: "accent colour",
};

/** `fields.1.maxLength` → "field 2, longest answer". */
function settingWords(path: readonly PropertyKey[]): string {
  const words = path.map((k) =>
    typeof k === "number" ? `${k + 1}` : (PROP_WORDS[String(k)] ?? String(k)),
  );
  return words.join(" ").replace(/^fields (\d+)/, "field $1,") || "settings";
}

function liquidIssue(template: string): string | null {
  const a = analyzeTemplate(template);
  return a.ok ? null : a.error;
}

const TEMPLATED: Partial<Record<BlockType, readonly string[]>> = {
  Heading: ["text"],
  Text: ["text"],
  Image: ["src", "alt"],
  Button: ["label", "href"],
  ProductCard: ["title", "subtitle", "imageSrc", "imageAlt", "details"],
  CouponCard: ["title", "code", "description", "pendingText"],
  Form: ["title"],
};

/**
 * What stops a document from being published, each naming its block: unknown block types, props
 * that do not fit, Liquid that does not parse, forms without fields, duplicate field names or
 * form ids, a select without options, a bad thank-you page address. Empty: it can be published.
 */
export function validatePageDocument(input: unknown): PageIssue[] {
  const doc = PageDocument.safeParse(input);
  if (!doc.success)
    return [{ blockId: null, block: "Page", message: "The page document cannot be read." }];
  const issues: PageIssue[] = [];
  const root = RootProps.safeParse(doc.data.root.props);
  if (!root.success)
    issues.push({
      blockId: null,
      block: "Page settings",
      message: root.error.issues[0]?.message ?? "The page settings are not valid.",
    });
  else {
    const problem = liquidIssue(root.data.title);
    if (problem)
      issues.push({ blockId: null, block: "Page settings", message: `The title: ${problem}` });
  }
  if (doc.data.content.length === 0)
    issues.push({ blockId: null, block: "Page", message: "Add at least one block to the page." });
  const formIds = new Set<string>();
  walkBlocks(doc.data.content, (raw) => {
    const name = blockName(raw.type, raw.props);
    const blockId = typeof raw.props["id"] === "string" ? raw.props["id"] : null;
    const add = (message: string) => issues.push({ blockId, block: name, message });
    if (!(raw.type in BLOCK_PROPS)) {
      add("This kind of block is not known; remove it.");
      return;
    }
    const type = raw.type as BlockType;
    const parsed = BLOCK_PROPS[type].safeParse(raw.props);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      add(
        first ? `The ${settingWords(first.path)}: ${first.message}` : "Its settings are not valid.",
      );
      return;
    }
    for (const key of TEMPLATED[type] ?? []) {
      const value = raw.props[key];
      if (typeof value !== "string") continue;
      const problem = liquidIssue(value);
      if (problem) add(`The ${settingWords([key])}: ${problem}`);
    }
    if (type === "Form") formIssues(parsed.data as FormProps, formIds, add);
  });
  return issues;
}

function formIssues(form: FormProps, formIds: Set<string>, add: (message: string) => void): void {
  if (!FORM_ID.test(form.formId))
    add(
      "Give the form a name for journeys of lower-case letters, digits and dashes (e.g. registration).",
    );
  else if (formIds.has(form.formId))
    add(`Another form on this page already has the name “${form.formId}”.`);
  formIds.add(form.formId);
  if (form.fields.length === 0) add("Add at least one field to the form.");
  const names = new Set<string>();
  for (const [i, f] of form.fields.entries()) {
    const which = f.label.trim() || f.name || `field ${i + 1}`;
    if (!FIELD_NAME.test(f.name))
      add(`The field “${which}” needs a name of letters, digits and underscores.`);
    else if (RESERVED_FIELD_NAMES.includes(f.name))
      add(`The field name “${f.name}” is reserved; choose another.`);
    else if (names.has(f.name)) add(`Two fields are named “${f.name}”; names must be unique.`);
    names.add(f.name);
    if (f.type !== "hidden" && !f.label.trim()) add(`The field “${which}” needs a label.`);
    if (f.type === "select" && selectOptions(f).length === 0)
      add(`The list “${which}” needs at least one option (one per line).`);
    const problem = liquidIssue(f.prefill);
    if (problem) add(`The pre-fill of “${which}”: ${problem}`);
    if (f.saveTo && (!FIELD_NAME.test(f.saveTo) || RESERVED_ATTRIBUTES.has(f.saveTo)))
      add(`“${which}” saves to “${f.saveTo}”, which cannot be a customer attribute name.`);
  }
  if (form.consent.enabled && !form.consent.text.trim())
    add("The consent checkbox needs the text the customer agrees to.");
  if (form.thankYouSlug && !PageSlug.safeParse(form.thankYouSlug).success)
    add(`The thank-you page “${form.thankYouSlug}” is not a valid page address.`);
}

/** The validated document (throws when `validatePageDocument` reports issues). */
export function parsePublishedPage(input: unknown): PublishedPage {
  const doc = PageDocument.parse(input);
  return {
    content: z.array(Block).parse(doc.content),
    root: { props: RootProps.parse(doc.root.props) },
  };
}

/** The choices of a select field. */
export function selectOptions(f: Pick<FormField, "options">): string[] {
  return f.options
    .split("\n")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()./-]{6,20}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The posted value of one field, checked; messages name the field in a customer's words. */
function fieldSchema(f: FormField): z.ZodType<string | boolean | undefined> {
  const label = f.label.trim() || f.name;
  if (f.type === "checkbox") {
    const box = z.preprocess((v) => v === "on" || v === "true" || v === "1", z.boolean());
    return f.required ? box.refine((v) => v, `Tick “${label}” to continue.`) : box;
  }
  let s: z.ZodType<string> = z
    .string()
    .trim()
    .max(
      f.type === "hidden" ? 2000 : f.maxLength,
      `Keep “${label}” under ${f.maxLength} characters.`,
    );
  switch (f.type) {
    case "email":
      s = s.refine(
        (v) => v === "" || EMAIL.test(v),
        "Enter an email address like name@example.com.",
      );
      break;
    case "phone":
      s = s.refine((v) => v === "" || PHONE.test(v), "Enter a phone number, digits and + only.");
      break;
    case "date":
      s = s.refine(
        (v) => v === "" || (DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))),
        "Enter a date like 2026-03-31.",
      );
      break;
    case "select": {
      const options = selectOptions(f);
      s = s.refine(
        (v) => v === "" || options.includes(v),
        `Choose one of the options for “${label}”.`,
      );
      break;
    }
    case "text":
    case "hidden":
      break;
  }
  if (f.required) s = s.refine((v) => v !== "", `Fill in “${label}”.`);
  // A repeated name posts an array: the first value counts.
  return z.preprocess((v) => {
    const first: unknown = Array.isArray(v) ? v[0] : v;
    return typeof first === "string" ? first : "";
  }, s);
}

/**
 * The zod schema of one submission of `form`: each field by name (strings trimmed, checkboxes as
 * booleans), plus `consent` when the form asks for it. Unknown posted names are dropped.
 */
export function submissionSchema(
  form: FormProps,
): z.ZodType<Record<string, string | boolean | undefined>> {
  const shape: Record<string, z.ZodType> = {};
  for (const f of form.fields) shape[f.name] = fieldSchema(f);
  if (form.consent.enabled) {
    const box = z.preprocess((v) => v === "on" || v === "true" || v === "1", z.boolean());
    shape["consent"] = form.consent.required
      ? box.refine((v) => v, "Tick the box to agree before you submit.")
      : box;
  }
  return z.object(shape) as unknown as z.ZodType<Record<string, string | boolean | undefined>>;
}
