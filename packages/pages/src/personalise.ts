// What a page's personalisation renders, shared by the server (a visit, apps/server/src/purl.ts)
// and the web editor's preview (sample values): which block props are Liquid templates, and how a
// template that fails renders — its literal text and every expression that renders on its own.

/** Text props rendered with Liquid, per block type (forms: the title; fields pre-fill apart). */
export const TEMPLATED_PROPS: Readonly<Record<string, readonly string[]>> = {
  Heading: ["text"],
  Text: ["text"],
  Image: ["src", "alt"],
  Button: ["label", "href"],
  ProductCard: ["title", "subtitle", "imageSrc", "imageAlt", "details"],
  CouponCard: ["title", "code", "description", "pendingText"],
  Form: ["title"],
};

/**
 * The templated props that are web addresses (`${type}.${prop}`): a block draws them only when
 * `safeUrl` accepts them, so their text decides what is drawn, not only where.
 */
export const URL_PROPS: ReadonlySet<string> = new Set([
  "Image.src",
  "Button.href",
  "ProductCard.imageSrc",
]);

/**
 * `template` rendered by `render`; when the whole fails (a bad filter, a tag left open, the time
 * budget spent), its literal text and each `{{ … }}` that renders alone are kept and the rest
 * dropped — a page never shows a template's source or an error.
 */
export function renderForgiving(
  render: (template: string, field: string) => string,
  template: string,
  field: string,
): string {
  if (!template.includes("{")) return template;
  try {
    return render(template, field);
  } catch {
    return template
      .split(/(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})/)
      .map((part) => {
        if (part.startsWith("{%")) return "";
        if (!part.startsWith("{{")) return part;
        try {
          return render(part, field);
        } catch {
          return "";
        }
      })
      .join("");
  }
}
