// Sample data for template previews and the test run's starting point.
import { templateCustomer, type CustomerSnapshot } from "@postpath/journey";
import { SAMPLE_CUSTOMER, SAMPLE_EVENT_PROPERTIES } from "./sampleCustomer.ts";

export { SAMPLE_CUSTOMER, SAMPLE_EVENT_PROPERTIES };

/** What a template sees for the sample customer, with made-up outputs of earlier steps. */
export function sampleContext(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return previewContext(SAMPLE_CUSTOMER, SAMPLE_EVENT_PROPERTIES, extra);
}

/**
 * What a template sees for `customer` entering on an event with `event` properties (as the
 * engine's templateContext builds it), with made-up outputs of earlier steps.
 */
export function previewContext(
  c: CustomerSnapshot,
  event: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...c.attributes,
    coupon: { code: "REG-4F7K2Q9M", value: 25, kind: "percent" },
    purl: {
      url: "https://go.postpath.example/register-machine/k3j9x2",
      token: "k3j9x2",
      qrUrl: "https://go.postpath.example/register-machine/k3j9x2/qr.png",
    },
    ...extra,
    customer: templateCustomer(c),
    event,
    run: { id: "run-preview", enteredAt: Date.UTC(2026, 0, 15, 9) },
    steps: {},
  };
}
