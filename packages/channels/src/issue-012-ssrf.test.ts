// Issue 12, finding 4: outbound requests from steps refuse loopback, private, link-local (cloud
// metadata) and other non-public addresses after DNS resolution unless an admin allows the host,
// and never follow a redirect. Real local HTTP servers stand in for the internal services an
// attacker would aim at; every refusal must leave them untouched.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { allowListProblem, classifyAddress } from "./outbound.ts";
import { createNotifyProvider } from "./providers/notify.ts";
import { createPushProvider } from "./providers/push.ts";
import { createSmsProvider } from "./providers/sms.ts";
import { createWebhookProvider } from "./providers/webhook.ts";
import { providerError } from "./test-support/errors.ts";
import { startServer, type TestServer } from "./test-support/http-server.ts";

const SECRET = "whsec_" + Buffer.from("a-32-byte-secret-for-the-tests!!").toString("base64");
const payload = { event: "probe" };
const allow = (...allowHosts: string[]) => ({ outbound: { allowHosts } });

const servers: TestServer[] = [];
async function internalService(): Promise<TestServer> {
  const s = await startServer(() => ({ status: 200, body: { secret: "internal data" } }));
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("address classification", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:10.0.0.5", "private"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["2002:0a00:0005::1", "private"],
    ["224.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["ff02::1", "reserved"],
  ])("%s is %s", (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])(
    "%s is public",
    (address) => {
      expect(classifyAddress(address)).toBeNull();
    },
  );

  it("an allow-list entry is a host name, an IP address or a CIDR range", () => {
    expect(allowListProblem(["hooks.internal", "10.0.0.5", "10.1.0.0/16", "fd00::/8"])).toBeNull();
    expect(allowListProblem(["http://10.0.0.5/"])).toMatch(/not a host name/);
    expect(allowListProblem(["10.0.0.0/33"])).toMatch(/prefix length/);
  });

  it("a malformed allow-list fails the send for good, naming the entry", async () => {
    const webhook = createWebhookProvider({ secret: SECRET });
    const err = await providerError(
      webhook.send({ idempotencyKey: "k", payload, url: "http://10.0.0.5/" }, allow("http://x/")),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/"http:\/\/x\/" is not a host name/);
  });
});

describe("outbound requests from steps (real local servers)", () => {
  it("a private address is refused unless allowed, and reached when allowed", async () => {
    const internal = await internalService();
    const webhook = createWebhookProvider({ secret: SECRET });
    const refused = await providerError(
      webhook.send({ idempotencyKey: "k1", payload, url: `${internal.url}/admin` }),
    );
    expect(refused.retryable).toBe(false);
    expect(refused.message).toBe(
      "webhook: the address 127.0.0.1 is a loopback address (this machine); an admin can allow this host (OUTBOUND_ALLOW_HOSTS)",
    );
    expect(internal.requests).toHaveLength(0);

    const sent = await webhook.send(
      { idempotencyKey: "k2", payload, url: `${internal.url}/admin` },
      allow("127.0.0.1"),
    );
    expect(sent.response).toMatchObject({ status: 200 });
    expect(internal.requests).toHaveLength(1);
    // A range admits it too; another private address does not.
    await webhook.send({ idempotencyKey: "k3", payload, url: internal.url }, allow("127.0.0.0/8"));
    expect(internal.requests).toHaveLength(2);
    await providerError(
      webhook.send({ idempotencyKey: "k4", payload, url: internal.url }, allow("10.0.0.5")),
    );
    expect(internal.requests).toHaveLength(2);
  });

  it("a host name is checked by what it resolves to: localhost is loopback", async () => {
    const internal = await internalService();
    const port = new URL(internal.url).port;
    const webhook = createWebhookProvider({ secret: SECRET });
    const refused = await providerError(
      webhook.send({ idempotencyKey: "k", payload, url: `http://localhost:${port}/` }),
    );
    expect(refused.retryable).toBe(false);
    expect(refused.message).toMatch(
      /^webhook: localhost resolves to a loopback address \(this machine\) \((127\.0\.0\.1|::1)\); an admin can allow this host/,
    );
    // An allowed name skips the check of what it resolves to.
    const sent = await webhook.send(
      { idempotencyKey: "k2", payload, url: `http://LOCALHOST:${port}/` },
      allow("localhost"),
    );
    expect(sent.response).toMatchObject({ status: 200 });
    expect(internal.requests).toHaveLength(1);
  });

  it("the cloud metadata address is refused before any connection", async () => {
    const webhook = createWebhookProvider({ secret: SECRET, timeoutMs: 60_000 });
    const refused = await providerError(
      webhook.send({
        idempotencyKey: "k",
        payload,
        url: "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      }),
    );
    expect(refused.retryable).toBe(false);
    expect(refused.message).toBe(
      "webhook: the address 169.254.169.254 is a link-local address (such as a cloud metadata service); an admin can allow this host (OUTBOUND_ALLOW_HOSTS)",
    );
    // Other spellings of the same address (the URL parser normalises them) too.
    for (const url of [
      "http://2852039166/",
      "http://0xa9.0xfe.0xa9.0xfe/",
      "http://[::ffff:a9fe:a9fe]/",
    ])
      expect(
        (await providerError(webhook.send({ idempotencyKey: "k", payload, url }))).message,
      ).toMatch(/link-local/);
  });

  it("IPv6 loopback and IPv4-mapped IPv6 forms are refused", async () => {
    const internal = await internalService();
    const port = new URL(internal.url).port;
    const webhook = createWebhookProvider({ secret: SECRET });
    for (const [url, address] of [
      [`http://[::1]:${port}/`, "::1"],
      [`http://[::ffff:127.0.0.1]:${port}/`, "::ffff:7f00:1"],
      [`http://[::]:${port}/`, "::"],
      [`http://0.0.0.0:${port}/`, "0.0.0.0"],
    ] as const) {
      const err = await providerError(webhook.send({ idempotencyKey: "k", payload, url }));
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(`the address ${address} is`);
    }
    expect(internal.requests).toHaveLength(0);
  });

  it("a redirect from an allowed host to a private one is not followed", async () => {
    const internal = await internalService();
    const port = new URL(internal.url).port;
    const redirector = await startServer(() => ({
      status: 302,
      headers: { location: `http://localhost:${port}/admin` },
    }));
    servers.push(redirector);
    const webhook = createWebhookProvider({ secret: SECRET });
    const err = await providerError(
      webhook.send({ idempotencyKey: "k", payload, url: redirector.url }, allow("127.0.0.1")),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toBe("webhook: unexpected redirect (HTTP 302)");
    expect(redirector.requests).toHaveLength(1);
    expect(internal.requests).toHaveLength(0);
  });

  it("SMS, push and Slack providers go through the same check", async () => {
    const internal = await internalService();
    const sms = createSmsProvider({
      accountSid: "AC1",
      authToken: "token-1234",
      from: "+15550000000",
      baseUrl: internal.url,
    });
    const push = createPushProvider({ endpoint: internal.url, apiKey: "push-key" });
    const notify = createNotifyProvider({ url: `${internal.url}/services/T/B/x` });
    const errors = [
      await providerError(sms.send({ idempotencyKey: "k", to: "+15551112222", body: "x" })),
      await providerError(push.send({ idempotencyKey: "k", to: "dev", title: "t", body: "b" })),
      await providerError(notify.send({ idempotencyKey: "k", text: "x" })),
    ];
    expect(errors.map((e) => [e.retryable, /loopback/.test(e.message)])).toEqual([
      [false, true],
      [false, true],
      [false, true],
    ]);
    expect((await sms.verify!()).detail).toMatch(/loopback/);
    expect(internal.requests).toHaveLength(0);
  });

  it("a server on an IPv6 loopback is reached only when ::1 is allowed", async (ctx) => {
    const server: Server = createServer((_req, res) => res.writeHead(204).end());
    const listening = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(0, "::1", () => resolve(true));
    });
    if (!listening) ctx.skip(); // no IPv6 on this machine
    try {
      const url = `http://[::1]:${(server.address() as AddressInfo).port}/`;
      const webhook = createWebhookProvider({ secret: SECRET });
      await expect(webhook.send({ idempotencyKey: "k", payload, url })).rejects.toThrow(/loopback/);
      const sent = await webhook.send({ idempotencyKey: "k", payload, url }, allow("::1"));
      expect(sent.response).toMatchObject({ status: 204 });
    } finally {
      server.close();
    }
  });
});

describe("a webhook connection is bound to its origin", () => {
  it("a request may choose a path on the connection's origin, and nothing else: the headers never leave it", async () => {
    const home = await internalService();
    const elsewhere = await internalService();
    const webhook = createWebhookProvider({
      url: `${home.url}/hooks`,
      secret: SECRET,
      headers: { "x-api-key": "admin-api-key-1234" },
    });
    await webhook.send(
      { idempotencyKey: "k1", payload, url: `${home.url}/orders/7` },
      allow("127.0.0.1"),
    );
    expect(home.requests.map((r) => [r.path, r.headers["x-api-key"]])).toEqual([
      ["/orders/7", "admin-api-key-1234"],
    ]);
    const origin = new URL(home.url).origin;
    for (const url of [
      `${elsewhere.url}/steal`,
      `https://${new URL(home.url).host}/x`,
      `http://localhost:${new URL(home.url).port}/x`,
    ]) {
      const err = await providerError(
        webhook.send({ idempotencyKey: "k2", payload, url }, allow("127.0.0.1")),
      );
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(`is not the webhook connection's (${origin})`);
    }
    expect(elsewhere.requests).toHaveLength(0);
    expect(home.requests).toHaveLength(1);
  });

  it("a connection with headers must name the URL they are for", () => {
    expect(() =>
      createWebhookProvider({ secret: SECRET, headers: { "x-api-key": "admin-api-key-1234" } }),
    ).toThrow(/Enter the URL these headers are for/);
    expect(() => createWebhookProvider({ secret: SECRET })).not.toThrow();
  });
});
