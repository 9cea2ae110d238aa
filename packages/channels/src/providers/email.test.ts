import { afterEach, describe, expect, it } from "vitest";
import { providerError } from "../test-support/errors.ts";
import { startSilentServer, startSmtpSink } from "../testing.ts";
import type { SmtpSinkOptions } from "../testing.ts";
import type { Provider } from "../types.ts";
import {
  IDEMPOTENCY_HEADER,
  createEmailProvider,
  createLogEmailProvider,
  messageIdForKey,
} from "./email.ts";
import type { EmailRequest } from "./email.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Providers first (their pools QUIT), then the servers.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A sink that requires AUTH (mailer / s3cret-pass unless `options.auth` says otherwise). */
async function sink(options: SmtpSinkOptions = {}) {
  const s = await startSmtpSink({ auth: { user: "mailer", pass: "s3cret-pass" }, ...options });
  cleanups.push(() => s.close());
  return s;
}

function track<P extends Provider<EmailRequest>>(provider: P): P {
  cleanups.push(() => provider.close?.() ?? Promise.resolve());
  return provider;
}

const mail: EmailRequest = {
  idempotencyKey: "run-1:step-email",
  to: "ann@customer.example",
  subject: "Thanks for your order, Ann",
  text: "Your order #1001 is confirmed.",
};

describe("email provider over SMTP", () => {
  it("delivers to the SMTP server with the idempotency header and a Message-ID derived from the key", async () => {
    const smtp = await sink();
    const email = track(createEmailProvider({ url: smtp.url, from: "Shop <hello@shop.example>" }));

    const result = await email.send(mail);

    expect(smtp.received).toHaveLength(1);
    const got = smtp.received[0]!;
    expect(got.to).toEqual(["ann@customer.example"]);
    expect(got.from).toBe("hello@shop.example");
    expect(got.authUser).toBe("mailer");
    expect(got.subject).toBe("Thanks for your order, Ann");
    expect(got.idempotencyKey).toBe("run-1:step-email");
    expect(got.headers[IDEMPOTENCY_HEADER.toLowerCase()]).toBe("run-1:step-email");
    const expectedId = messageIdForKey("run-1:step-email", "shop.example");
    expect(got.headers["message-id"]).toBe(expectedId);
    expect(got.text?.trim()).toBe("Your order #1001 is confirmed.");
    expect(got.html).toBeNull();
    expect(result.providerMessageId).toBe(expectedId);
    expect(result.response).toMatchObject({
      messageId: expectedId,
      accepted: ["ann@customer.example"],
      rejected: [],
    });
  });

  it("the same key always yields the same Message-ID; another key does not", async () => {
    const smtp = await sink();
    const email = track(
      createEmailProvider({
        host: "127.0.0.1",
        port: smtp.port,
        auth: { user: "mailer", pass: "s3cret-pass" },
        from: "hello@shop.example",
      }),
    );
    await email.send(mail);
    await email.send(mail);
    await email.send({ ...mail, idempotencyKey: "run-2:step-email" });
    const ids = smtp.received.map((m) => m.headers["message-id"]);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it("sends text and HTML as alternatives and embeds data-URL images as inline attachments", async () => {
    const smtp = await sink();
    const email = track(createEmailProvider({ url: smtp.url, from: "hello@shop.example" }));
    const pixel =
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

    await email.send({
      ...mail,
      html: `<p>Hello <b>Ann</b></p><img src="${pixel}">`,
      replyTo: "care@shop.example",
    });

    const got = smtp.received[0]!;
    expect(got.headers["content-type"]).toMatch(/^multipart\//);
    expect(got.headers["reply-to"]).toBe("care@shop.example");
    expect(got.raw).toContain("Content-Type: text/plain");
    expect(got.raw).toContain("Content-Type: text/html");
    expect(got.raw).toMatch(/src=3D"cid:|src="cid:/);
    expect(got.raw).toMatch(/Content-Id: </i);
    expect(got.raw).not.toContain("data:image/png;base64");
    expect(got.text?.trim()).toBe("Your order #1001 is confirmed.");
    expect(got.html).toMatch(/^<p>Hello <b>Ann<\/b><\/p><img src="cid:[^"]+">$/);
  });

  it("takes a journey step's rendered body: MJML compiled, text derived, preheader and sender name applied", async () => {
    const smtp = await sink();
    const email = track(createEmailProvider({ url: smtp.url, from: "Shop <hello@shop.example>" }));

    await email.send({
      idempotencyKey: "run-5:mjml",
      to: "ann@customer.example",
      subject: "Your order",
      format: "mjml",
      body: "<mjml><mj-body><mj-section><mj-column><mj-text>Thanks, Ann!</mj-text></mj-column></mj-section></mj-body></mjml>",
      preheader: "It ships tomorrow",
      fromName: "Shop Support",
    });

    const got = smtp.received[0]!;
    expect(got.headers.from).toBe("Shop Support <hello@shop.example>");
    expect(got.raw).toContain("Content-Type: text/plain");
    expect(got.raw).toContain("Content-Type: text/html");
    expect(got.subject).toBe("Your order");
    expect(got.text).toContain("Thanks, Ann!");
    expect(got.html).toContain("Thanks, Ann!");
    expect(got.html).toContain("It ships tomorrow");
    expect(got.raw).not.toContain("<mj-");
  });

  it("a body in invalid MJML fails without retry and nothing is sent", async () => {
    const smtp = await sink();
    const email = track(createEmailProvider({ url: smtp.url, from: "hello@shop.example" }));
    const err = await providerError(
      email.send({
        ...mail,
        text: undefined,
        format: "mjml",
        body: "<mjml><mj-body><mj-bogus/></mj-body></mjml>",
      }),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/mj-bogus/);
    expect(smtp.received).toHaveLength(0);
  });

  it("a permanent SMTP rejection (550) is not retryable", async () => {
    const smtp = await sink({ rejectRecipientWith: 550 });
    const email = track(createEmailProvider({ url: smtp.url, from: "hello@shop.example" }));
    const err = await providerError(email.send(mail));
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(550);
    expect(err.message).toMatch(/^email \(smtp\): /);
  });

  it("a transient SMTP rejection (451) is retryable", async () => {
    const smtp = await sink({ rejectRecipientWith: 451 });
    const email = track(createEmailProvider({ url: smtp.url, from: "hello@shop.example" }));
    const err = await providerError(email.send(mail));
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(451);
  });

  it("bad credentials are not retryable and never show the password", async () => {
    const smtp = await sink({ auth: { user: "mailer", pass: "the-right-one" } });
    const email = track(
      createEmailProvider({
        host: "127.0.0.1",
        port: smtp.port,
        auth: { user: "mailer", pass: "wrong-pass-xyz" },
        from: "a@shop.example",
      }),
    );
    const err = await providerError(email.send(mail));
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain("wrong-pass-xyz");
    expect(JSON.stringify(err.response)).not.toContain("wrong-pass-xyz");
    expect(smtp.received).toHaveLength(0);
  });

  it("a server that never greets is cut off as retryable", async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const email = track(
      createEmailProvider({
        host: "127.0.0.1",
        port: silent.port,
        from: "a@shop.example",
        timeoutMs: 200,
      }),
    );
    const err = await providerError(email.send(mail));
    expect(err.retryable).toBe(true);
  });

  it("a caller abort fails the send as retryable", async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const email = track(
      createEmailProvider({ host: "127.0.0.1", port: silent.port, from: "a@shop.example" }),
    );
    const controller = new AbortController();
    const pending = email.send(mail, { signal: controller.signal });
    controller.abort();
    const err = await providerError(pending);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe("email (smtp): send aborted");
  });

  it("verify() connects and authenticates; wrong credentials report ok: false without the password", async () => {
    const smtp = await sink();
    const good = track(createEmailProvider({ url: smtp.url, from: "a@shop.example" }));
    await expect(good.verify!()).resolves.toMatchObject({ ok: true });

    const bad = track(
      createEmailProvider({
        url: `smtp://mailer:nope-nope-42@127.0.0.1:${smtp.port}`,
        from: "a@shop.example",
      }),
    );
    const result = await bad.verify!();
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^email \(smtp\): .*535/);
    expect(result.detail).not.toContain("nope-nope-42");
  });

  it("requests without a recipient or content are refused before any connection", async () => {
    const smtp = await sink();
    const email = track(createEmailProvider({ url: smtp.url, from: "a@shop.example" }));
    expect((await providerError(email.send({ ...mail, to: "" }))).retryable).toBe(false);
    expect(
      (await providerError(email.send({ idempotencyKey: "k", to: "a@b.example", subject: "s" })))
        .retryable,
    ).toBe(false);
    expect(
      (
        await providerError(
          email.send({ ...mail, headers: { "X-Bad": "a\r\nBcc: evil@example.com" } }),
        )
      ).retryable,
    ).toBe(false);
    expect(smtp.received).toHaveLength(0);
  });

  it("config needs exactly one of url and host", () => {
    expect(() => createEmailProvider({ from: "a@shop.example" })).toThrow(/either url or host/);
    expect(() => createEmailProvider({ from: "a@shop.example", url: "http://x" })).toThrow(
      /smtp:\/\//,
    );
  });
});

describe("log e-mail provider (no SMTP configured)", () => {
  it("returns the rendered message instead of sending it", async () => {
    const email = track(createLogEmailProvider({ from: "Shop <hello@shop.example>" }));

    const result = await email.send({
      ...mail,
      html: "<p>Hi</p>",
      headers: { "List-Unsubscribe": "<https://shop.example/u>" },
    });

    const expectedId = messageIdForKey(mail.idempotencyKey, "shop.example");
    expect(result.providerMessageId).toBe(expectedId);
    expect(result.response).toMatchObject({
      subject: "Thanks for your order, Ann",
      text: "Your order #1001 is confirmed.",
      html: "<p>Hi</p>",
      messageId: expectedId,
      to: [{ address: "ann@customer.example", name: "" }],
      from: { address: "hello@shop.example", name: "Shop" },
      headers: {
        "List-Unsubscribe": "<https://shop.example/u>",
        [IDEMPOTENCY_HEADER]: mail.idempotencyKey,
      },
    });
    await expect(email.verify!()).resolves.toMatchObject({ ok: true });
  });
});
