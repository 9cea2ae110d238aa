import { afterEach, describe, expect, it } from "vitest";
import { providerError } from "../test-support/errors.ts";
import { startServer, LOCAL } from "../test-support/http-server.ts";
import type { Reply, TestServer } from "../test-support/http-server.ts";
import { createLogEmailProvider } from "./email.ts";
import { createNotifyProvider } from "./notify.ts";

const HOOK_PATH = "/services/T000/B000/XXXXsecretXXXX";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function slack(reply: Reply) {
  server = await startServer(() => reply);
  return server;
}

describe("notify provider (Slack-compatible incoming webhook)", () => {
  it("posts { text } and accepts Slack's plain 'ok'", async () => {
    const srv = await slack({ status: 200, body: "ok" });
    const notify = createNotifyProvider({ url: `${srv.url}${HOOK_PATH}`, username: "Postpath" });

    const result = await notify.send(
      {
        idempotencyKey: "run1:notify",
        text: "VIP order #1001 just shipped",
      },
      LOCAL,
    );

    expect(result).toEqual({
      providerMessageId: "run1:notify",
      response: { status: 200, body: "ok" },
    });
    const req = srv.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe(HOOK_PATH);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({
      text: "VIP order #1001 just shipped",
      username: "Postpath",
    });
  });

  it("takes the journey step's shape: its own webhookUrl and `message`", async () => {
    const srv = await slack({ status: 200, body: "ok" });
    const notify = createNotifyProvider({});
    await notify.send(
      {
        idempotencyKey: "k",
        via: "slack",
        webhookUrl: `${srv.url}${HOOK_PATH}`,
        message: "Clerk: pack order 7",
      },
      LOCAL,
    );
    expect(srv.requests[0]!.path).toBe(HOOK_PATH);
    expect(JSON.parse(srv.requests[0]!.body)).toEqual({ text: "Clerk: pack order 7" });
  });

  it("via email goes through the e-mail provider it was given", async () => {
    const notify = createNotifyProvider(
      {},
      { email: createLogEmailProvider({ from: "bot@shop.example" }) },
    );
    const result = await notify.send(
      {
        idempotencyKey: "k",
        via: "email",
        to: "clerk@shop.example",
        message: "Pack order 7",
      },
      LOCAL,
    );
    expect(result.response).toMatchObject({
      to: [{ address: "clerk@shop.example" }],
      subject: "Postpath notification",
      text: "Pack order 7",
    });
    const err = await providerError(
      createNotifyProvider({}).send(
        {
          idempotencyKey: "k",
          via: "email",
          to: "c@x.example",
          message: "m",
        },
        LOCAL,
      ),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/no e-mail provider/);
  });

  it("Slack's 404 no_service is not retryable and the error never shows the hook URL", async () => {
    const srv = await slack({ status: 404, body: `no_service ${HOOK_PATH}` });
    const err = await providerError(
      createNotifyProvider({ url: `${srv.url}${HOOK_PATH}` }).send(
        {
          idempotencyKey: "k",
          text: "hi",
        },
        LOCAL,
      ),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toBe("notify (slack webhook): HTTP 404");
    expect(JSON.stringify(err.response)).not.toContain("XXXXsecretXXXX");
  });

  it("a 500 is retryable", async () => {
    const srv = await slack({ status: 500, body: "internal" });
    const err = await providerError(
      createNotifyProvider({ url: srv.url }).send({ idempotencyKey: "k", text: "hi" }, LOCAL),
    );
    expect(err.retryable).toBe(true);
  });

  it("a hanging service times out as retryable", async () => {
    const srv = await slack("hang");
    const err = await providerError(
      createNotifyProvider({ url: srv.url, timeoutMs: 200 }).send(
        {
          idempotencyKey: "k",
          text: "hi",
        },
        LOCAL,
      ),
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("timed out");
  });
});
