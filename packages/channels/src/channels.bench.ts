// Figures, not assertions: `npx vitest bench --run` in packages/channels.
// Everything runs on this machine: a real smtp-server sink and a node:http receiver on 127.0.0.1.
import { afterAll, bench, describe } from "vitest";
import { createEmailProvider } from "./providers/email.ts";
import { createWebhookProvider } from "./providers/webhook.ts";
import { LOCAL, startServer } from "./test-support/http-server.ts";
import { startSmtpSink } from "./testing.ts";
import { renderMessage } from "./templating/render.ts";

const vars = {
  customer: { first_name: "Ann", email: "ann@customer.example" },
  order: {
    id: "1001",
    total: 42.5,
    items: [
      { name: "Mug", qty: 2 },
      { name: "Tea", qty: 1 },
    ],
  },
  purl: "https://shop.example/p/ann",
};
const MJML = `<mjml><mj-body><mj-section><mj-column>
  <mj-text>Hi {{ customer.first_name }}, thanks for order #{{ order.id }}.</mj-text>
  {% for item in order.items %}<mj-text>{{ item.qty }} × {{ item.name }}</mj-text>{% endfor %}
  <mj-button href="{{ purl }}">Track parcel</mj-button>
</mj-column></mj-section></mj-body></mjml>`;
const HTML = `<h1>Hi {{ customer.first_name }}</h1><p>Order #{{ order.id }}</p><ul>{% for item in order.items %}<li>{{ item.qty }} × {{ item.name }}</li>{% endfor %}</ul><a href="{{ purl }}">Track</a>`;

const smtp = await startSmtpSink();
const http = await startServer(() => ({ status: 200, body: { ok: true } }));
const email = createEmailProvider({ url: smtp.url, from: "Shop <hello@shop.example>" });
const webhook = createWebhookProvider({ url: http.url, secret: "whsec_c2VjcmV0LWZvci1iZW5jaA==" });
let n = 0;

afterAll(async () => {
  await email.close?.();
  await smtp.close();
  await http.close();
});

describe("templating", () => {
  bench("render sms (Liquid)", async () => {
    await renderMessage(
      { channel: "sms", body: "Hi {{ customer.first_name }}, order {{ order.id }} shipped" },
      vars,
    );
  });
  bench("render email html (Liquid + html-to-text)", async () => {
    await renderMessage(
      { channel: "email", format: "html", subject: "Order {{ order.id }}", body: HTML },
      vars,
    );
  });
  bench("render email mjml (Liquid + MJML + html-to-text)", async () => {
    await renderMessage(
      { channel: "email", format: "mjml", subject: "Order {{ order.id }}", body: MJML },
      vars,
    );
  });
});

describe("providers against local servers", () => {
  bench("webhook send (sign + HTTP POST to 127.0.0.1)", async () => {
    await webhook.send({ idempotencyKey: `bench-w-${n++}`, payload: { order: vars.order } }, LOCAL);
  });
  bench("email send (pooled SMTP to local smtp-server), 10 in parallel", async () => {
    await Promise.all(
      Array.from({ length: 10 }, () =>
        email.send({
          idempotencyKey: `bench-e-${n++}`,
          to: "ann@customer.example",
          subject: "s",
          text: "hello",
        }),
      ),
    );
  });
});
