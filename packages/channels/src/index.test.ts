// The worker's path through the public API: render a step's content, build the provider from
// its stored config, send with the outbox key, read back what the SMTP server got.
import { afterEach, describe, expect, it } from "vitest";
import { createProvider, createTemplateEngine, renderMessage } from "./index.ts";
import { MESSAGE_LIMITS } from "./templating/liquid.ts";
import { startSmtpSink } from "./testing.ts";
import type { SmtpSink } from "./testing.ts";

let smtp: SmtpSink | undefined;
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
});

describe("render + send", () => {
  it("an MJML mail with a personalised QR code arrives with the code inline and a text part", async () => {
    smtp = await startSmtpSink();
    const rendered = await renderMessage(
      {
        channel: "email",
        format: "mjml",
        subject: "Your pickup code, {{ customer.first_name }}",
        body: `<mjml><mj-body><mj-section><mj-column>
          <mj-text>Show this code at the counter, {{ customer.first_name }}.</mj-text>
          <mj-image src="{{ purl | qr_code }}" alt="pickup code" width="200px" />
        </mj-column></mj-section></mj-body></mjml>`,
      },
      { customer: { first_name: "Ann" }, purl: "https://shop.example/p/ann-7f3a" },
      // The render time limit is not what this test is about (liquid.test.ts checks it): on a
      // loaded machine the first QR code's render took over its 500 ms, so it gets a minute here.
      createTemplateEngine({ limits: { ...MESSAGE_LIMITS, renderLimit: 60_000 } }),
    );
    const email = createProvider(
      "email",
      JSON.parse(JSON.stringify({ url: smtp.url, from: "Shop <hello@shop.example>" })),
    );
    try {
      const result = await email.send({
        idempotencyKey: "run-9:pickup",
        to: "ann@customer.example",
        ...rendered,
      });
      expect(result.providerMessageId).toMatch(/^<pp\.[0-9a-f]{32}@shop\.example>$/);
    } finally {
      await email.close?.();
    }

    const got = smtp.received[0]!;
    expect(got.subject).toBe("Your pickup code, Ann");
    expect(got.idempotencyKey).toBe("run-9:pickup");
    expect(got.raw).toContain("Content-Type: text/plain");
    expect(got.text).toContain("Show this code at the counter, Ann.");
    expect(got.raw).toMatch(/Content-Type: image\/png/);
    expect(got.raw).not.toContain("data:image/png;base64");
  });
});
