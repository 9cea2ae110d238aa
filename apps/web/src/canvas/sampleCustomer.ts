// The sample test customer and trigger event (previews and the test run start from them). Apart
// from sample.ts, which renders with the journey language: the test run's store (loaded with the
// editor, before the language; issue 18 item 5) needs only these.
import type { CustomerSnapshot } from "@postpath/journey";

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
