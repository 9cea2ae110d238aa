// Issue 17, item 1: where an admin finds the delivery-report addresses to paste into Twilio and
// SendGrid, and whether the workspace's credentials can verify the reports (createCaller, real
// Postgres). Only yes/no comes back about the credentials, never a value from them.
import { generateKeyPairSync } from "node:crypto";
import { createCredential, generateMasterKeyText, keyringFromText } from "@postpath/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

describe("credentials.deliveryReports", () => {
  let env: ApiTestEnv<"admin" | "marketer" | "other">;
  const keyring = keyringFromText(generateMasterKeyText(), "test");
  const TOKEN = "tw-auth-token-9f8e7d6c";

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["admin", "dr-a", "ADMIN"],
        ["marketer", "dr-a", "MARKETER"],
        ["other", "dr-b", "ADMIN"],
      ] as const,
      { prefix: "dr" },
    );
    env.engine.publicUrl = "https://postpath.shop.example/";
  });
  afterAll(async () => {
    await env?.close();
  });

  it("gives each workspace its own addresses and says what is set up; marketers may not ask", async () => {
    const ws = env.users.admin.workspaceId;
    const admin = createCaller({ ...env.ctxFor(env.users.admin), keyring });
    expect(await admin.credentials.deliveryReports()).toEqual({
      sms: {
        url: `https://postpath.shop.example/hooks/twilio/${ws}`,
        credential: false,
        requested: false,
      },
      email: {
        url: `https://postpath.shop.example/hooks/sendgrid/${ws}`,
        credential: false,
        verificationKey: false,
      },
    });

    await createCredential(env.db, keyring, {
      workspaceId: ws,
      kind: "SMS",
      label: "Twilio",
      config: {
        accountSid: "AC1",
        authToken: TOKEN,
        from: "+15550000",
        statusCallbackUrl: `https://postpath.shop.example/hooks/twilio/${ws}`,
      },
    });
    const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
      .publicKey.export({ format: "der", type: "spki" })
      .toString("base64");
    await createCredential(env.db, keyring, {
      workspaceId: ws,
      kind: "SMTP",
      label: "SendGrid",
      config: {
        from: "Shop <shop@example.com>",
        host: "smtp.sendgrid.net",
        port: 587,
        auth: { user: "apikey", pass: "SG.secret-pass-123" },
        eventWebhookPublicKey: key,
      },
    });
    const got = await admin.credentials.deliveryReports();
    expect(got.sms).toMatchObject({ credential: true, requested: true });
    expect(got.email).toMatchObject({ credential: true, verificationKey: true });
    expect(JSON.stringify(got)).not.toContain(TOKEN);
    expect(JSON.stringify(got)).not.toContain(key);

    // A key that is not one is refused when saved, naming the field.
    const bad = await rejects(
      admin.credentials.create({
        kind: "SMTP",
        label: "Bad",
        config: {
          from: "Shop <shop@example.com>",
          host: "smtp.sendgrid.net",
          port: 587,
          eventWebhookPublicKey: "not a key",
        },
      }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toMatch(/eventWebhookPublicKey: not a public key/);

    const other = createCaller({ ...env.ctxFor(env.users.other), keyring });
    const theirs = await other.credentials.deliveryReports();
    expect(theirs.sms.url).toBe(
      `https://postpath.shop.example/hooks/twilio/${env.users.other.workspaceId}`,
    );
    expect(theirs.sms.credential).toBe(false);
    const marketer = createCaller({ ...env.ctxFor(env.users.marketer), keyring });
    expect((await rejects(marketer.credentials.deliveryReports())).code).toBe("FORBIDDEN");
  });
});
