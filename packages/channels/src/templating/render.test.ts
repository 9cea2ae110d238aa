import { describe, expect, it } from "vitest";
import { TemplateError } from "./liquid.ts";
import {
  htmlToText,
  messageTemplateVariables,
  mjmlToHtml,
  renderMessage,
  validateMessageTemplate,
} from "./render.ts";

const vars = {
  customer: { first_name: "Ann", email: "ann@customer.example" },
  order: { id: "1001", total: 42.5, items: [{ name: "Mug", qty: 2 }], shipped: true },
  purl: "https://shop.example/p/ann",
};

const MJML = `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi {{ customer.first_name }}, thanks for order #{{ order.id }}.</mj-text>
        <mj-button href="{{ purl }}?utm=mail&amp;x=1">Track parcel</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

describe("renderMessage", () => {
  it("email in text format: subject and text only", async () => {
    const out = await renderMessage(
      {
        channel: "email",
        format: "text",
        subject: "Order {{ order.id }}\nshipped",
        body: "Hi {{ customer.first_name }}",
      },
      vars,
    );
    expect(out).toEqual({ subject: "Order 1001 shipped", text: "Hi Ann" });
  });

  it("email in HTML format: escaped outputs and a derived plain-text version", async () => {
    const out = await renderMessage(
      {
        channel: "email",
        format: "html",
        subject: "Thanks {{ customer.first_name }}",
        body: '<h1>Hello {{ customer.first_name }}</h1><p>Your <a href="{{ purl }}">order page</a>.</p><img src="x.png" alt="logo">',
      },
      { ...vars, customer: { first_name: "<Ann>" } },
    );
    expect(out.subject).toBe("Thanks <Ann>");
    expect(out.html).toContain("<h1>Hello &lt;Ann&gt;</h1>");
    expect(out.text).toBe("Hello <Ann>\n\nYour order page [https://shop.example/p/ann].");
  });

  it("email in MJML format becomes responsive HTML with a plain-text fallback", async () => {
    const out = await renderMessage(
      { channel: "email", format: "mjml", subject: "Your order", body: MJML },
      vars,
    );
    expect(out.html).toMatch(/^<!doctype html>/i);
    expect(out.html).toContain("Hi Ann, thanks for order #1001.");
    expect(out.html).toContain('href="https://shop.example/p/ann?utm=mail&amp;x=1"');
    expect(out.html).not.toContain("<mj-");
    expect(out.text).toContain("Hi Ann, thanks for order #1001.");
    expect(out.text).toContain("Track parcel [https://shop.example/p/ann?utm=mail&x=1]");
  });

  it("an explicit text version wins over the derived one", async () => {
    const out = await renderMessage(
      { channel: "email", format: "mjml", subject: "s", body: MJML, text: "Plain {{ order.id }}" },
      vars,
    );
    expect(out.text).toBe("Plain 1001");
  });

  it("a preheader is rendered and placed hidden at the top of the body", async () => {
    const out = await renderMessage(
      {
        channel: "email",
        format: "mjml",
        subject: "s",
        body: MJML,
        preheader: "Order {{ order.id }} ships <today>",
      },
      vars,
    );
    const body = out.html!.slice(out.html!.search(/<body[^>]*>/i));
    expect(body).toMatch(
      /^<body[^>]*><div style="display:none[^"]*">Order 1001 ships &#60;today&#62;<\/div>/,
    );
    expect(out.text).not.toContain("ships");
  });

  it("invalid MJML is a TemplateError on the body, not a half-rendered mail", async () => {
    const broken =
      "<mjml><mj-body><mj-sectoin><mj-column><mj-text>x</mj-text></mj-column></mj-sectoin></mj-body></mjml>";
    const err = await renderMessage(
      { channel: "email", format: "mjml", subject: "s", body: broken },
      vars,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).field).toBe("body");
    expect((err as TemplateError).detail).toMatch(/mj-sectoin/);
  });

  it("mj-include cannot pull files from the server", async () => {
    const html = await mjmlToHtml(
      '<mjml><mj-body><mj-include path="/etc/passwd" type="html" /></mj-body></mjml>',
    );
    expect(html).not.toContain("root:");
  });

  it("sms, notify and push render every field; push data keeps types", async () => {
    await expect(
      renderMessage(
        { channel: "sms", body: "{{ customer.first_name }}, order {{ order.id }} shipped" },
        vars,
      ),
    ).resolves.toEqual({
      body: "Ann, order 1001 shipped",
    });
    await expect(
      renderMessage(
        { channel: "notify", text: "VIP {{ customer.email }} ordered {{ order.total }}" },
        vars,
      ),
    ).resolves.toEqual({
      text: "VIP ann@customer.example ordered 42.5",
    });
    await expect(
      renderMessage(
        {
          channel: "push",
          title: "Hi {{ customer.first_name }}",
          body: "On its way",
          data: {
            orderId: "{{ order.id }}",
            total: "{{ order.total }}",
            link: "shop://o/{{ order.id }}",
          },
        },
        vars,
      ),
    ).resolves.toEqual({
      title: "Hi Ann",
      body: "On its way",
      data: { orderId: "1001", total: 42.5, link: "shop://o/1001" },
    });
  });

  it("webhook payloads render each string; a lone variable keeps its JSON type, a missing one is null", async () => {
    const out = await renderMessage(
      {
        channel: "webhook",
        payload: {
          event: "order.shipped",
          total: "{{ order.total }}",
          items: "{{ order.items }}",
          shipped: "{{order.shipped}}",
          label: "Order {{ order.id }} for {{ customer.first_name }}",
          missing: "{{ order.coupon }}",
          nested: [{ who: "{{ customer.email | upcase }}" }, 7, null, false],
        },
      },
      vars,
    );
    expect(out.payload).toEqual({
      event: "order.shipped",
      total: 42.5,
      items: [{ name: "Mug", qty: 2 }],
      shipped: true,
      label: "Order 1001 for Ann",
      missing: null,
      nested: [{ who: "ANN@CUSTOMER.EXAMPLE" }, 7, null, false],
    });
  });

  it("a Liquid error names the failing field", async () => {
    const err = await renderMessage(
      { channel: "webhook", payload: { a: { b: "{{ x | nope }}" } } },
      vars,
    ).catch((e: unknown) => e);
    expect((err as TemplateError).field).toBe("payload.a.b");
    const subjectErr = await renderMessage(
      { channel: "email", format: "text", subject: "{{ x", body: "ok" },
      vars,
    ).catch((e: unknown) => e);
    expect((subjectErr as TemplateError).field).toBe("subject");
  });
});

describe("validateMessageTemplate / messageTemplateVariables", () => {
  it("reports every broken field, and MJML errors, for a publish check", async () => {
    await expect(
      validateMessageTemplate({
        channel: "email",
        format: "mjml",
        subject: "Hi {{ customer.first_name }}",
        body: MJML,
      }),
    ).resolves.toEqual([]);
    const issues = await validateMessageTemplate({
      channel: "push",
      title: "{{ a | nope }}",
      body: "{% if x %}",
      data: { k: "{{ y" },
    });
    expect(issues.map((i) => i.field)).toEqual(["title", "body", "data.k"]);
    const mjmlIssues = await validateMessageTemplate({
      channel: "email",
      format: "mjml",
      subject: "s",
      body: "<mjml><mj-body><mj-bogus/></mj-body></mjml>",
    });
    expect(mjmlIssues).toEqual([
      { field: "body", message: expect.stringMatching(/mj-bogus/) as string },
    ]);
  });

  it("lists the variables a template needs", async () => {
    await expect(
      messageTemplateVariables({
        channel: "email",
        format: "mjml",
        subject: "Hi {{ customer.first_name }}",
        body: MJML,
        text: "{{ order.id }}",
      }),
    ).resolves.toEqual(["customer.first_name", "order.id", "purl"]);
  });
});

describe("htmlToText", () => {
  it("keeps structure readable", () => {
    expect(
      htmlToText("<h2>Order</h2><ul><li>Mug × 2</li><li>Tea</li></ul><p>Total: 42.50&nbsp;€</p>"),
    ).toBe("Order\n\n * Mug × 2\n * Tea\n\nTotal: 42.50\u00a0€");
  });
});
