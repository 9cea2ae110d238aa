// Walk 2026-12-05: on the hosted unsubscribe page, "Save preferences" with the boxes as shown
// recorded a "subscribed" consent from the preference centre for every never-asked channel (the
// box is shown ticked because such a channel receives), so the customer's profile said SMS
// "Subscribed" though they never chose it. Only a changed box is recorded now. Real server,
// Postgres and Redis.
import {
  consentOf,
  generateMasterKeyText,
  keyringFromText,
  unsubscribeToken,
} from "@postpath/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, waitFor, type Harness } from "./testing/harness.ts";

let h: Harness;
const keyring = keyringFromText(generateMasterKeyText(), "test");

beforeAll(async () => {
  h = await startHarness({ keyring });
  h.engine.publicUrl = h.baseUrl;
});
afterAll(async () => {
  await h?.close();
});

const form = (url: string, fields: Record<string, string>) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });

describe("the preference centre", () => {
  it("records only the boxes the customer changed, not a never-asked channel left ticked", async () => {
    await fetch(`${h.baseUrl}/v1/identify`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        userId: "bea",
        traits: { email: "bea@example.com", phone: "+447700900123", first_name: "Bea" },
      }),
    });
    const bea = await waitFor("customer bea", () =>
      h.db.prisma.customer.findFirst({ where: { workspaceId: h.workspaceId, externalId: "bea" } }),
    );
    const url = `${h.baseUrl}/u/${unsubscribeToken(h.engine, bea.id, "email")}`;
    const page = await (await fetch(url)).text();
    expect(page).toContain('name="sms" value="on" checked'); // never asked: receiving, shown ticked
    // Email unticked, SMS left as shown.
    const r = await form(url, { action: "preferences", sms: "on" });
    expect(await r.text()).toContain("Your preferences are saved.");
    const c = await consentOf(h.engine, h.workspaceId, bea.id);
    expect(c?.channels.map((x) => [x.channel, x.status, x.source])).toEqual([
      ["email", "unsubscribed", "preference_centre"],
      ["sms", "never_asked", null],
      ["push", "never_asked", null],
    ]);
    expect(c?.history.map((x) => `${x.channel}:${x.previous ?? "-"}→${x.status}`)).toEqual([
      "email:-→unsubscribed",
    ]);
    // Ticking email again is a change, and is recorded.
    await form(url, { action: "preferences", email: "on", sms: "on" });
    const again = await consentOf(h.engine, h.workspaceId, bea.id);
    expect(again?.channels.map((x) => [x.channel, x.status])).toEqual([
      ["email", "subscribed"],
      ["sms", "never_asked"],
      ["push", "never_asked"],
    ]);
  });
});
