import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature, webhookHeaders } from "./webhook-signature.ts";

// The published Standard Webhooks test vector: a receiver using any reference library accepts
// what we send only if we reproduce it exactly.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const AT_VECTOR_TIME = VECTOR.timestamp * 1000;

describe("Standard Webhooks signatures", () => {
  it("reproduces the specification's test vector", () => {
    expect(signWebhook(VECTOR)).toBe(VECTOR.signature);
  });

  it("verifies the vector, from plain objects and from fetch Headers", () => {
    const headers = webhookHeaders(VECTOR);
    expect(headers["webhook-signature"]).toBe(VECTOR.signature);
    expect(
      verifyWebhookSignature({
        secret: VECTOR.secret,
        headers,
        body: VECTOR.body,
        now: AT_VECTOR_TIME,
      }),
    ).toBe(true);
    expect(
      verifyWebhookSignature({
        secret: VECTOR.secret,
        headers: new Headers(headers),
        body: Buffer.from(VECTOR.body),
        now: AT_VECTOR_TIME,
      }),
    ).toBe(true);
  });

  it("fails with a wrong secret, a changed body, id or timestamp", () => {
    const headers = webhookHeaders(VECTOR);
    const verify = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({
        secret: VECTOR.secret,
        headers,
        body: VECTOR.body,
        now: AT_VECTOR_TIME,
        ...over,
      });
    expect(verify({ secret: "whsec_" + Buffer.from("another secret").toString("base64") })).toBe(
      false,
    );
    expect(verify({ body: '{"test": 2432232315}' })).toBe(false);
    expect(verify({ headers: { ...headers, "webhook-id": "msg_other" } })).toBe(false);
    expect(
      verify({ headers: { ...headers, "webhook-timestamp": String(VECTOR.timestamp + 1) } }),
    ).toBe(false);
    expect(verify({ headers: { ...headers, "webhook-signature": "v1,not-a-signature" } })).toBe(
      false,
    );
    expect(verify({ headers: { "webhook-id": VECTOR.id } })).toBe(false);
  });

  it("rejects timestamps outside the tolerance (replays) unless told otherwise", () => {
    const headers = webhookHeaders(VECTOR);
    const later = AT_VECTOR_TIME + 10 * 60 * 1000;
    expect(
      verifyWebhookSignature({ secret: VECTOR.secret, headers, body: VECTOR.body, now: later }),
    ).toBe(false);
    expect(
      verifyWebhookSignature({
        secret: VECTOR.secret,
        headers,
        body: VECTOR.body,
        now: later,
        toleranceSeconds: Infinity,
      }),
    ).toBe(true);
  });

  it("accepts any matching signature in a space-separated list (key rotation)", () => {
    const headers = {
      ...webhookHeaders(VECTOR),
      "webhook-signature": `v1,bm9wZQ== v2,xyz ${VECTOR.signature}`,
    };
    expect(
      verifyWebhookSignature({
        secret: VECTOR.secret,
        headers,
        body: VECTOR.body,
        now: AT_VECTOR_TIME,
      }),
    ).toBe(true);
  });

  it("uses a secret without the whsec_ prefix as raw UTF-8 bytes", () => {
    const raw = { ...VECTOR, secret: "plain-shared-secret" };
    const headers = webhookHeaders(raw);
    expect(headers["webhook-signature"]).not.toBe(VECTOR.signature);
    expect(
      verifyWebhookSignature({
        secret: "plain-shared-secret",
        headers,
        body: raw.body,
        now: AT_VECTOR_TIME,
      }),
    ).toBe(true);
    const asWhsec = "whsec_" + Buffer.from("plain-shared-secret").toString("base64");
    expect(
      verifyWebhookSignature({ secret: asWhsec, headers, body: raw.body, now: AT_VECTOR_TIME }),
    ).toBe(true);
  });
});
