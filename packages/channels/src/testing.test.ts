// The test SMTP sink itself: what it parses, waiting for messages, the folder other processes
// read, and the failures it can inject.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createEmailProvider } from "./providers/email.ts";
import { readMailDir, startSmtpSink } from "./testing.ts";
import { providerError } from "./test-support/errors.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sink(options: Parameters<typeof startSmtpSink>[0] = {}) {
  const s = await startSmtpSink(options);
  cleanups.push(() => s.close());
  return s;
}

function provider(url: string) {
  const email = createEmailProvider({ url, from: "Shop <hello@shop.example>" });
  cleanups.push(() => email.close?.());
  return email;
}

describe("SMTP test sink", () => {
  it("keeps envelope, decoded subject, text, HTML, headers and the idempotency key", async () => {
    const smtp = await sink();
    expect(smtp.url).toBe(`smtp://127.0.0.1:${smtp.port}`);
    await provider(smtp.url).send({
      idempotencyKey: "run-3:welcome",
      to: "zoe@customer.example",
      subject: "Ada, ¿registrás tu máquina? ☕",
      text: "Grüße — line one\nline two",
      html: "<p>Grüße, <b>Ada</b></p>",
      headers: { "List-Unsubscribe": "<https://shop.example/u>" },
    });

    expect(smtp.received).toHaveLength(1);
    const got = smtp.received[0]!;
    expect(got).toMatchObject({
      from: "hello@shop.example",
      to: ["zoe@customer.example"],
      authUser: null,
      subject: "Ada, ¿registrás tu máquina? ☕",
      text: "Grüße — line one\nline two",
      html: "<p>Grüße, <b>Ada</b></p>",
      idempotencyKey: "run-3:welcome",
      seq: 1,
    });
    expect(got.headers["list-unsubscribe"]).toBe("<https://shop.example/u>");
    expect(got.headers.subject).toMatch(/^=\?UTF-8\?/); // headers stay as sent
    expect(got.raw).toContain("Content-Type: multipart/alternative");
  });

  it("waitFor resolves once enough matching messages arrived, and names what it got when it times out", async () => {
    const smtp = await sink();
    const email = provider(smtp.url);
    const forBob = smtp.waitFor(2, { match: (m) => m.to.includes("bob@customer.example") });
    for (const [i, to] of ["bob", "ann", "bob"].entries())
      await email.send({
        idempotencyKey: `k-${i}`,
        to: `${to}@customer.example`,
        subject: `n${i}`,
        text: "hi",
      });
    expect((await forBob).map((m) => m.subject)).toEqual(["n0", "n2"]);
    expect(await smtp.waitFor(3)).toHaveLength(3);
    await expect(smtp.waitFor(4, { timeoutMs: 50 })).rejects.toThrow(
      /expected 4 matching message\(s\) within 50 ms, got 3 .*ann@customer\.example "n1"/,
    );
  });

  it("in folder mode writes each message whole, for readers in other processes", async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), "pp-sink-")), "mail");
    cleanups.push(() => rmSync(path.dirname(dir), { recursive: true, force: true }));
    const smtp = await sink({ dir });
    expect(readMailDir(dir)).toEqual([]);
    const email = provider(smtp.url);
    for (const n of [1, 2])
      await email.send({
        idempotencyKey: `f-${n}`,
        to: "a@b.example",
        subject: `s${n}`,
        text: "x",
      });

    expect(readdirSync(dir).sort()).toEqual(["000001.json", "000002.json"]);
    expect(readMailDir(dir)).toEqual(smtp.received);
    expect(readMailDir(dir).map((m) => m.subject)).toEqual(["s1", "s2"]);
  });

  it("requires AUTH when given credentials and records the user; rejects recipients on request", async () => {
    const smtp = await sink({ auth: { user: "shop", pass: "p@ss word" } });
    expect(smtp.url).toBe(`smtp://shop:p%40ss%20word@127.0.0.1:${smtp.port}`);
    await provider(smtp.url).send({
      idempotencyKey: "a-1",
      to: "a@b.example",
      subject: "s",
      text: "x",
    });
    expect(smtp.received[0]?.authUser).toBe("shop");
    const wrong = await providerError(
      provider(`smtp://shop:nope@127.0.0.1:${smtp.port}`).send({
        idempotencyKey: "a-2",
        to: "a@b.example",
        subject: "s",
        text: "x",
      }),
    );
    expect(wrong.retryable).toBe(false);
    expect(smtp.received).toHaveLength(1);

    const rejecting = await sink({ rejectRecipientWith: 451 });
    const err = await providerError(
      provider(rejecting.url).send({
        idempotencyKey: "r",
        to: "a@b.example",
        subject: "s",
        text: "x",
      }),
    );
    expect([err.status, err.retryable]).toEqual([451, true]);
    expect(rejecting.received).toEqual([]);
  });
});
