import { afterEach, describe, expect, it } from "vitest";
import { providerError } from "../test-support/errors.ts";
import { closedPortUrl, startServer, LOCAL } from "../test-support/http-server.ts";
import type { Reply, TestServer } from "../test-support/http-server.ts";
import { createPushProvider } from "./push.ts";

const API_KEY = "pk_live_do_not_leak";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function gateway(reply: Reply) {
  server = await startServer(() => reply);
  return server;
}

const request = {
  idempotencyKey: "run7:push1",
  to: "device-token-abc",
  title: "Your parcel is out for delivery",
  body: "Arriving today",
  data: { orderId: "o-1", deepLink: "shop://orders/o-1" },
};

describe("push provider", () => {
  it("posts the notification JSON with a bearer key and an Idempotency-Key header", async () => {
    const srv = await gateway({ status: 200, body: { id: "push-123" } });

    const result = await createPushProvider({
      endpoint: `${srv.url}/v1/push`,
      apiKey: API_KEY,
    }).send(request, LOCAL);

    expect(result.providerMessageId).toBe("push-123");
    expect(result.response).toEqual({ status: 200, body: { id: "push-123" } });
    const req = srv.requests[0]!;
    expect(req.path).toBe("/v1/push");
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req.headers["idempotency-key"]).toBe("run7:push1");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      to: "device-token-abc",
      title: "Your parcel is out for delivery",
      body: "Arriving today",
      data: { orderId: "o-1", deepLink: "shop://orders/o-1" },
    });
  });

  it("a journey step's url and image travel in data", async () => {
    const srv = await gateway({ status: 200, body: { messageId: "m-1" } });
    const result = await createPushProvider({ endpoint: srv.url, apiKey: API_KEY }).send(
      {
        idempotencyKey: "k",
        to: "device-token-abc",
        title: "t",
        body: "b",
        url: "shop://orders/o-1",
        image: "https://cdn.shop.example/o-1.png",
      },
      LOCAL,
    );
    expect(result.providerMessageId).toBe("m-1");
    expect(JSON.parse(srv.requests[0]!.body)).toMatchObject({
      data: { url: "shop://orders/o-1", image: "https://cdn.shop.example/o-1.png" },
    });
  });

  it("falls back to the idempotency key when the gateway returns no id", async () => {
    const srv = await gateway({ status: 202, body: "accepted" });
    const result = await createPushProvider({ endpoint: srv.url, apiKey: API_KEY }).send(
      request,
      LOCAL,
    );
    expect(result.providerMessageId).toBe("run7:push1");
    expect(result.response).toEqual({ status: 202, body: "accepted" });
  });

  it("503 is retryable, 401 is not, and neither echoes the API key", async () => {
    const echo = { message: `bad key ${API_KEY}` };
    const unavailable = await gateway({ status: 503, body: echo });
    const err503 = await providerError(
      createPushProvider({ endpoint: unavailable.url, apiKey: API_KEY }).send(request, LOCAL),
    );
    expect(err503.retryable).toBe(true);
    expect(err503.status).toBe(503);
    await unavailable.close();

    const unauthorised = await gateway({ status: 401, body: echo });
    const err401 = await providerError(
      createPushProvider({ endpoint: unauthorised.url, apiKey: API_KEY }).send(request, LOCAL),
    );
    expect(err401.retryable).toBe(false);
    expect(err401.message).toBe("push: HTTP 401: bad key [redacted]");
    expect(JSON.stringify(err401.response)).not.toContain(API_KEY);
  });

  it("a refused connection is a retryable network error", async () => {
    const url = await closedPortUrl();
    const err = await providerError(
      createPushProvider({ endpoint: url, apiKey: API_KEY }).send(request, LOCAL),
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("push: network error (ECONNREFUSED)");
  });

  it("a gateway that never answers times out as retryable", async () => {
    const srv = await gateway("hang");
    const err = await providerError(
      createPushProvider({ endpoint: srv.url, apiKey: API_KEY, timeoutMs: 200 }).send(
        request,
        LOCAL,
      ),
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("push: timed out after 200 ms");
  });

  it("a caller abort stops the send and is retryable", async () => {
    const srv = await gateway("hang");
    const controller = new AbortController();
    const pending = createPushProvider({ endpoint: srv.url, apiKey: API_KEY }).send(request, {
      ...LOCAL,
      signal: controller.signal,
    });
    controller.abort();
    const err = await providerError(pending);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("push: send aborted");
  });

  it("a redirect is not followed", async () => {
    const srv = await gateway({
      status: 302,
      headers: { location: "http://127.0.0.1:1/elsewhere" },
    });
    const err = await providerError(
      createPushProvider({ endpoint: srv.url, apiKey: API_KEY }).send(request, LOCAL),
    );
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(302);
    expect(srv.requests).toHaveLength(1);
  });
});
