// Issue 16 end to end, against the real server, worker, Postgres and Redis: the journey editor's
// "Test run" with a REAL customer (journeys.testCustomer). Two customers reach the workspace
// through /v1/identify and /v1/track with the write key; a saved segment ("Gold members <run>":
// tier is gold-<run>) takes one of them in, computed by the worker. The marketer opens a journey
// whose split asks "is in segment", loads the gold customer by id in the Test run panel, runs the
// test and sees the path they would take — the gold branch's steps, by the names drawn on the
// canvas — and the other customer, loaded by email, takes the other branch.
import { expect, test } from "@playwright/test";
import type { APIRequestContext, Page } from "@playwright/test";
import { draftFromSteps } from "@postpath/journey";
import { createJourney, node, signIn } from "../support/app.ts";
import { writeKeyAuth } from "../support/ingest.ts";

const E2E = { "x-postpath-client": "e2e" }; // mutations need it (issue 12)

/** A customer sent as the marketer's systems would: identify (traits), then one event. */
async function customer(
  request: APIRequestContext,
  userId: string,
  traits: Record<string, unknown>,
  event: string,
): Promise<void> {
  const identify = await request.post("/v1/identify", {
    headers: writeKeyAuth(),
    data: { userId, traits },
  });
  expect(identify.status(), await identify.text()).toBe(200);
  const track = await request.post("/v1/track", {
    headers: writeKeyAuth(),
    data: { userId, event, messageId: `${userId}-${event}`, properties: { total: 120 } },
  });
  expect(track.status(), await track.text()).toBe(200);
}

/** The segment names journeys.testCustomer gives for a customer (null: not known yet). */
async function segmentNamesOf(page: Page, who: string): Promise<string[] | null> {
  const input = encodeURIComponent(JSON.stringify({ customer: who }));
  const res = await page.request.get(`/trpc/journeys.testCustomer?input=${input}`);
  if (res.status() !== 200) return null;
  return ((await res.json()) as { result: { data: { segmentNames: string[] } } }).result.data
    .segmentNames;
}

test("a test run with a real customer follows their real segment membership", async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  const run = Date.now();
  const event = `e2e_testrun_order_${run}`;
  const gold = `vera-${run}`;
  const plain = `sam-${run}`;
  const segmentName = `Gold members ${run}`;
  await customer(
    page.request,
    gold,
    { first_name: "Vera", email: `${gold}@example.com`, tier: `gold-${run}` },
    event,
  );
  await customer(
    page.request,
    plain,
    { first_name: "Sam", email: `${plain}@example.com`, tier: "silver" },
    event,
  );

  await signIn(page);
  const created = await page.request.post("/trpc/segments.create", {
    headers: E2E,
    data: {
      name: segmentName,
      definition: {
        match: "all",
        rules: [{ kind: "attribute", property: "tier", op: "eq", value: `gold-${run}` }],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(200);
  const segmentId = ((await created.json()) as { result: { data: { id: string } } }).result.data.id;
  // The worker computes the new segment's members (and ingest may still be storing the traits):
  // wait until the membership the test run will read has Vera in and Sam out.
  await expect
    .poll(() => segmentNamesOf(page, gold), { timeout: 150_000, intervals: [500, 1_000, 2_000] })
    .toEqual([segmentName]);
  await expect.poll(() => segmentNamesOf(page, plain), { timeout: 60_000 }).toEqual([]);

  const id = await createJourney(
    page,
    `Thank buyers by segment ${run}`,
    draftFromSteps([
      {
        id: "trigger",
        type: "trigger.event",
        data: { label: "Order placed", event },
        next: "split",
      },
      {
        id: "split",
        type: "split.condition",
        data: {
          label: "Gold member?",
          conditions: [{ property: "customer.segments", op: "contains", value: segmentId }],
        },
        next: { yes: "gold-mail", no: "welcome-mail" },
      },
      {
        id: "gold-mail",
        type: "action.email",
        data: {
          label: "Gold thank-you",
          subject: "Thank you, {{ first_name }}: your gold gift",
          body: "<p>A gift for our gold members.</p>",
        },
        next: "gold-done",
      },
      { id: "gold-done", type: "flow.exit", data: { label: "Gold done" } },
      {
        id: "welcome-mail",
        type: "action.email",
        data: {
          label: "Welcome offer",
          subject: "Welcome, {{ first_name }}: 10% off your next order",
          body: "<p>Thanks for your order.</p>",
        },
        next: "welcome-done",
      },
      { id: "welcome-done", type: "flow.exit", data: { label: "Welcome done" } },
    ]),
  );
  await page.goto(`/#/journeys/${id}`);
  // The split's condition names the segment, as the marketer picked it.
  await node(page, "split").click();
  const segment = page.locator("#tabpanel-step").getByRole("combobox", { name: "Segment" });
  await expect(segment).toHaveValue(segmentId);
  await expect(segment.locator("option:checked")).toHaveText(`${segmentName} · 1 customer`);

  await page.getByRole("tab", { name: "Test run" }).click();
  await page.getByRole("button", { name: "Use a real customer…" }).click();
  const who = page.getByLabel("Real customer’s id or email");
  const panel = page.locator("#tabpanel-test");
  const timeline = page.getByRole("region", { name: "Test run timeline" });

  // Vera, by her id: in the gold segment, so the test run takes the "yes" branch.
  await who.fill(gold);
  await page.getByRole("button", { name: "Load customer" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Loaded Vera" })).toContainText(
    `in segment “${segmentName}”`,
  );
  await expect(page.getByLabel("Test customer (JSON)")).toHaveValue(new RegExp(gold));
  await page.getByRole("button", { name: "Run test" }).click();
  await expect(timeline).toBeVisible();
  await expect(timeline).toContainText("Gold member?");
  await expect(timeline).toContainText("Gold thank-you");
  await expect(timeline).toContainText("Thank you, Vera: your gold gift");
  await expect(timeline).toContainText("Gold done");
  await expect(timeline).not.toContainText("Welcome offer");
  // The canvas marks the same path.
  await expect(node(page, "gold-mail").locator(".step")).toHaveClass(/step--visited/);
  await expect(node(page, "welcome-mail").locator(".step")).toHaveClass(/step--skipped/);
  await page.screenshot({ path: testInfo.outputPath("test-run-gold.png"), fullPage: true });

  // Sam, by his email: in no saved segment, so the other branch.
  await who.fill(`${plain}@example.com`);
  await page.getByRole("button", { name: "Load customer" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Loaded Sam" })).toContainText(
    "in no saved segment",
  );
  await page.getByRole("button", { name: "Run test" }).click();
  await expect(timeline).toContainText("Welcome offer");
  await expect(timeline).toContainText("Welcome, Sam: 10% off your next order");
  await expect(timeline).toContainText("Welcome done");
  await expect(timeline).not.toContainText("Gold thank-you");
  await expect(node(page, "welcome-mail").locator(".step")).toHaveClass(/step--visited/);
  await expect(node(page, "gold-mail").locator(".step")).toHaveClass(/step--skipped/);
  await expect(panel.getByRole("alert")).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("test-run-plain.png"), fullPage: true });
});
