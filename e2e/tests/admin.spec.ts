// Admin issue: an admin runs the workspace from the browser — invites a user who joins by link,
// creates an ingest key that works once shown and stops working when revoked, adds a webhook
// credential (write-only, last 4 shown) and tests it against a real local receiver, and reads
// the audit log. A marketer gets no admin pages.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";

const ADMIN = { email: "admin@postpath.local", password: "postpath-demo" };
const MARKETER = { email: "marketer@postpath.local", password: "postpath-demo" };

async function signIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();
}

test("an admin invites a user who joins by link with the invited role", async ({
  page,
  browser,
}) => {
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { name: "Users and roles" })).toBeVisible();
  await expect(page.getByRole("cell", { name: "marketer@postpath.local" })).toBeVisible();

  await page.getByLabel("Email").fill("newbie@example.com");
  await page.getByLabel("Role", { exact: true }).selectOption("VIEWER");
  await page.getByRole("button", { name: "Create invite link" }).click();
  const link = (await page.getByTestId("invite-link").textContent()) ?? "";
  expect(link).toMatch(/#\/invite\/inv_/);

  const context = await browser.newContext();
  const invitee = await context.newPage();
  await invitee.goto(link);
  await expect(
    invitee.getByText(/You are invited to .* as viewer \(newbie@example.com\)/),
  ).toBeVisible();
  await invitee.getByLabel("Your name").fill("Newbie");
  await invitee.getByLabel(/Choose a password/).fill("a-long-enough-password");
  await invitee.getByRole("button", { name: "Join workspace" }).click();
  await expect(invitee.getByRole("heading", { name: "Journeys" })).toBeVisible();
  await expect(invitee.getByText("Newbie")).toBeVisible();
  await expect(invitee.getByRole("link", { name: "Admin" })).toHaveCount(0);
  // The link is single-use.
  await invitee.goto(link);
  await expect(invitee.getByRole("alert")).toContainText(/invalid, used or expired/);
  await context.close();
});

test("an API key is shown once, accepts events, and is refused once revoked", async ({
  page,
  request,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/#/admin/api-keys");
  await page.getByLabel("Name").fill("Shop backend");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent()) ?? "";
  expect(key).toMatch(/^pp_/);
  const auth = { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` };
  const ok = await request.post("/v1/track", {
    headers: auth,
    data: { userId: "e2e-1", event: "purchase" },
  });
  expect(ok.status()).toBe(200);

  const row = page.getByRole("row", { name: /Shop backend/ });
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(row.getByText("revoked")).toBeVisible();
  const refused = await request.post("/v1/track", {
    headers: auth,
    data: { userId: "e2e-1", event: "purchase" },
  });
  expect(refused.status()).toBe(401);
});

test("a webhook credential is write-only and its test send reaches the receiver; the audit log says who did it", async ({
  page,
}) => {
  const received: { signature: string | undefined; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ signature: req.headers["webhook-signature"] as string | undefined, body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const secret = "e2e-signing-secret-K4v8";
  try {
    await signIn(page, ADMIN);
    await page.goto("/#/admin/credentials");
    await page.getByLabel("Add").selectOption("WEBHOOK");
    await page.getByRole("button", { name: "Add credential" }).click();
    await page.getByLabel("Label").fill("Order hook");
    await page.getByLabel("Default URL").fill(url);
    await page.getByLabel("Signing secret").fill(secret);
    await page.getByRole("button", { name: "Save credential" }).click();

    const row = page.getByRole("row", { name: /Order hook/ });
    await expect(row.getByText(`••••${secret.slice(-4)}`)).toBeVisible();
    await expect(page.getByText(secret)).toHaveCount(0);

    await row.getByRole("button", { name: "Test" }).click();
    await page.getByRole("button", { name: "Run test" }).click();
    await expect(page.getByTestId("credential-test-result")).toContainText("Works");
    expect(received).toHaveLength(1);
    expect(received[0]?.signature).toMatch(/^v1,/);
    expect(received[0]?.body).toContain("postpath.test");
    await page.getByRole("button", { name: "Close" }).click();
    await expect(row.getByText("✓ works")).toBeVisible();

    await page.getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("row", { name: /credential\.create/ }).first()).toContainText(
      ADMIN.email,
    );
    await expect(page.getByRole("row", { name: /credential\.test/ }).first()).toBeVisible();
    expect(await page.content()).not.toContain(secret);
  } finally {
    receiver.close();
  }
});

test("a marketer has no admin link and the admin pages refuse them", async ({ page }) => {
  await signIn(page, MARKETER);
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.goto("/#/admin/credentials");
  await expect(page.getByRole("alert")).toContainText("Only admins");
});
