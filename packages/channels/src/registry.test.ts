import { afterEach, describe, expect, it } from "vitest";
import { ProviderConfigError, configSchemas, createProvider, isChannel } from "./registry.ts";
import { startServer, LOCAL } from "./test-support/http-server.ts";
import type { TestServer } from "./test-support/http-server.ts";
import { CHANNELS } from "./types.ts";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("createProvider", () => {
  it("builds each kind from a JSON config and the result sends through the real provider", async () => {
    server = await startServer(() => ({ status: 201, body: { sid: "SM9" } }));
    const configs = {
      email: { transport: "log", from: "hello@shop.example" },
      sms: { accountSid: "AC1", authToken: "t", from: "+1555", baseUrl: server.url },
      push: { endpoint: server.url, apiKey: "k" },
      webhook: { url: server.url, secret: "whsec_c2VjcmV0" },
      notify: { url: server.url },
    } as const;
    for (const kind of CHANNELS) {
      const provider = createProvider(kind, configs[kind]);
      expect(provider.channel).toBe(kind);
    }

    const sms = createProvider("sms", JSON.parse(JSON.stringify(configs.sms)));
    await expect(
      sms.send({ idempotencyKey: "k1", to: "+1666", body: "hi" }, LOCAL),
    ).resolves.toMatchObject({ providerMessageId: "SM9" });
    const email = createProvider("email", configs.email);
    await expect(
      email.send({ idempotencyKey: "k1", to: "a@b.example", subject: "s", text: "t" }),
    ).resolves.toMatchObject({
      response: { subject: "s", text: "t" },
    });
  });

  it("an email config without transport means SMTP", async () => {
    const email = createProvider("email", { url: "smtp://127.0.0.1:2525", from: "a@shop.example" });
    expect(email.name).toBe("email (smtp)");
    await email.close?.();
  });

  it("invalid configs throw ProviderConfigError naming fields, never echoing values", () => {
    const attempt = () =>
      createProvider("sms", { accountSid: "AC1", authToken: 12345678, baseUrl: "ftp://x" });
    expect(attempt).toThrow(ProviderConfigError);
    try {
      attempt();
    } catch (err) {
      const e = err as ProviderConfigError;
      expect(e.kind).toBe("sms");
      expect(e.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["authToken", "baseUrl"]));
      expect(e.message).not.toContain("12345678");
    }
    expect(() => createProvider("email", { transport: "carrier-pigeon" })).toThrow(
      /invalid email provider config/,
    );
    expect(() => createProvider("fax", {})).toThrow(/unknown provider kind/);
    expect(() =>
      createProvider("webhook", { url: "http://user:pw@127.0.0.1/x", secret: "s" }),
    ).toThrow(/credentials/);
  });

  it("exposes the schemas for admin forms and narrows kinds", () => {
    expect(
      configSchemas.push.safeParse({ endpoint: "https://push.example/v1", apiKey: "k" }).success,
    ).toBe(true);
    expect(
      configSchemas.push.parse({ endpoint: "https://push.example/v1", apiKey: "k" }).timeoutMs,
    ).toBe(10_000);
    expect(isChannel("notify")).toBe(true);
    expect(isChannel("toString")).toBe(false);
  });
});
