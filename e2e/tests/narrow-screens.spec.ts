// A marketer's walk on a phone (360 px) and on a 1280 px laptop: no screen is wider than the
// window. Found on 2026-12-05: the header never wrapped (every screen 1,030 px wide at 360 px),
// the journey and page lists, the dashboard's tables, the customer search box and a journey's
// analytics (a long version choice, a 13-column table: 1,338 px at 1280 px) pushed the page
// sideways. Wide tables now scroll in their own box (the saved segments' table too: found in a
// full run, where earlier specs had saved segments).
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";
import { createJourney, signIn } from "../support/app.ts";
import { seededJourney } from "../support/db.ts";

const ADMIN = { email: "admin@postpath.local", password: "postpath-demo" };

/** How much wider than the window the page is, once `ready` is on screen. */
async function overflow(page: Page, hash: string, ready: RegExp): Promise<number> {
  await page.goto(`/${hash}`);
  await expect(page.getByRole("heading", { level: 1, name: ready })).toBeVisible();
  await page.waitForLoadState("networkidle");
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test("every area fits a 360 px phone and a 1280 px laptop", async ({ page }) => {
  const journey = await seededJourney("Thank-you after purchase");
  await signIn(page, ADMIN);
  // A saved segment with long rules, so the segments list has its table whatever ran before.
  const created = await page.request.post("/trpc/segments.create", {
    headers: { "x-postpath-client": "e2e" },
    data: {
      name: `Narrow screens ${Date.now()}`,
      definition: {
        match: "all",
        rules: [
          { kind: "attribute", property: "favourite_coffee_machine_model", op: "eq", value: "x" },
        ],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(200);
  const screens: [string, RegExp][] = [
    ["#/journeys", /^Journeys$/],
    ["#/pages", /^Pages$/],
    ["#/customers", /^Customers$/],
    ["#/segments", /^Segments$/],
    ["#/dashboard", /^Dashboard$/],
    [`#/journeys/${journey.id}/analytics`, /^Analytics/],
    ["#/admin/users", /^Administration$/],
    ["#/admin/credentials", /^Administration$/],
  ];
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    for (const [hash, ready] of screens)
      expect(await overflow(page, hash, ready), `${hash} at ${width} px`).toBe(0);
  }
  // The journey editor on a phone: nothing sideways, the canvas takes the width, the steps list
  // and the panels are reachable (stacked), and a tap on a step in the list adds it (to a journey
  // of its own: the seeded one is other specs').
  await page.setViewportSize({ width: 360, height: 800 });
  const name = `Phone ${Date.now()}`;
  const id = await createJourney(page, name);
  await page.goto(`/#/journeys/${id}`);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  const canvas = page.locator(".react-flow").first();
  await expect(canvas.locator(".react-flow__node").first()).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(
    0,
  );
  const box = await canvas.boundingBox();
  expect(box?.width ?? 0).toBeGreaterThan(300);
  expect(box?.height ?? 0).toBeGreaterThan(250);
  const steps = page.getByRole("navigation", { name: "Steps" });
  // The steps strip keeps its height (as an auto row it shrank to a sliver on a short screen).
  expect((await steps.boundingBox())?.height ?? 0).toBeGreaterThan(100);
  await steps.getByRole("button", { name: "Send email" }).first().click();
  await expect(canvas.locator(".react-flow__node", { hasText: "Send email" })).toBeVisible();
  const settings = page.getByRole("tab", { name: "Settings" });
  await settings.scrollIntoViewIfNeeded();
  await settings.click();
  await expect(settings).toHaveAttribute("aria-selected", "true");
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(
    0,
  );

  // The header keeps each item on one line: at 1280 px an admin's header is one row.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/#/journeys");
  const signOut = page.getByRole("button", { name: "Sign out" });
  const brand = page.getByRole("link", { name: "Postpath", exact: true });
  const [a, b] = [await signOut.boundingBox(), await brand.boundingBox()];
  expect(
    Math.abs((a?.y ?? 0) + (a?.height ?? 0) / 2 - ((b?.y ?? 0) + (b?.height ?? 0) / 2)),
  ).toBeLessThan(8);
  expect(a?.height ?? 0).toBeLessThan(50); // "Sign out" on one line
});
