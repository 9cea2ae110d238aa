// Issue 12, finding 4: a marketer could send an admin's webhook secret anywhere by giving a webhook
// step another URL. Now the webhook connection is bound to its origin: a step on another address
// is a validation error on that node (canvas, save, publish), and a journey that got through
// anyway (published before the connection existed) is refused at send time without the secret
// header reaching the other server. Two real local servers: the connection's and an attacker's.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { generateMasterKeyText, keyringFromText } from "@postpath/engine";
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

const API_KEY = "admin-api-key-Zq81xP";
const SIGNING = "whsec_" + Buffer.from("a-32-byte-secret-for-the-tests!!").toString("base64");

interface Receiver {
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  server: Server;
}

async function receiver(): Promise<Receiver> {
  const requests: Receiver["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    server,
  };
}

describe("a webhook connection's secret stays on its origin", () => {
  let h: Harness;
  let home: Receiver;
  let attacker: Receiver;

  beforeAll(async () => {
    [home, attacker] = await Promise.all([receiver(), receiver()]);
    h = await startHarness({ keyring: keyringFromText(generateMasterKeyText(), "test") });
  });
  afterAll(async () => {
    await h?.close();
    home?.server.close();
    attacker?.server.close();
  });

  it("a step on another address is an error on its node, and a send forced through is refused without the secret", async () => {
    const marketer = trpcHttp(h.baseUrl);
    expect((await marketer.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "call" },
      {
        id: "call",
        type: "action.webhook",
        data: { url: `${attacker.url}/collect`, body: '{"id":"{{ customer.id }}"}' },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    // Before any connection exists the step is valid (no secret to leak): the marketer publishes.
    const journeyId = (await marketer.mutation("journeys.create", { name: "Leak", draft })).body
      .result.data.id as string;
    expect((await marketer.mutation("journeys.publish", { id: journeyId })).status).toBe(200);

    // An admin adds the webhook connection, with an API key header, for the home server.
    const admin = trpcHttp(h.baseUrl);
    expect((await admin.mutation("auth.signIn", h.admin)).status).toBe(200);
    const created = await admin.mutation("credentials.create", {
      kind: "WEBHOOK",
      label: "CRM",
      config: { url: `${home.url}/hooks`, secret: SIGNING, headers: { "x-api-key": API_KEY } },
    });
    expect(created.status).toBe(200);
    // Headers without a URL would go anywhere: refused.
    const unbound = await admin.mutation("credentials.create", {
      kind: "WEBHOOK",
      label: "Unbound",
      config: { secret: SIGNING, headers: { "x-api-key": API_KEY } },
    });
    expect(unbound.status).toBe(400);
    expect(JSON.stringify(unbound.body)).toContain("Enter the URL these headers are for");

    // Validation now marks the node (what the canvas shows, and what blocks publishing).
    const origin = new URL(home.url).origin;
    const expected = {
      code: "webhook.origin",
      nodeId: "call",
      field: "url",
      message: `The webhook connection only calls ${origin}: start the URL with ${origin}/ and choose the path after it.`,
    };
    const validated = await marketer.query("journeys.validate", { draft });
    expect(validated.body.result.data.issues).toContainEqual(expected);
    expect((await marketer.query("journeys.catalog")).body.result.data.webhookOrigin).toBe(origin);
    const diff = await marketer.query("journeys.diff", { id: journeyId });
    expect(diff.body.result.data).toMatchObject({ ok: false, issues: [expected] });
    const republish = await marketer.mutation("journeys.publish", { id: journeyId });
    expect(republish.status).toBe(400);
    // A path on the connection's origin is fine.
    const onHome = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "call" },
      {
        id: "call",
        type: "action.webhook",
        data: { url: `${home.url}/orders/{{ customer.id }}` },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    expect(
      (await marketer.query("journeys.validate", { draft: onHome })).body.result.data.issues,
    ).toEqual([]);

    // The version published earlier still calls the attacker: the send is refused, unsent.
    const auth = {
      authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      "content-type": "application/json",
    };
    const tracked = await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ userId: "c1", event: "purchase" }),
    });
    expect(tracked.status).toBe(200);
    const message = await waitFor("the webhook message to be settled", async () => {
      const m = await h.db.prisma.message.findFirst({ where: { workspaceId: h.workspaceId } });
      return m && m.status !== "PENDING" && m.status !== "SENDING" ? m : null;
    });
    expect(message.status).toBe("FAILED");
    expect(message.error).toContain(`is not the webhook connection's (${origin})`);
    expect(message.attempts).toBe(1); // not retried: it can never succeed
    expect(attacker.requests).toEqual([]);
    expect(home.requests).toEqual([]);
  });
});
