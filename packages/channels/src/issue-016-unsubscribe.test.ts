// Issue 16: the unsubscribe link in marketing email — where the body asks for it, else a footer
// on each part — and RFC 8058 one-click headers, through the real SMTP provider and a local sink.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  UNSUBSCRIBE_URL_PLACEHOLDER,
  createEmailProvider,
  withUnsubscribe,
  type EmailRequest,
} from "./providers/email.ts";
import type { Provider } from "./types.ts";
import { startSmtpSink, type SmtpSink } from "./testing.ts";

const URL = "https://shop.example/u/c123.e.AAAAAAAAAAAAAAAAAAAAAA";
let sink: SmtpSink;
let email: Provider<EmailRequest>;

beforeEach(async () => {
  sink = await startSmtpSink();
  email = createEmailProvider({ url: sink.url, from: "Shop <s@shop.example>" });
});
afterEach(async () => {
  await email.close?.();
  await sink.close();
});

describe("unsubscribe links", () => {
  it("marketing: the footer goes inside <body>, the headers are RFC 8058's", async () => {
    await email.send({
      idempotencyKey: "k1",
      to: "ada@example.com",
      subject: "News",
      html: "<html><body><p>Hi</p></body></html>",
      text: "Hi",
      unsubscribe: { url: URL, marketing: true },
    });
    const [m] = await sink.waitFor(1);
    expect(m?.headers["list-unsubscribe"]).toBe(`<${URL}>`);
    expect(m?.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(m?.html).toMatch(
      new RegExp(
        `<p>Hi</p><p [^>]*>Don't want these emails\\? <a href="${URL}"[^>]*>Unsubscribe</a></p></body>`,
      ),
    );
    expect(m?.text).toContain(`Unsubscribe: ${URL}`);
  });

  it("transactional: no headers and no footer; a link the body asks for is still filled in", async () => {
    await email.send({
      idempotencyKey: "k2",
      to: "ada@example.com",
      subject: "Receipt",
      text: `Paid. Manage emails: ${UNSUBSCRIBE_URL_PLACEHOLDER}`,
      unsubscribe: { url: URL, marketing: false },
    });
    const [m] = await sink.waitFor(1);
    expect(m?.headers["list-unsubscribe"]).toBeUndefined();
    expect(m?.text?.trim()).toBe(`Paid. Manage emails: ${URL}`);
  });

  it("refuses a link that is not http(s) or could break out of the header or the attribute", () => {
    for (const url of [
      "javascript:alert(1)",
      `${URL}>, <mailto:x@evil.example`,
      `${URL}"onclick="x`,
      `${URL}\r\nBcc: x@evil.example`,
    ])
      expect(() =>
        withUnsubscribe("email", { html: "<p>x</p>" }, { url, marketing: true }),
      ).toThrow(/not an http\(s\) URL/);
  });
});
