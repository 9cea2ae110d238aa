// issue 12: accounts in the browser. A new user joins by invite (a weak password is refused with
// the reason), changes their password on the Account page (the other browser is signed out), and
// sets a new one through an admin's one-time reset link.
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";
import { signIn } from "../support/app.ts";

const ADMIN = { email: "admin@postpath.local", password: "postpath-demo" };
const WHO = { email: "casey.account@example.com", name: "Casey Account" };

async function adminLink(page: Page, action: () => Promise<void>, testId: string) {
  await action();
  return (await page.getByTestId(testId).textContent()) ?? "";
}

test("join with a strong password, change it, and reset it through an admin's link", async ({
  page,
  browser,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/#/admin/users");
  await page.getByLabel("Email").fill(WHO.email);
  const invite = await adminLink(
    page,
    () => page.getByRole("button", { name: "Create invite link" }).click(),
    "invite-link",
  );

  // Joining: the email itself and a common password are refused, saying why.
  const first = await browser.newContext();
  const casey = await first.newPage();
  await casey.goto(invite);
  await casey.getByLabel("Your name").fill(WHO.name);
  await casey.getByLabel(/Choose a password/).fill(WHO.email);
  await casey.getByRole("button", { name: "Join workspace" }).click();
  await expect(casey.getByRole("alert")).toContainText(/too easy to guess.*personal/);
  await casey.getByLabel(/Choose a password/).fill("password12");
  await casey.getByRole("button", { name: "Join workspace" }).click();
  await expect(casey.getByRole("alert")).toContainText(/commonly used password/);
  await casey.getByLabel(/Choose a password/).fill("tangerine quiver orbit 81");
  await casey.getByRole("button", { name: "Join workspace" }).click();
  await expect(casey.getByRole("heading", { name: "Journeys" })).toBeVisible();

  // A second browser signed in as Casey; changing the password in the first signs it out.
  const second = await browser.newContext();
  const elsewhere = await second.newPage();
  await signIn(elsewhere, { email: WHO.email, password: "tangerine quiver orbit 81" });

  await casey.getByRole("link", { name: "Account", exact: true }).click();
  await expect(casey.getByRole("heading", { name: "Change your password" })).toBeVisible();
  await casey.getByLabel("Current password").fill("tangerine quiver orbit 81");
  await casey.getByLabel("New password", { exact: true }).fill("aaaaaaaaaa");
  await casey.getByRole("button", { name: "Change password" }).click();
  await expect(casey.getByRole("alert")).toContainText(/Repeated characters/);
  await casey.getByLabel("New password", { exact: true }).fill("velvet harbour compass 42");
  await casey.getByRole("button", { name: "Change password" }).click();
  await expect(casey.getByRole("status")).toContainText("Signed out on 1 other device.");
  await elsewhere.reload();
  await expect(elsewhere.getByRole("button", { name: "Sign in" })).toBeVisible();

  // The admin's reset link: works once, signs Casey out everywhere, signs this browser in.
  await page.reload();
  const reset = await adminLink(
    page,
    () =>
      page
        .getByRole("row", { name: new RegExp(WHO.email) })
        .getByRole("button", { name: "Reset password" })
        .click(),
    "reset-link",
  );
  expect(reset).toMatch(/#\/reset\/rst_/);
  await elsewhere.goto(reset);
  await expect(elsewhere.getByText(WHO.email)).toBeVisible();
  await elsewhere.getByLabel("New password", { exact: true }).fill("granite lantern meadow 9");
  await elsewhere.getByRole("button", { name: "Set password" }).click();
  await expect(elsewhere.getByRole("heading", { name: "Journeys" })).toBeVisible();
  await casey.reload();
  await expect(casey.getByRole("button", { name: "Sign in" })).toBeVisible();
  await elsewhere.goto(reset);
  await expect(elsewhere.getByRole("alert")).toContainText(/invalid, used or expired/);

  await first.close();
  await second.close();
});
