// Walk finding (page editor): the preview showed raw Liquid (`{{ customer.first_name }}`,
// `{% if purl.tier == "premium" %}…`). The editor now draws each block with its text rendered for
// a sample customer and sample personal-link values, as the server renders a visit (the same
// templated props as apps/server/src/purl.ts, the same Liquid with the step's limits: no file
// system, own properties only, bounded time and output). Only the drawing changes: what the
// marketer types, and what is saved, stays the Liquid.
import type { ComponentConfig, Config } from "@puckeditor/core";
import { stepTemplateRenderer, templateCustomer } from "@postpath/journey";
import { TEMPLATED_PROPS, renderForgiving, type Blocks, type PageRoot } from "@postpath/pages";
import { SAMPLE_CUSTOMER, SAMPLE_EVENT_PROPERTIES } from "../canvas/sampleCustomer.ts";

const product = SAMPLE_EVENT_PROPERTIES["product"] as Record<string, unknown>;

/** The sample personal-link values (`purl.*`): what a journey typically puts on a link. */
export const SAMPLE_PURL_PARAMS: Record<string, string> = {
  serial: String(SAMPLE_EVENT_PROPERTIES["serial"]),
  model: String(product["model"]),
  tier: String(product["tier"]),
  category: String(product["category"]),
  order_id: "1001",
};

/** What the preview's Liquid sees: the sample customer, sample link values, a sample coupon. */
export function samplePageContext(): Record<string, unknown> {
  const token = "sample";
  return {
    ...SAMPLE_CUSTOMER.attributes,
    customer: templateCustomer(SAMPLE_CUSTOMER),
    coupon: { code: "THANKS-4F7K", value: 25, kind: "percent" },
    purl: { ...SAMPLE_PURL_PARAMS, token, url: `https://go.postpath.example/p/${token}` },
    params: SAMPLE_PURL_PARAMS,
    event: SAMPLE_EVENT_PROPERTIES,
    steps: {},
  };
}

/** One template for the preview; a part that cannot render shows as nothing (as on the server). */
export function previewText(template: string, context: Record<string, unknown>, field: string) {
  const render = stepTemplateRenderer();
  return renderForgiving((t, f) => render(t, context, f), template, field);
}

type AnyComponent = ComponentConfig<Record<string, unknown>>;

/** `config` with each block drawn with its Liquid rendered for `context` (editor preview only). */
export function previewConfig(
  config: Config<Blocks, PageRoot>,
  context: Record<string, unknown> = samplePageContext(),
): Config<Blocks, PageRoot> {
  const components = config.components as unknown as Record<string, AnyComponent>;
  const wrapped: Record<string, AnyComponent> = {};
  for (const [type, c] of Object.entries(components)) {
    const templated = TEMPLATED_PROPS[type] ?? [];
    const Draw = c.render;
    wrapped[type] = {
      ...c,
      render: (props) => {
        const shown: Record<string, unknown> = { ...props };
        for (const key of templated) {
          const v = props[key];
          if (typeof v === "string") shown[key] = previewText(v, context, `${type}.${key}`);
        }
        return Draw(shown as Parameters<typeof Draw>[0]);
      },
    };
  }
  return { ...config, components: wrapped } as unknown as Config<Blocks, PageRoot>;
}
