// Issue 16 end to end, against the real server, worker, Postgres, Redis and SMTP sink: a weekly
// news journey (marketing email, re-entry after exit) is published; a customer's visit sends the
// first issue; the marketer opens the customer's profile and reads the run's trace in words and
// the message as sent; the customer clicks the unsubscribe link of that email (read from the
// sink) and confirms; a second visit runs the journey again, its email is skipped with the reason
// in the trace, and no further marketing email arrives.
import { expect, test } from "@playwright/test";
import { draftFromSteps } from "@postpath/journey";
import { createJourney, signIn } from "../support/app.ts";
import { mails, writeKeyAuth } from "../support/ingest.ts";

test("profile and trace in words; the unsubscribe link in a delivered email stops the next marketing email", async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const run = Date.now();
  const event = `e2e_news_visit_${run}`;
  const journeyName = `Weekly news ${run}`;
  await signIn(page);
  const id = await createJourney(
    page,
    journeyName,
    draftFromSteps(
      [
        {
          id: "visit",
          type: "trigger.event",
          data: { label: "Visited the shop", event },
          next: "news",
        },
        {
          id: "news",
          type: "action.email",
          data: {
            label: "Weekly news",
            subject: "This week for you, {{ first_name }}",
            body: "<p>Hello {{ first_name }}, here is what is new.</p>",
          },
          next: "done",
        },
        { id: "done", type: "flow.exit" },
      ],
      { entry: { mode: "afterExit" } },
    ),
  );
  const published = await page.request.post("/trpc/journeys.publish", {
    data: { id },
    headers: { "x-postpath-client": "e2e" },
  });
  expect(published.status(), await published.text()).toBe(200);

  const userId = `news-${run}`;
  const email = `${userId}@example.com`;
  const identify = await page.request.post("/v1/identify", {
    headers: writeKeyAuth(),
    data: { userId, traits: { first_name: "Nora", last_name: "Quist", email } },
  });
  expect(identify.status(), await identify.text()).toBe(200);
  const visit = (n: number) =>
    page.request.post("/v1/track", {
      headers: writeKeyAuth(),
      data: { userId, event, messageId: `${userId}-visit-${n}` },
    });
  expect((await visit(1)).status()).toBe(200);

  // The first issue arrives, with its unsubscribe link and the one-click headers.
  const mine = () => mails().filter((m) => m.to.includes(email));
  await expect
    .poll(() => mine().map((m) => m.subject), { timeout: 60_000 })
    .toEqual(["This week for you, Nora"]);
  const first = mine()[0]!;
  const unsubscribe = /href="([^"]+\/u\/[^"]+)"/
    .exec(first.html ?? "")?.[1]
    ?.replace(/&amp;/g, "&");
  expect(unsubscribe, "the unsubscribe link in the email").toBeDefined();

  // The profile: found by id, the run's trace in words, the message as sent.
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Customers" })
    .click();
  await page.getByLabel("Search", { exact: true }).fill(userId);
  await page.getByLabel("Search by").selectOption("id");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("table").getByRole("link", { name: userId }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Nora Quist" })).toBeVisible();
  await page.getByRole("tab", { name: "Journeys" }).click();
  const trace = page.getByRole("list", { name: `What happened in ${journeyName}` });
  await expect(trace.getByRole("listitem").first()).toContainText("Visited the shop");
  await expect(trace).toContainText("Weekly news");
  await expect(trace).not.toContainText(/action\.email|messageId|\{"/);
  await trace.getByRole("button", { name: "View message" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Email" });
  await expect(dialog).toContainText("This week for you, Nora");
  await expect(
    dialog.frameLocator('iframe[title="The email as sent"]').getByText("here is what is new"),
  ).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("profile-trace.png"), fullPage: true });
  await dialog.getByRole("button", { name: "Close" }).click();

  // The customer unsubscribes from the email's link (GET shows the page; the button posts).
  const customer = await page.context().newPage();
  await customer.goto(unsubscribe!);
  await expect(customer.getByRole("heading", { level: 1 })).toContainText(/Unsubscribe/);
  await customer.getByRole("button", { name: "Unsubscribe", exact: true }).click();
  await expect(customer.getByRole("heading", { level: 1 })).toHaveText("You're unsubscribed");
  await customer.screenshot({ path: testInfo.outputPath("unsubscribed.png"), fullPage: true });
  await customer.close();

  // A second visit runs the journey again: its email is skipped, and says why in the trace.
  expect((await visit(2)).status()).toBe(200);
  await expect
    .poll(
      async () => {
        await page.reload();
        await page.getByRole("tab", { name: "Journeys" }).click();
        return (await page.getByRole("main").textContent()) ?? "";
      },
      { timeout: 60_000, intervals: [1_000] },
    )
    .toMatch(/Not sent: Nora unsubscribed from email/);
  expect(mine().map((m) => m.subject)).toEqual(["This week for you, Nora"]);
});
