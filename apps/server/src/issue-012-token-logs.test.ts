// issue 12, finding 5: invite lookups were GET requests with the token in the query string, so
// every pending invite was in the server log at info level. Now token lookups are POSTs and the
// request serializer redacts what a URL could still carry. This reads the real server's log
// (pino at info, as in production) after a whole invite and reset-link round trip, plus a GET
// of the kind an old client sent.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactUrl } from "./log-redact.ts";
import { startHarness, trpcHttp, type Harness } from "./testing/harness.ts";

describe("issue 12: no token in the request log", () => {
  let h: Harness;
  const logs: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString("utf8"));
        cb();
      },
    });
    h = await startHarness({ log: pino({ level: "info" }, sink) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("an invite and a reset link, used over HTTP, leave neither token nor password in the log", async () => {
    const admin = trpcHttp(h.baseUrl);
    expect((await admin.mutation("auth.signIn", h.admin)).status).toBe(200);
    const created = await admin.mutation("invites.create", {
      email: "invitee@logs.example",
      role: "ADMIN",
    });
    expect(created.status).toBe(200);
    const inviteToken = created.body.result.data.token as string;

    // An old client's GET: refused (the lookup is a mutation now), and its URL is logged redacted.
    const oldGet = await trpcHttp(h.baseUrl).query("auth.invite", { token: inviteToken });
    expect(oldGet.status).toBeGreaterThanOrEqual(400);
    const batched = await fetch(
      `${h.baseUrl}/trpc/auth.me,auth.invite?batch=1&input=${encodeURIComponent(
        JSON.stringify({ 1: { token: inviteToken } }),
      )}`,
    );
    await batched.arrayBuffer();

    const invitee = trpcHttp(h.baseUrl);
    const info = await invitee.mutation("auth.invite", { token: inviteToken });
    expect(info.body.result.data).toMatchObject({ email: "invitee@logs.example", role: "ADMIN" });
    const password = "umbrella falcon cinder 73";
    expect(
      (await invitee.mutation("auth.acceptInvite", { token: inviteToken, name: "In", password }))
        .status,
    ).toBe(200);

    const users = (await admin.query("users.list")).body.result.data as {
      id: string;
      email: string;
    }[];
    const marketer = users.find((u) => u.email === h.marketer.email);
    const reset = await admin.mutation("users.resetLink", { id: marketer?.id });
    expect(reset.status).toBe(200);
    const resetToken = reset.body.result.data.token as string;
    const anon = trpcHttp(h.baseUrl);
    expect((await anon.mutation("auth.resetInfo", { token: resetToken })).status).toBe(200);
    const newPassword = "quartz meadow lantern 58";
    expect(
      (await anon.mutation("auth.resetPassword", { token: resetToken, password: newPassword }))
        .status,
    ).toBe(200);

    const text = logs.join("");
    // The log is there and does record requests (else this test could not fail).
    expect(text).toContain('"msg":"incoming request"');
    expect(text).toContain('"url":"/trpc/auth.invite?[redacted]"');
    expect(text).toContain('"url":"/trpc/auth.me,auth.invite?[redacted]"');
    for (const secret of [inviteToken, resetToken, password, newPassword, h.admin.password])
      expect(text).not.toContain(secret);
    // Nor any fragment of a token long enough to use.
    expect(text).not.toContain(inviteToken.slice(4, 20));
  });

  it("redactUrl keeps what helps and drops what could be a secret", () => {
    expect(redactUrl("/trpc/journeys.list?input=%7B%7D")).toBe("/trpc/journeys.list?input=%7B%7D");
    expect(redactUrl("/trpc/auth.invite?input=%7B%22token%22%3A%22inv_x%22%7D")).toBe(
      "/trpc/auth.invite?[redacted]",
    );
    expect(redactUrl("/trpc/journeys.get,auth.me?batch=1&input=x")).toBe(
      "/trpc/journeys.get,auth.me?[redacted]",
    );
    expect(redactUrl("/anything?page=2&token=abc&api_key=k&Password=p")).toBe(
      "/anything?page=2&token=[redacted]&api_key=[redacted]&Password=[redacted]",
    );
    expect(redactUrl("/p/AbCdEfGhIjKlMnOp")).toBe("/p/AbCd…");
    expect(redactUrl("/p/AbCdEfGhIjKlMnOp/qr.png")).toBe("/p/AbCd…/qr.png");
    expect(redactUrl("/healthz")).toBe("/healthz");
    expect(redactUrl("/x?%E0%A4%A=1")).toBe("/x?[redacted]");
  });
});
