// Issue 16 end to end (coupon pools a marketer fills): in the Coupons area (`#/coupons`) the
// marketer creates a pool, pastes codes (a header, a repeat and a code with a space in it), then
// uploads a CSV file whose codes partly overlap, and sees the result in words and the pool's
// counts; a second pool with the same name is refused at the field. The coupon step's pool picker
// (journeys.couponPools) counts the same codes as left.
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";
import { signIn } from "../support/app.ts";

test.use({ actionTimeout: 15_000 });

async function pickerPool(page: Page, name: string) {
  const res = await page.request.get("/trpc/journeys.couponPools");
  expect(res.status(), await res.text()).toBe(200);
  const pools = (
    (await res.json()) as {
      result: { data: { name: string; codes: number; unclaimed: number }[] };
    }
  ).result.data;
  return pools.find((p) => p.name === name);
}

test("a marketer creates a coupon pool, pastes and uploads codes, and sees the counts", async ({
  page,
}) => {
  const run = Date.now();
  const name = `Thank-you 15% ${run}`;
  await signIn(page);
  await page.goto("/#/coupons");
  await expect(page.getByRole("heading", { name: "Coupons", level: 1 })).toBeVisible();

  await page.getByRole("button", { name: "New pool" }).click();
  const dialog = page.getByRole("dialog", { name: "New coupon pool" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create pool" }).click();
  // The pool's page opens.
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  const figures = page.getByLabel("Codes", { exact: true });
  await expect(figures).toContainText("Codes left0");
  await expect(figures).toContainText("No codes left");

  const codes = Array.from({ length: 150 }, (_, i) => `TY${run}-${String(i).padStart(3, "0")}`);
  await page
    .getByLabel("Paste codes")
    .fill(["Code", ...codes, codes[0], "HAS SPACE", ""].join("\n"));
  await page.getByRole("button", { name: "Add codes" }).click();
  const result = page.getByRole("status", { name: "Upload result" });
  await expect(result).toContainText(
    "Added 150 codes. 1 was repeated in your list (added once). The first line looked like a header and was skipped. 1 line was not a usable code and was skipped. The pool now has 150 of 150 codes left.",
  );
  await expect(result.getByRole("list", { name: "Skipped lines" })).toHaveText(
    "Line 153: HAS SPACE — A code can't have spaces in it.",
  );
  await expect(figures).toContainText("Codes left150");
  await expect(figures).not.toContainText("Low stock");

  // A CSV export: 50 codes already in the pool, 50 new, a value column.
  const more = Array.from({ length: 50 }, (_, i) => `TY${run}-X${i}`);
  const csv = ["Coupon code,Value", ...codes.slice(0, 50), ...more].map((c) => `${c},15`);
  await page.getByLabel("Upload a .csv or .txt file").setInputFiles({
    name: "codes.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(`\uFEFF${csv.join("\r\n")}\r\n`, "utf8"),
  });
  await expect(result).toContainText(
    "Added 50 codes. 50 were already in the pool. The first line looked like a header and was skipped. The pool now has 200 of 200 codes left.",
  );
  await expect(figures).toContainText("Codes left200");
  expect(await pickerPool(page, name)).toEqual(
    expect.objectContaining({ codes: 200, unclaimed: 200 }),
  );

  // The list shows the pool with its counts; the same name again is refused at the field.
  await page.getByRole("link", { name: "← Coupons" }).click();
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name }) });
  await expect(row.getByRole("cell").nth(1)).toHaveText("200");
  await expect(row.getByRole("cell").nth(2)).toHaveText("0");
  await page.getByRole("button", { name: "New pool" }).click();
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create pool" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("A pool with this name already exists.");
});
