// Sample data for template previews and the test run's starting point.
import { templateCustomer, type CustomerSnapshot } from "@postpath/journey";

export const SAMPLE_CUSTOMER: CustomerSnapshot = {
  id: "test-customer",
  externalId: "ada-1",
  email: "ada@example.com",
  phone: "+41791234567",
  timezone: "Europe/Zurich",
  attributes: {
    first_name: "Ada",
    last_name: "Lovelace",
    email: "ada@example.com",
    preferred_channel: "email",
  },
  tags: [],
};

export const SAMPLE_EVENT_PROPERTIES: Record<string, unknown> = {
  serial: "SN-0042",
  total: 149,
  product: { model: "Barista Pro", category: "coffee-machine", tier: "premium" },
};

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
