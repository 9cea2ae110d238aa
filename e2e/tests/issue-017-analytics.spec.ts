// Issue 17 end to end, against the real server, worker, Postgres, Redis and SMTP sink: the A/B
// template (its two-day wait shortened to a second so the run fits in a test) is published; 300
// customers buy through /v1/batch and get one of the two subject lines or fall in the holdout;
// 60 of them buy again (with revenue and an order id). The journey's analytics tab shows the
// funnel per step, the per-day chart and the A/B test's variants with the rule behind the verdict;
// the workspace dashboard shows the orders. Screenshots of both.
import { expect, test } from "@playwright/test";
import type { APIRequestContext, Page } from "@playwright/test";
import { templates } from "@postpath/journey";
import { createJourney, signIn } from "../support/app.ts";
import { writeKeyAuth } from "../support/ingest.ts";

const CUSTOMERS = 300;
const BUYING_AGAIN = 60;

async function batch(request: APIRequestContext, items: unknown[]): Promise<void> {
  for (let at = 0; at < items.length; at += 100) {
    const res = await request.post("/v1/batch", {
      headers: writeKeyAuth(),
      data: { batch: items.slice(at, at + 100) },
    });
    expect(res.status(), await res.text()).toBe(200);
  }
}

type StepFigures = { stepId: string; name: string; entered: number; sent: number };

async function stepFigures(page: Page, journeyId: string): Promise<StepFigures[]> {
  const input = encodeURIComponent(JSON.stringify({ journeyId }));
  const res = await page.request.get(`/trpc/analytics.steps?input=${input}`);
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: { all: StepFigures[] } } }).result.data.all;
}

test("the A/B template's analytics: funnel per step, chart, variants with the verdict's rule, and the dashboard", async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await signIn(page);
  const template = templates.find((t) => t.id === "ab-test");
  expect(template, "the A/B template").toBeDefined();
  const draft = structuredClone(template!.draft) as {
    nodes: { id: string; data: Record<string, unknown> }[];
  };
  const wait = draft.nodes.find((n) => n.id === "wait-2d");
  expect(wait).toBeDefined();
  wait!.data = { ...wait!.data, amount: 1, unit: "seconds" };
  const name = `A/B analytics ${Date.now()}`;
  const journeyId = await createJourney(page, name, draft);
  const published = await page.request.post("/trpc/journeys.publish", {
    data: { id: journeyId },
    headers: { "x-postpath-client": "e2e" },
  });
  expect(published.status(), await published.text()).toBe(200);

  // 300 first purchases, then 60 of the same customers buy again (the goal: a second purchase).
  const run = `ab${Date.now()}`;
  const ids = Array.from({ length: CUSTOMERS }, (_, i) => `${run}-${i}`);
  await batch(
    page.request,
    ids.map((userId) => ({
      type: "identify",
      userId,
      traits: { email: `${userId}@example.com`, first_name: "Sam" },
    })),
  );
  await batch(
    page.request,
    ids.map((userId, i) => ({
      type: "track",
      userId,
      event: "purchase",
      messageId: `${userId}-first`,
      properties: { order_id: `${userId}-o1`, revenue: 40 + (i % 5), product: { name: "Grinder" } },
    })),
  );
  // Every customer reaches the split; those not in the holdout get one email each.
  await expect
    .poll(
      async () => (await stepFigures(page, journeyId)).find((s) => s.stepId === "split")?.entered,
      { timeout: 180_000, intervals: [1_000] },
    )
    .toBe(CUSTOMERS);
  await expect
    .poll(
      async () =>
        (await stepFigures(page, journeyId))
          .filter((s) => s.stepId.startsWith("email-"))
          .reduce((n, s) => n + s.sent, 0),
      { timeout: 120_000, intervals: [1_000] },
    )
    .toBeGreaterThan(CUSTOMERS * 0.75);
  await batch(
    page.request,
    ids.slice(0, BUYING_AGAIN).map((userId) => ({
      type: "track",
      userId,
      event: "purchase",
      messageId: `${userId}-second`,
      properties: { order_id: `${userId}-o2`, revenue: 100, product: { name: "Beans" } },
    })),
  );

  // The analytics tab: the funnel per step.
  await page.goto(`/#/journeys/${journeyId}/analytics`);
  await expect(page.getByRole("heading", { level: 1, name: `Analytics: ${name}` })).toBeVisible();
  const table = page.getByRole("table", { name: "Figures per step" });
  await expect(table.getByRole("row", { name: /^Purchase/ })).toContainText(String(CUSTOMERS));
  for (const label of ["Subject A", "Subject B"])
    await expect(table.getByRole("row", { name: new RegExp(`^${label}`) })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("analytics-steps.png"), fullPage: true });

  // The per-day chart.
  await page.getByRole("tab", { name: "Per day" }).click();
  await expect(
    page.getByRole("figure", { name: "Entries, sends and conversions per day" }),
  ).toBeVisible();
  await expect(page.locator(".recharts-line").first()).toBeVisible();
  await expect(page.getByLabel("Totals of the range")).toContainText(`${CUSTOMERS} entries`);

  // The A/B test: both subject lines and the holdout, with recipients adding up, and the rule.
  await page.getByRole("tab", { name: "A/B tests" }).click();
  const experiment = page.getByRole("article", { name: /Subject line test/ });
  await expect(experiment).toBeVisible();
  const table2 = experiment.getByRole("table");
  let recipients = 0;
  for (const variant of ["Question", "Benefit", "Holdout"]) {
    const row = table2.getByRole("row", { name: new RegExp(`^${variant}`) });
    await expect(row).toHaveCount(1);
    recipients += Number(
      ((await row.getByRole("cell").first().textContent()) ?? "").replace(/\D/g, ""),
    );
  }
  expect(recipients).toBe(CUSTOMERS);
  await expect(experiment).toContainText(/Fixed horizon/);
  await page.screenshot({ path: testInfo.outputPath("analytics-ab-test.png"), fullPage: true });

  // The workspace dashboard counts the orders of both rounds.
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Dashboard" })
    .click();
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  const cards = page.getByRole("list", { name: "Key figures" });
  const count = async (label: string, pattern: RegExp) => {
    const card = cards.getByRole("listitem").filter({ hasText: label });
    const text = (await card.locator("span.muted").textContent()) ?? "";
    return Number(pattern.exec(text)?.[1]?.replace(/[^\d]/g, "") ?? NaN);
  };
  // This test's orders are in the last 90 days (other tests' may be too).
  await expect
    .poll(() => count("Average order value", /([\d,.\s]+) orders/))
    .toBeGreaterThanOrEqual(CUSTOMERS + BUYING_AGAIN);
  expect(await count("Repeat-purchase rate", /([\d,.\s]+) of/)).toBeGreaterThanOrEqual(
    BUYING_AGAIN,
  );
  await page.screenshot({ path: testInfo.outputPath("dashboard.png"), fullPage: true });
});
