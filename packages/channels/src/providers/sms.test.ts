import { afterEach, describe, expect, it } from "vitest";
import { startServer, LOCAL } from "../test-support/http-server.ts";
import type { Reply, TestServer } from "../test-support/http-server.ts";
import { providerError } from "../test-support/errors.ts";
import { createSmsProvider } from "./sms.ts";

const ACCOUNT = "AC0123456789abcdef";
const TOKEN = "tok_super_secret_value";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function twilio(reply: Reply | ((path: string) => Reply)) {
  server = await startServer((req) => (typeof reply === "function" ? reply(req.path) : reply));
  return server;
}

function provider(baseUrl: string, extra: Partial<Parameters<typeof createSmsProvider>[0]> = {}) {
  return createSmsProvider({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    from: "+15550001111",
    baseUrl,
    ...extra,
  });
}

describe("sms provider (Twilio-shaped Messages API)", () => {
  it("posts the form fields with basic auth and the idempotency token, and returns the sid", async () => {
    const srv = await twilio({
      status: 201,
      body: { sid: "SM42", status: "queued", num_segments: "1", to: "+15552223333" },
    });

    const result = await provider(srv.url).send(
      {
        idempotencyKey: "run1:step1",
        to: "+15552223333",
        body: "Your order shipped 📦",
      },
      LOCAL,
    );

    expect(result.providerMessageId).toBe("SM42");
    expect(result.response).toEqual({
      sid: "SM42",
      status: "queued",
      numSegments: "1",
      to: "+15552223333",
    });
    expect(srv.requests).toHaveLength(1);
    const req = srv.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(req.headers["i-twilio-idempotency-token"]).toBe("run1:step1");
    const [scheme, credentials] = (req.headers.authorization ?? "").split(" ");
    expect(scheme).toBe("Basic");
    expect(Buffer.from(credentials!, "base64").toString("utf8")).toBe(`${ACCOUNT}:${TOKEN}`);
    const form = new URLSearchParams(req.body);
    expect(form.get("To")).toBe("+15552223333");
    expect(form.get("From")).toBe("+15550001111");
    expect(form.get("Body")).toBe("Your order shipped 📦");
  });

  it("uses the messaging service when no sender is configured, and passes the status callback", async () => {
    const srv = await twilio({ status: 201, body: { sid: "SM43" } });
    const sms = createSmsProvider({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      messagingServiceSid: "MG99",
      statusCallbackUrl: "https://postpath.example/hooks/sms",
      baseUrl: `${srv.url}/`,
    });

    await sms.send({ idempotencyKey: "k2", to: "+15552223333", body: "hi" }, LOCAL);

    const form = new URLSearchParams(srv.requests[0]!.body);
    expect(form.get("From")).toBeNull();
    expect(form.get("MessagingServiceSid")).toBe("MG99");
    expect(form.get("StatusCallback")).toBe("https://postpath.example/hooks/sms");
    expect(srv.requests[0]!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
  });

  it("turns a 500 into a retryable error", async () => {
    const srv = await twilio({ status: 500, body: "upstream exploded" });
    const err = await providerError(
      provider(srv.url).send({ idempotencyKey: "k", to: "+1555", body: "x" }, LOCAL),
    );
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(500);
    expect(err.message).toBe("sms (twilio): HTTP 500");
  });

  it("turns a 400 into a non-retryable error carrying Twilio's code, never the token", async () => {
    const srv = await twilio({
      status: 400,
      body: {
        code: 21211,
        message: `The 'To' number +1555 is not valid (token ${TOKEN})`,
        status: 400,
      },
    });
    const err = await providerError(
      provider(srv.url).send({ idempotencyKey: "k", to: "+1555", body: "x" }, LOCAL),
    );
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(400);
    expect(err.message).toContain("sms (twilio): HTTP 400: The 'To' number +1555 is not valid");
    expect(err.response).toMatchObject({ code: 21211 });
    expect(JSON.stringify(err.response)).not.toContain(TOKEN);
    expect(err.message).not.toContain(TOKEN);
  });

  it("turns a 429 into a retryable error with the provider's Retry-After", async () => {
    const srv = await twilio({
      status: 429,
      body: { code: 20429, message: "Too Many Requests" },
      headers: { "retry-after": "7" },
    });
    const err = await providerError(
      provider(srv.url).send({ idempotencyKey: "k", to: "+1555", body: "x" }, LOCAL),
    );
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(7000);
  });

  it("cuts off a provider that never answers, as a retryable timeout", async () => {
    const srv = await twilio("hang");
    const err = await providerError(
      provider(srv.url, { timeoutMs: 200 }).send(
        { idempotencyKey: "k", to: "+1555", body: "x" },
        LOCAL,
      ),
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("sms (twilio): timed out after 200 ms");
  });

  it("refuses a 2xx answer without a sid instead of reporting a phantom message", async () => {
    const srv = await twilio({ status: 200, body: { ok: true } });
    const err = await providerError(
      provider(srv.url).send({ idempotencyKey: "k", to: "+1555", body: "x" }, LOCAL),
    );
    expect(err.retryable).toBe(false);
  });

  it("rejects requests that can never succeed without calling the API", async () => {
    const srv = await twilio({ status: 201, body: { sid: "SM1" } });
    const sms = provider(srv.url);
    expect(
      (await providerError(sms.send({ idempotencyKey: "k", to: "", body: "x" }, LOCAL))).retryable,
    ).toBe(false);
    expect(
      (await providerError(sms.send({ idempotencyKey: "bad key\n", to: "+1", body: "x" }, LOCAL)))
        .retryable,
    ).toBe(false);
    expect(srv.requests).toHaveLength(0);
  });

  it("verify() checks the credentials against the account resource", async () => {
    const srv = await twilio((path) =>
      path === `/2010-04-01/Accounts/${ACCOUNT}.json`
        ? { status: 200, body: { friendly_name: "Shop", status: "active" } }
        : { status: 404 },
    );
    await expect(provider(srv.url).verify!(LOCAL)).resolves.toEqual({
      ok: true,
      detail: "account Shop is active",
    });
    expect(srv.requests[0]!.method).toBe("GET");
  });

  it("verify() reports bad credentials without leaking them", async () => {
    const srv = await twilio({ status: 401, body: { code: 20003, message: "Authenticate" } });
    const result = await provider(srv.url).verify!(LOCAL);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe("sms (twilio): HTTP 401: Authenticate");
  });

  it("rejects configs without a sender", () => {
    expect(() => createSmsProvider({ accountSid: ACCOUNT, authToken: TOKEN })).toThrow(
      /from or messagingServiceSid/,
    );
  });
});
