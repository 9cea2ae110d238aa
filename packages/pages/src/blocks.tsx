/** @jsxRuntime automatic */
// ^ for tsx, which compiles this file with the tsconfig of where it runs (apps/server, whose
// `include` does not cover packages/pages): without it, `pnpm start` answered every landing page
// with a 500, "React is not defined".
// issue 14: the landing-page blocks — one set of React components that the Puck editor (web) and
// the server (`/p/:token`, via Puck's Render) both render. They read only their props and, for
// forms, `puck.metadata.forms[formId]` (action, CSRF token, values, errors) that the server
// passes; in the editor that is absent and the form is a preview. Liquid is resolved by the server
// before rendering (in the editor, apps/web pages-area/pagePreview.ts renders it with sample values),
// so every string here is text: React escapes it.
import type { Config, Slot } from "@puckeditor/core";
import type { CSSProperties, ReactNode } from "react";

export type FieldType = "text" | "email" | "phone" | "select" | "checkbox" | "date" | "hidden";

/** Props of each block. The zod schemas of the same shapes are in @postpath/journey (pages.ts). */
export type HeadingBlock = { text: string; level: "h1" | "h2" | "h3"; align: "left" | "center" };
export type TextBlock = { text: string; align: "left" | "center" };
export type ImageBlock = { src: string; alt: string };
export type ButtonBlock = { label: string; href: string; variant: "primary" | "secondary" };
export type ProductCardBlock = {
  title: string;
  subtitle: string;
  imageSrc: string;
  imageAlt: string;
  details: string;
};
export type CouponCardBlock = {
  title: string;
  code: string;
  description: string;
  pendingText: string;
};
export type FormFieldProps = {
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  prefill: string;
  placeholder: string;
  options: string;
  maxLength: number;
  saveTo: string;
};
export type FormBlock = {
  formId: string;
  title: string;
  submitLabel: string;
  fields: FormFieldProps[];
  consent: { enabled: boolean; text: string; version: string; required: boolean };
  thankYouSlug: string;
};
export type ColumnsBlock = { layout: "1:1" | "2:1" | "1:2"; left: Slot; right: Slot };
/** `schemaVersion` is kept in the document but is not something the editor shows. */
export type PageRoot = { title: string; accent: string; schemaVersion?: number };

export type Blocks = {
  Heading: HeadingBlock;
  Text: TextBlock;
  Image: ImageBlock;
  Button: ButtonBlock;
  ProductCard: ProductCardBlock;
  CouponCard: CouponCardBlock;
  Form: FormBlock;
  Columns: ColumnsBlock;
};

/** What the server gives one rendered form (Puck `metadata.forms[formId]`). */
export type FormRuntime = {
  /** Where the form posts (`/p/:token/forms/:formId`). */
  action: string;
  /** Same-origin token (HMAC of PURL token + form id). */
  csrf: string;
  /** Idempotency key of this rendering: a double POST or a replay is one submission. */
  key: string;
  /** Field values to show: the pre-fill, or what the customer typed. */
  values: Record<string, string | boolean>;
  /** Per-field messages (field name, or `consent`). */
  errors: Record<string, string>;
};
export type PageMetadata = { forms?: Record<string, FormRuntime> };

/** A URL a page may link or load: https/http, mailto/tel, or a path on this server. */
export function safeUrl(url: string, kind: "link" | "image"): string | undefined {
  const u = url.trim();
  if (u.startsWith("/") && !u.startsWith("//")) return u;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(u)?.[1]?.toLowerCase();
  if (scheme === "https" || scheme === "http") return u;
  if (kind === "link" && (scheme === "mailto" || scheme === "tel")) return u;
  return undefined;
}

function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** The choices of a select field, one per line. */
export function optionsOf(options: string): string[] {
  return options
    .split("\n")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
}

const INPUT_TYPES: Record<Exclude<FieldType, "select" | "checkbox" | "hidden">, string> = {
  text: "text",
  email: "email",
  phone: "tel",
  date: "date",
};
const AUTOCOMPLETE: Partial<Record<FieldType, string>> = { email: "email", phone: "tel" };

function FormFieldView(props: {
  formId: string;
  field: FormFieldProps;
  value: string | boolean | undefined;
  error: string | undefined;
  disabled: boolean;
}): ReactNode {
  const { field: f, value, error, formId, disabled } = props;
  const id = `${formId}-${f.name}`;
  const errorId = `${id}-error`;
  const describedBy = error ? errorId : undefined;
  const text = typeof value === "string" ? value : "";
  if (f.type === "hidden") return <input type="hidden" name={f.name} value={text} />;
  const label = (
    <>
      {f.label}
      {f.required ? <span className="pp-required"> (required)</span> : null}
    </>
  );
  const message = error ? (
    <p className="pp-field-error" id={errorId}>
      {error}
    </p>
  ) : null;
  if (f.type === "checkbox")
    return (
      <div className={error ? "pp-field pp-check pp-invalid" : "pp-field pp-check"}>
        <input
          type="checkbox"
          id={id}
          name={f.name}
          value="on"
          defaultChecked={value === true}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          disabled={disabled}
        />
        <label htmlFor={id}>{label}</label>
        {message}
      </div>
    );
  return (
    <div className={error ? "pp-field pp-invalid" : "pp-field"}>
      <label htmlFor={id}>{label}</label>
      {f.type === "select" ? (
        <select
          id={id}
          name={f.name}
          defaultValue={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          aria-required={f.required || undefined}
          disabled={disabled}
        >
          <option value="">Choose…</option>
          {optionsOf(f.options).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          type={INPUT_TYPES[f.type]}
          id={id}
          name={f.name}
          defaultValue={text}
          placeholder={f.placeholder || undefined}
          maxLength={f.maxLength > 0 ? f.maxLength : undefined}
          autoComplete={AUTOCOMPLETE[f.type]}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          aria-required={f.required || undefined}
          disabled={disabled}
        />
      )}
      {message}
    </div>
  );
}

function FormView(props: FormBlock & { runtime: FormRuntime | undefined }): ReactNode {
  const { runtime } = props;
  const errors = runtime?.errors ?? {};
  const values = runtime?.values ?? {};
  const errorCount = Object.keys(errors).length;
  const headingId = `${props.formId || "form"}-title`;
  return (
    <form
      className="pp-form"
      method="post"
      action={runtime?.action}
      noValidate
      aria-labelledby={props.title ? headingId : undefined}
    >
      {props.title ? (
        <h2 className="pp-form-title" id={headingId}>
          {props.title}
        </h2>
      ) : null}
      {errorCount > 0 ? (
        <div className="pp-error-summary" role="alert">
          Please check {errorCount === 1 ? "1 field" : `${errorCount} fields`} below.
        </div>
      ) : null}
      {runtime ? (
        <>
          <input type="hidden" name="_csrf" value={runtime.csrf} />
          <input type="hidden" name="_key" value={runtime.key} />
        </>
      ) : null}
      {/* A field people never see or reach; bots that fill every input give themselves away. */}
      <div className="pp-hp" aria-hidden="true">
        <label>
          Leave this empty
          <input type="text" name="_hp" tabIndex={-1} autoComplete="off" defaultValue="" />
        </label>
      </div>
      {props.fields.map((f, i) => (
        <FormFieldView
          key={f.name || i}
          formId={props.formId || "form"}
          field={f}
          value={values[f.name]}
          error={errors[f.name]}
          disabled={!runtime}
        />
      ))}
      {props.consent.enabled ? (
        <FormFieldView
          formId={props.formId || "form"}
          field={{
            name: "consent",
            label: props.consent.text,
            type: "checkbox",
            required: props.consent.required,
            prefill: "",
            placeholder: "",
            options: "",
            maxLength: 0,
            saveTo: "",
          }}
          value={values["consent"]}
          error={errors["consent"]}
          disabled={!runtime}
        />
      ) : null}
      <button type="submit" className="pp-button pp-primary" disabled={!runtime}>
        {props.submitLabel || "Submit"}
      </button>
    </form>
  );
}

// Labels are a marketer's words; where a format matters the label says it and the empty field
// shows an example (the stored prop names do not change).
const textField = (label: string, placeholder?: string) => ({
  type: "text" as const,
  label,
  ...(placeholder ? { placeholder } : {}),
});
const textareaField = (label: string) => ({ type: "textarea" as const, label });
const alignField = {
  type: "radio" as const,
  label: "Alignment",
  options: [
    { label: "Left", value: "left" },
    { label: "Centre", value: "center" },
  ],
};

/** The Puck config of landing pages: the editor's palette and the server's renderer. */
export const pageConfig: Config<Blocks, PageRoot> = {
  categories: {
    text: { title: "Text", components: ["Heading", "Text"] },
    media: { title: "Media", components: ["Image", "Button"] },
    commerce: { title: "Product and offer", components: ["ProductCard", "CouponCard"] },
    forms: { title: "Forms", components: ["Form"] },
    layout: { title: "Layout", components: ["Columns"] },
  },
  root: {
    fields: {
      title: textField("Browser tab title"),
      accent: textField("Brand colour (a colour code such as #1f5f8b)", "#1f5f8b"),
    },
    defaultProps: { title: "", accent: "#1f5f8b", schemaVersion: 1 },
    render: ({ children, accent }) => (
      <main
        className="pp-page"
        style={
          /^#[0-9a-fA-F]{6}$/.test(accent ?? "")
            ? ({ "--pp-accent": accent } as CSSProperties)
            : undefined
        }
      >
        {children}
      </main>
    ),
  },
  components: {
    Heading: {
      label: "Heading",
      fields: {
        text: textField("Text (add their first name with {{ customer.first_name }})"),
        level: {
          type: "select",
          label: "Size",
          options: [
            { label: "Page title", value: "h1" },
            { label: "Section", value: "h2" },
            { label: "Small", value: "h3" },
          ],
        },
        align: alignField,
      },
      defaultProps: { text: "Welcome, {{ customer.first_name }}", level: "h1", align: "left" },
      render: ({ text, level, align }) => {
        const Tag = level;
        return <Tag className={`pp-heading pp-align-${align}`}>{text}</Tag>;
      },
    },
    Text: {
      label: "Text",
      fields: { text: textareaField("Text (blank line: new paragraph)"), align: alignField },
      defaultProps: { text: "Thank you for choosing us.", align: "left" },
      render: ({ text, align }) => (
        <div className={`pp-text pp-align-${align}`}>
          {paragraphs(text).map((p, i) => (
            <p key={i}>{p}</p>
          ))}
        </div>
      ),
    },
    Image: {
      label: "Image",
      fields: {
        src: textField("Image web address (starts with https://)", "https://…"),
        alt: textField("What the image shows (read aloud to people who cannot see it)"),
      },
      defaultProps: { src: "", alt: "" },
      render: ({ src, alt }) => {
        const url = safeUrl(src, "image");
        return url ? (
          <img className="pp-image" src={url} alt={alt} loading="lazy" />
        ) : (
          <div className="pp-image pp-placeholder">{alt || "Image"}</div>
        );
      },
    },
    Button: {
      label: "Button",
      fields: {
        label: textField("Label"),
        href: textField(
          "Link (a web address, or mailto:name@example.com, or tel:+41…)",
          "https://…",
        ),
        variant: {
          type: "radio",
          label: "Style",
          options: [
            { label: "Primary", value: "primary" },
            { label: "Secondary", value: "secondary" },
          ],
        },
      },
      defaultProps: { label: "Learn more", href: "", variant: "primary" },
      render: ({ label, href, variant }) => {
        const url = safeUrl(href, "link");
        return (
          <p className="pp-button-row">
            {url ? (
              <a className={`pp-button pp-${variant}`} href={url}>
                {label}
              </a>
            ) : (
              <span className={`pp-button pp-${variant}`}>{label}</span>
            )}
          </p>
        );
      },
    },
    ProductCard: {
      label: "Machine / product card",
      fields: {
        title: textField("Product name (from their link: {{ purl.model }})"),
        subtitle: textField("Line under the name (e.g. Serial number {{ purl.serial }})"),
        imageSrc: textField("Image web address (starts with https://)", "https://…"),
        imageAlt: textField("What the image shows (read aloud to people who cannot see it)"),
        details: textareaField("Details"),
      },
      defaultProps: {
        title: "{{ purl.model }}",
        subtitle: "Serial number {{ purl.serial }}",
        imageSrc: "",
        imageAlt: "",
        details: "",
      },
      render: ({ title, subtitle, imageSrc, imageAlt, details }) => {
        const url = safeUrl(imageSrc, "image");
        return (
          <section className="pp-card pp-product" aria-label={title || "Your product"}>
            {url ? <img className="pp-card-image" src={url} alt={imageAlt} /> : null}
            <div>
              {title ? <h2 className="pp-card-title">{title}</h2> : null}
              {subtitle ? <p className="pp-card-subtitle">{subtitle}</p> : null}
              {paragraphs(details).map((p, i) => (
                <p key={i}>{p}</p>
              ))}
            </div>
          </section>
        );
      },
    },
    CouponCard: {
      label: "Coupon card",
      fields: {
        title: textField("Title"),
        code: textField("Coupon code (the journey's code: {{ coupon.code }})"),
        description: textareaField("Description"),
        pendingText: textareaField("Shown while the code is not issued yet"),
      },
      defaultProps: {
        title: "Your discount",
        code: "{{ coupon.code }}",
        description: "",
        pendingText: "Your code is on its way by email.",
      },
      render: ({ title, code, description, pendingText }) => (
        <section className="pp-card pp-coupon" aria-label={title || "Your discount"}>
          {title ? <h2 className="pp-card-title">{title}</h2> : null}
          {code.trim() ? (
            <p className="pp-coupon-code">{code}</p>
          ) : (
            <p className="pp-coupon-pending">{pendingText}</p>
          )}
          {paragraphs(description).map((p, i) => (
            <p key={i}>{p}</p>
          ))}
        </section>
      ),
    },
    Form: {
      label: "Form",
      fields: {
        formId: textField(
          "Form name for journeys (the “Form submitted” trigger picks it; lowercase letters, numbers, dashes)",
          "registration",
        ),
        title: textField("Title"),
        submitLabel: textField("Button label"),
        fields: {
          type: "array",
          label: "Fields",
          getItemSummary: (f) => f.label || f.name || "Field",
          defaultItemProps: {
            name: "",
            label: "",
            type: "text",
            required: false,
            prefill: "",
            placeholder: "",
            options: "",
            maxLength: 200,
            saveTo: "",
          },
          arrayFields: {
            name: textField(
              "Answer name for journeys (letters, numbers and _, e.g. serial)",
              "serial",
            ),
            label: textField("Label"),
            type: {
              type: "select",
              label: "Type",
              options: [
                { label: "Text", value: "text" },
                { label: "Email", value: "email" },
                { label: "Phone", value: "phone" },
                { label: "List", value: "select" },
                { label: "Checkbox", value: "checkbox" },
                { label: "Date", value: "date" },
                { label: "Hidden", value: "hidden" },
              ],
            },
            required: {
              type: "radio",
              label: "Required",
              options: [
                { label: "Yes", value: true },
                { label: "No", value: false },
              ],
            },
            prefill: textField("Filled in with (e.g. {{ customer.email }} or {{ purl.serial }})"),
            placeholder: textField("Placeholder"),
            options: textareaField("Choices of the list (one per line)"),
            maxLength: { type: "number", label: "Longest answer (characters)", min: 1, max: 10000 },
            saveTo: textField(
              "Also save the answer on the customer's profile as (optional; letters, numbers and _)",
              "serial_number",
            ),
          },
        },
        consent: {
          type: "object",
          label: "Consent checkbox",
          objectFields: {
            enabled: {
              type: "radio",
              label: "Ask for consent",
              options: [
                { label: "Yes", value: true },
                { label: "No", value: false },
              ],
            },
            text: textareaField("Consent text"),
            version: textField("Version of the consent text (change it when you change the text)"),
            required: {
              type: "radio",
              label: "Must be ticked",
              options: [
                { label: "Yes", value: true },
                { label: "No", value: false },
              ],
            },
          },
        },
        thankYouSlug: textField(
          "Thank-you page shown after sending (its address in Pages, e.g. thanks; optional)",
          "thanks",
        ),
      },
      defaultProps: {
        formId: "registration",
        title: "Register your machine",
        submitLabel: "Register",
        fields: [
          {
            name: "email",
            label: "Email",
            type: "email",
            required: true,
            prefill: "{{ customer.email }}",
            placeholder: "",
            options: "",
            maxLength: 200,
            saveTo: "",
          },
        ],
        consent: { enabled: false, text: "", version: "1", required: true },
        thankYouSlug: "",
      },
      render: ({ puck, id: _id, ...props }) => (
        <FormView
          {...props}
          runtime={(puck.metadata as PageMetadata | undefined)?.forms?.[props.formId]}
        />
      ),
    },
    Columns: {
      label: "Columns",
      fields: {
        layout: {
          type: "select",
          label: "Layout",
          options: [
            { label: "Two equal columns", value: "1:1" },
            { label: "Wide left", value: "2:1" },
            { label: "Wide right", value: "1:2" },
          ],
        },
        left: { type: "slot", label: "Left column", disallow: ["Columns"] },
        right: { type: "slot", label: "Right column", disallow: ["Columns"] },
      },
      defaultProps: { layout: "1:1", left: [], right: [] },
      render: ({ layout, left: Left, right: Right }) => (
        <div className={`pp-columns pp-cols-${layout.replace(":", "-")}`}>
          <div className="pp-column">
            <Left />
          </div>
          <div className="pp-column">
            <Right />
          </div>
        </div>
      ),
    },
  },
};
