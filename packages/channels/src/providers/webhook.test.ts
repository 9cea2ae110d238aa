import { afterEach, describe, expect, it } from "vitest";
import { providerError } from "../test-support/errors.ts";
import { startServer, LOCAL } from "../test-support/http-server.ts";
import type { RecordedRequest, Reply, TestServer } from "../test-support/http-server.ts";
import { verifyWebhookSignature } from "../webhook-signature.ts";
import { createWebhookProvider } from "./webhook.ts";

const SECRET = "whsec_" + Buffer.from("a-32-byte-secret-for-the-tests!!").toString("base64");

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function receiver(reply: Reply | ((req: RecordedRequest) => Reply)) {
  server = await startServer((req) => (typeof reply === "function" ? reply(req) : reply));
  return server;
}

const payload = { event: "order.shipped", order: { id: "o-1", total: 42.5 }, tags: ["vip"] };

describe("webhook provider", () => {
  it("posts signed JSON that the receiver verifies with the secret, and rejects with a wrong one", async () => {
    // The receiver does what a real one does: verify the signature before answering.
    const srv = await receiver((req) =>
      verifyWebhookSignature({ secret: SECRET, headers: req.headers, body: req.body })
        ? { status: 200, body: { received: true } }
        : { status: 401, body: "bad signature" },
    );
    const webhook = createWebhookProvider({
      url: `${srv.url}/hooks/postpath`,
      secret: SECRET,
      headers: { "x-api-key": "k-1" },
    });

    const result = await webhook.send({ idempotencyKey: "run3:hook1", payload }, LOCAL);

    expect(result).toEqual({
      providerMessageId: "run3:hook1",
      response: { status: 200, body: { received: true } },
    });
    const req = srv.requests[0]!;
    expect(req.path).toBe("/hooks/postpath");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["webhook-id"]).toBe("run3:hook1");
    expect(req.headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(req.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(req.headers["x-api-key"]).toBe("k-1");
    expect(JSON.parse(req.body)).toEqual(payload);

    expect(verifyWebhookSignature({ secret: SECRET, headers: req.headers, body: req.body })).toBe(
      true,
    );
    const wrong = "whsec_" + Buffer.from("some-other-secret-of-32-bytes!!!").toString("base64");
    expect(verifyWebhookSignature({ secret: wrong, headers: req.headers, body: req.body })).toBe(
      false,
    );
    expect(
      verifyWebhookSignature({
        secret: SECRET,
        headers: req.headers,
        body: req.body.replace("42.5", "0"),
      }),
    ).toBe(false);
  });

  it("a request may name its own URL", async () => {
    const srv = await receiver({ status: 204 });
    const webhook = createWebhookProvider({ secret: SECRET });
    const result = await webhook.send(
      {
        idempotencyKey: "k",
        payload: { a: 1 },
        url: `${srv.url}/per-step`,
      },
      LOCAL,
    );
    expect(result.response).toEqual({ status: 204, body: "" });
    expect(srv.requests[0]!.path).toBe("/per-step");
  });

  it("sends a ready body string with the step's method and headers, signed over the exact bytes", async () => {
    const srv = await receiver({ status: 200, body: { ok: 1 } });
    const webhook = createWebhookProvider({
      url: srv.url,
      secret: SECRET,
      headers: { "X-Api-Key": "from-config" },
    });
    const body = '{ "order": "o-1",  "total": 42.5 }';

    await webhook.send(
      {
        idempotencyKey: "k-put",
        method: "PUT",
        body,
        headers: { "x-api-key": "from-step" },
      },
      LOCAL,
    );
    await webhook.send({ idempotencyKey: "k-text", body: "plain words" }, LOCAL);
    await webhook.send({ idempotencyKey: "k-get", method: "GET", body: "ignored" }, LOCAL);

    const [put, text, get] = srv.requests;
    expect(put!.method).toBe("PUT");
    expect(put!.body).toBe(body);
    expect(put!.headers["content-type"]).toBe("application/json");
    expect(put!.headers["x-api-key"]).toBe("from-step");
    expect(verifyWebhookSignature({ secret: SECRET, headers: put!.headers, body: put!.body })).toBe(
      true,
    );
    expect(text!.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(
      verifyWebhookSignature({ secret: SECRET, headers: text!.headers, body: "plain words" }),
    ).toBe(true);
    expect(get!.method).toBe("GET");
    expect(get!.body).toBe("");
    expect(verifyWebhookSignature({ secret: SECRET, headers: get!.headers, body: "" })).toBe(true);
  });

  it("500 → retryable, 422 → not, hang → retryable timeout", async () => {
    const failing = await receiver({ status: 500 });
    const e500 = await providerError(
      createWebhookProvider({ url: failing.url, secret: SECRET }).send(
        {
          idempotencyKey: "k",
          payload,
        },
        LOCAL,
      ),
    );
    expect([e500.retryable, e500.status, e500.message]).toEqual([true, 500, "webhook: HTTP 500"]);
    await failing.close();

    const rejecting = await receiver({ status: 422, body: { error: "unknown event" } });
    const e422 = await providerError(
      createWebhookProvider({ url: rejecting.url, secret: SECRET }).send(
        {
          idempotencyKey: "k",
          payload,
        },
        LOCAL,
      ),
    );
    expect([e422.retryable, e422.status, e422.message]).toEqual([
      false,
      422,
      "webhook: HTTP 422: unknown event",
    ]);
    await rejecting.close();

    const hanging = await receiver("hang");
    const eHang = await providerError(
      createWebhookProvider({ url: hanging.url, secret: SECRET, timeoutMs: 200 }).send(
        {
          idempotencyKey: "k",
          payload,
        },
        LOCAL,
      ),
    );
    expect([eHang.retryable, eHang.message]).toEqual([true, "webhook: timed out after 200 ms"]);
  });

  it("requests that can never succeed fail without a call", async () => {
    const srv = await receiver({ status: 200 });
    const webhook = createWebhookProvider({ secret: SECRET });
    expect(
      (await providerError(webhook.send({ idempotencyKey: "k", payload }, LOCAL))).message,
    ).toMatch(/no `url`/);
    expect(
      (
        await providerError(
          webhook.send({ idempotencyKey: "k", payload, url: "file:///etc/passwd" }, LOCAL),
        )
      ).retryable,
    ).toBe(false);
    expect(
      (
        await providerError(
          webhook.send({ idempotencyKey: "k", payload: undefined, url: srv.url }, LOCAL),
        )
      ).retryable,
    ).toBe(false);
    expect(srv.requests).toHaveLength(0);
  });

  it("config may not override the signature headers", () => {
    expect(() =>
      createWebhookProvider({ secret: SECRET, headers: { "Webhook-Signature": "v1,forged" } }),
    ).toThrow(/may not override/);
    expect(() => createWebhookProvider({ secret: "whsec_***" })).toThrow(/base64/);
  });
});
