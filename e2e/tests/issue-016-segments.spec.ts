// Issue 16 end to end, against the real server, worker, Postgres, Redis and SMTP sink: the
// marketer builds a "repeat buyers at risk" segment in the Segments area (at least 2 purchases
// ever, none for 60 days), sees its size preview count the customers whose past purchases (sent
// through /v1/track with old timestamps) match, saves it, and starts a journey from it with the
// segment trigger's picker ("Saved segment", by name, "When they enter the segment") → email.
// Once published, a customer whose purchases move them into the segment gets the email.
import { expect, test } from "@playwright/test";
import type { APIRequestContext } from "@playwright/test";
import { draftFromSteps } from "@postpath/journey";
import { createJourney, node, pickName, signIn } from "../support/app.ts";
import { mails, writeKeyAuth } from "../support/ingest.ts";

const DAY = 86_400_000;

async function customerWithPurchases(
  request: APIRequestContext,
  userId: string,
  event: string,
  daysAgo: number[],
): Promise<void> {
  const identify = await request.post("/v1/identify", {
    headers: writeKeyAuth(),
    data: { userId, traits: { first_name: userId.split("-")[0], email: `${userId}@example.com` } },
  });
  expect(identify.status(), await identify.text()).toBe(200);
  for (const [i, days] of daysAgo.entries()) {
    const track = await request.post("/v1/track", {
      headers: writeKeyAuth(),
      data: {
        userId,
        event,
        messageId: `${userId}-${event}-${i}`,
        properties: { total: 40 + i },
        timestamp: new Date(Date.now() - days * DAY).toISOString(),
      },
    });
    expect(track.status(), await track.text()).toBe(200);
  }
}

test("a repeat-buyers-at-risk segment, built with the editor, sized, and starting a journey that emails who enters", async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const run = Date.now();
  // An event of this run only, so the workspace's other customers stay out of the count.
  const event = `e2e_purchase_${run}`;
  const segmentName = `Repeat buyers at risk ${run}`;
  // In: 2 purchases 100 and 80 days ago; 3 purchases, the last 70 days ago.
  // Out: bought again 10 days ago; only one purchase.
  await customerWithPurchases(page.request, `ada-${run}`, event, [100, 80]);
  await customerWithPurchases(page.request, `bo-${run}`, event, [200, 150, 70]);
  await customerWithPurchases(page.request, `cy-${run}`, event, [100, 10]);
  await customerWithPurchases(page.request, `di-${run}`, event, [90]);

  await signIn(page);
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Segments" })
    .click();
  await page.getByRole("link", { name: "New segment" }).click();
  const editor = page.getByRole("form", { name: "Segment" });
  await editor.getByLabel("Name").fill(segmentName);
  await editor.getByLabel("Description").fill("Bought at least twice, nothing for 60 days");
  // Rule 1: did the purchase at least 2 times, ever.
  await editor.getByLabel("Rule 1 kind").selectOption({ label: "Did something (an event)" });
  // The event field is a name picker (the event may not be in the cached catalogue yet: kept).
  await pickName(page, editor.getByRole("combobox", { name: "Rule 1 event" }), event);
  await editor.getByLabel("Rule 1 measure").selectOption({ label: "a number of times" });
  await editor.getByLabel("Rule 1 how many").selectOption("gte");
  await editor.getByLabel("Rule 1 number").fill("2");
  await editor.getByLabel("Rule 1 window").selectOption({ label: "ever" });
  // Rule 2: and not at all in the last 60 days.
  await editor.getByRole("button", { name: "Add a rule" }).click();
  await editor.getByLabel("Rule 2 kind").selectOption({ label: "Did something (an event)" });
  await pickName(page, editor.getByRole("combobox", { name: "Rule 2 event" }), event);
  await editor.getByLabel("Rule 2 measure").selectOption({ label: "— when last" });
  await editor.getByLabel("Rule 2 when").selectOption({ label: "not at all in the last" });
  await editor.getByLabel("Rule 2 days").fill("60");

  // The size preview, computed by the database: ada and bo.
  const preview = page.getByRole("complementary", { name: "Size preview" });
  await expect(preview.locator(".segments__count")).toHaveText("2 customers", { timeout: 30_000 });
  await expect
    .poll(async () => (await preview.getByRole("link").allTextContents()).sort())
    .toEqual([`ada-${run}`, `bo-${run}`]);
  await page.screenshot({ path: testInfo.outputPath("segment-editor.png"), fullPage: true });
  await editor.getByRole("button", { name: "Create segment" }).click();
  await expect(page.getByRole("heading", { level: 1, name: segmentName })).toBeVisible();
  const segmentId = /#\/segments\/([^/?]+)/.exec(page.url())?.[1];
  expect(segmentId, "the new segment's page").toBeTruthy();

  // A journey started by the segment: the trigger's picker chooses it by name.
  const journeyName = `Win back repeat buyers ${run}`;
  const id = await createJourney(
    page,
    journeyName,
    draftFromSteps([
      {
        id: "trigger",
        type: "trigger.segment",
        data: { label: "At-risk repeat buyer" },
        next: "mail",
      },
      {
        id: "mail",
        type: "action.email",
        data: {
          label: "We miss you",
          subject: "We miss you, {{ first_name }}",
          body: "<p>It has been a while, {{ first_name }}. Here is 10% off your next order.</p>",
        },
        next: "done",
      },
      { id: "done", type: "flow.exit" },
    ]),
  );
  await page.goto(`/#/journeys/${id}`);
  await node(page, "trigger").click();
  const step = page.locator("#tabpanel-step");
  await step.getByRole("radio", { name: "Saved segment" }).check();
  const picker = step.getByRole("combobox", { name: "Segment", exact: true });
  await expect(picker.locator("option", { hasText: segmentName })).toHaveCount(1);
  await expect(picker.locator("optgroup", { hasText: segmentName })).toHaveAttribute(
    "label",
    "Your segments",
  );
  await picker.selectOption(segmentId!);
  await expect(step.getByRole("radio", { name: "When they enter the segment" })).toBeChecked();
  await expect(node(page, "trigger")).toContainText(`Enters segment "${segmentName}"`);
  await expect(page.getByText("All changes saved")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("segment-trigger.png"), fullPage: true });

  const published = await page.request.post("/trpc/journeys.publish", {
    data: { id },
    headers: { "x-postpath-client": "e2e" },
  });
  expect(published.status(), await published.text()).toBe(200);

  // A new customer buys twice, the last time 61 days ago: they enter the segment and get the email.
  const eve = `eve-${run}`;
  await customerWithPurchases(page.request, eve, event, [100, 61]);
  const mine = () => mails().filter((m) => m.to.includes(`${eve}@example.com`));
  await expect
    .poll(() => mine().map((m) => m.subject), { timeout: 90_000 })
    .toEqual(["We miss you, eve"]);
  // The segment's page, loaded afresh, now counts three members.
  await page.goto(`/#/segments/${segmentId}`);
  await page.reload();
  await expect(
    page.getByRole("complementary", { name: "Size preview" }).locator(".segments__count"),
  ).toHaveText("3 customers");
});
