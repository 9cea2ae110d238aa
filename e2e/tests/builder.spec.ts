// The builder end to end, against the real app (server + in-process worker + Postgres + Redis +
// an SMTP sink): a marketer builds the machine-registration journey by dragging steps from the
// palette and connecting their handles, fixes a validation error provoked on purpose, test-runs
// it, publishes, sends the purchase through the ingest API and sees the email arrive.
import { readFileSync } from "node:fs";
import path from "node:path";
import { readMailDir } from "@postpath/channels/testing";
import { expect, test } from "@playwright/test";
import type { Locator, Page } from "@playwright/test";
import { connect, pickName, picker } from "../support/app.ts";

const MARKETER = { email: "marketer@postpath.local", password: "postpath-demo" };

// A tall window so the whole journey fits at zoom 1 while it is built.
test.use({ viewport: { width: 1600, height: 1300 }, actionTimeout: 15_000 });

async function signIn(page: Page): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Email").fill(MARKETER.email);
  await page.getByLabel("Password").fill(MARKETER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();
}

/** The folder global-setup.ts's SMTP sink writes each received message to. */
function mailDir(): string {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error("E2E_MAIL_DIR is not set: run the specs through playwright.config.ts");
  return dir;
}

function writeKey(): string {
  const dir = process.env.E2E_DATA_DIR;
  if (!dir) throw new Error("E2E_DATA_DIR is not set: run the specs through playwright.config.ts");
  return readFileSync(path.join(dir, "demo-write-key.txt"), "utf8").trim();
}

const node = (page: Page, id: string): Locator =>
  page.locator(`.react-flow__node[data-id="${id}"]`);

/** Re-arranges the journey and fits it in view, so the next drop lands on free canvas. */
async function tidy(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Auto-layout" }).click();
  await page.getByRole("button", { name: "Fit View" }).click();
  await viewportSettled(page);
}

/** Waits until the canvas viewport stops moving (fit-view animates), instead of a fixed sleep. */
async function viewportSettled(page: Page): Promise<void> {
  const viewport = page.locator(".react-flow__viewport");
  await expect
    .poll(async () => {
      const before = await viewport.getAttribute("style");
      await page.evaluate(
        () =>
          new Promise<void>((resolve) =>
            requestAnimationFrame(() => requestAnimationFrame(() => resolve())),
          ),
      );
      return before === (await viewport.getAttribute("style"));
    })
    .toBe(true);
}

/** Drags a step from the palette onto free canvas (below the journey) and returns its node id. */
async function dropStep(page: Page, label: string, dx = 0): Promise<string> {
  const canvas = page.getByTestId("canvas");
  const box = await canvas.boundingBox();
  if (!box) throw new Error("no canvas");
  const before = await page.locator(".react-flow__node").count();
  await page
    .getByRole("navigation", { name: "Steps" })
    .getByRole("button", { name: label, exact: true })
    .dragTo(canvas, { targetPosition: { x: box.width / 2 + dx, y: box.height - 70 } });
  await expect(page.locator(".react-flow__node")).toHaveCount(before + 1);
  const id = await page.locator(".react-flow__node.selected").getAttribute("data-id");
  if (!id) throw new Error(`dropping ${label} selected no node`);
  return id;
}

/** The side panel's form field for a config path (the form marks each field with data-field). */
const field = (page: Page, p: string): Locator =>
  page
    .locator(`#tabpanel-step [data-field="${p}"]`)
    .locator("input:not([type=checkbox]), textarea, select")
    .first();

async function select(page: Page, id: string): Promise<void> {
  await node(page, id).click();
  await expect(page.getByRole("heading", { level: 2 }).first()).toBeVisible();
  await expect(page.locator(`#step-panel-title[data-step-id="${id}"]`)).toBeVisible();
}

test("a marketer builds, fixes, test-runs and publishes the machine-registration journey; the email arrives", async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(180_000);
  await signIn(page);

  // A blank journey: one empty event trigger.
  await page.getByRole("button", { name: "New journey" }).click();
  const dialog = page.getByRole("dialog", { name: "New journey" });
  const journeyName = `Machine registration e2e ${Date.now()}`;
  await dialog.getByLabel("Name").fill(journeyName);
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("heading", { level: 1, name: journeyName })).toBeVisible();
  await expect(node(page, "trigger")).toBeVisible();

  // The trigger: a purchase.
  await select(page, "trigger");
  await pickName(page, picker(page, "event"), "purchase");

  // Personal registration link with a QR code.
  await tidy(page);
  const purl = await dropStep(page, "Personal URL / QR");
  // issue 16: the page is a picker of the workspace's landing pages; an address no page has yet is kept.
  await pickName(page, picker(page, "page"), "register-machine");
  await connect(page, "trigger", "next", purl);

  // A registration discount (the default pattern coupon, 25 %).
  await tidy(page);
  const coupon = await dropStep(page, "Issue coupon");
  await field(page, "value.amount").fill("25");
  await connect(page, purl, "next", coupon);

  // The invitation email — left without a subject on purpose: a validation error.
  await tidy(page);
  const invite = await dropStep(page, "Send email");
  await field(page, "body").fill(
    "Hi {{ first_name }}, register at {{ purl.url }} and use {{ coupon.code }} for {{ coupon.value }}% off.",
  );
  await connect(page, coupon, "next", invite);

  // Wait up to 7 days for the registration with the same serial.
  await tidy(page);
  const registered = await dropStep(page, "Wait for event");
  await pickName(page, picker(page, "event"), "machine_registered");
  await connect(page, invite, "next", registered);

  // Thank-you email on "arrived", reminder SMS on "timed out", then exit.
  await tidy(page);
  const thanks = await dropStep(page, "Send email", -200);
  await field(page, "subject").fill("Thank you, {{ first_name }}!");
  await field(page, "body").fill("Your machine is registered.");
  await connect(page, registered, "arrived", thanks);
  await tidy(page);
  const reminder = await dropStep(page, "Send SMS", 200);
  await field(page, "body").fill("{{ first_name }}, register your machine: {{ purl.url }}");
  await connect(page, registered, "timedOut", reminder);
  await tidy(page);
  const done = await dropStep(page, "Exit");
  await connect(page, thanks, "next", done);
  await connect(page, reminder, "next", done);
  await tidy(page);

  // The provoked error is shown on its node, listed under Problems, and Publish is disabled.
  const publish = page.getByRole("button", { name: "Publish…" });
  await expect(node(page, invite).locator(".step")).toHaveClass(/step--invalid/);
  await expect(node(page, invite)).toContainText("Write a subject line.");
  await expect(publish).toBeDisabled();
  await page.getByRole("tab", { name: /Problems/ }).click();
  await page.screenshot({ path: testInfo.outputPath("builder-invalid.png") });
  await page.getByRole("button", { name: /Write a subject line\./ }).click();
  await expect(page.locator(`#step-panel-title[data-step-id="${invite}"]`)).toBeVisible();
  await field(page, "subject").fill("{{ first_name }}, register your machine");
  await expect(node(page, invite).locator(".step")).not.toHaveClass(/step--invalid/);
  await expect(page.getByRole("tab", { name: "Problems" })).toBeVisible();
  await expect(publish).toBeEnabled();
  await expect(page.getByText("All changes saved")).toBeVisible();

  // Template preview with the sample customer.
  await node(page, invite).click();
  await expect(page.locator('[data-preview="subject"]')).toContainText(
    "Ada, register your machine",
  );

  // Test run: a purchase, then registration two days later → the thank-you path.
  await page.getByRole("tab", { name: "Test run" }).click();
  await page.getByRole("button", { name: "Add event" }).click();
  // The event name is a picker (issue 16): the journey's own events are listed first.
  await pickName(page, page.getByRole("combobox", { name: "Event 2 name" }), "machine_registered");
  await page.getByLabel("Event 2 after").fill("2");
  await page.getByRole("button", { name: "Run test" }).click();
  const timeline = page.getByRole("region", { name: "Test run timeline" });
  await expect(timeline).toContainText(/Finished: (completed|exited)/);
  await expect(node(page, thanks).locator(".step")).toHaveClass(/step--visited/);
  await expect(node(page, reminder).locator(".step")).toHaveClass(/step--skipped/);
  await expect(node(page, registered)).toContainText("+2d");
  await page.screenshot({ path: testInfo.outputPath("builder-test-run.png") });

  // Publish: the dialog lists what is new, then the journey is live.
  await publish.click();
  const publishDialog = page.getByRole("dialog", { name: "Publish journey" });
  await expect(publishDialog).toContainText("This is the first version");
  await publishDialog.getByRole("button", { name: "Publish now" }).click();
  await expect(publishDialog).toContainText("Published version 1");
  await publishDialog.getByRole("button", { name: "Close" }).click();
  await expect(page.getByText("Live v1")).toBeVisible();

  // The customer buys a machine (ingest API, Basic auth with the write key).
  const auth = { Authorization: `Basic ${Buffer.from(`${writeKey()}:`).toString("base64")}` };
  const email = `ada-${Date.now()}@example.com`;
  const userId = `e2e-${Date.now()}`;
  const identify = await request.post("/v1/identify", {
    headers: auth,
    data: { userId, traits: { email, first_name: "Ada" } },
  });
  expect(identify.status(), await identify.text()).toBeLessThan(300);
  const track = await request.post("/v1/track", {
    headers: auth,
    data: {
      userId,
      event: "purchase",
      properties: { serial: "SN-E2E-1", product: { model: "Barista Pro", tier: "premium" } },
    },
  });
  expect(track.status(), await track.text()).toBeLessThan(300);

  // The invitation arrives at the SMTP sink, rendered for this customer.
  await expect
    .poll(
      () =>
        readMailDir(mailDir())
          .filter((m) => m.to.includes(email))
          .map((m) => m.subject),
      { timeout: 60_000 },
    )
    .toContain("Ada, register your machine");

  // Node counts on the live canvas (operate.nodeCounts, refreshed while the page is open).
  await expect(node(page, invite).locator(".step__counts")).toContainText("entered1", {
    timeout: 30_000,
  });
  await expect(node(page, invite).locator(".step__counts")).toContainText("sent1");
  await page.screenshot({ path: testInfo.outputPath("builder-live.png") });

  // One customer's path and trace.
  await page.getByRole("tab", { name: "Operate" }).click();
  await expect(page.getByRole("table").getByRole("rowheader", { name: "v1" })).toBeVisible();
  await page.getByLabel("Customer id or email").fill(email);
  await page.getByRole("button", { name: "Find" }).click();
  const run = page.locator("details.run").first();
  await expect(run).toContainText("v1");
  // issue 18: the trace in words, the step named as the canvas does ("Send email"), no raw kinds.
  await expect(run.getByRole("list")).toContainText("Send email");
  await expect(run.getByRole("list")).toContainText("Sent the email");
  await expect(run.getByRole("list")).not.toContainText("message.sent");
  await run.getByRole("button", { name: "Show on canvas" }).click();
  await expect(node(page, invite).locator(".step")).toHaveClass(/step--visited/);

  // Pause, resume and stop, each confirmed.
  await page.getByRole("button", { name: "Pause…" }).click();
  await page
    .getByRole("dialog", { name: "Pause this journey?" })
    .getByRole("button", { name: "Pause journey" })
    .click();
  await expect(page.locator(".journey__header .status")).toHaveText("Paused");
  await page.getByRole("button", { name: "Resume…" }).click();
  await page
    .getByRole("dialog", { name: "Resume this journey?" })
    .getByRole("button", { name: "Resume journey" })
    .click();
  await expect(page.locator(".journey__header .status")).toHaveText("Live");
  await page.getByRole("button", { name: "Stop…" }).click();
  const stop = page.getByRole("dialog", { name: "Stop this journey?" });
  await expect(stop).toContainText("cannot be undone");
  await stop.getByRole("button", { name: "Stop journey" }).click();
  await expect(page.locator(".journey__header .status")).toHaveText("Stopped");
});

test("the builder is usable at 1280×800", async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page);
  await page.getByRole("link", { name: "Thank-you after purchase" }).click();
  await expect(page.locator(".react-flow__node").first()).toBeVisible();
  for (const name of ["Undo", "Auto-layout", "Publish…"])
    await expect(page.getByRole("button", { name })).toBeInViewport();
  await expect(page.getByRole("navigation", { name: "Steps" })).toBeInViewport();
  await expect(page.getByRole("tab", { name: "Operate" })).toBeInViewport();
  // Keyboard: the palette adds a step with Enter, and the new step is selected with its form open.
  await page.getByRole("button", { name: "Wait", exact: true }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 2, name: "Wait" })).toBeVisible();
  const added = node(page, "wait-2");
  await expect(added).toBeInViewport();
  await page.screenshot({ path: testInfo.outputPath("builder-1280x800.png") });
  // …and Ctrl+Z takes it away again.
  await page.keyboard.press("Control+z");
  await expect(added).toHaveCount(0);
  await expect(page.getByText("All changes saved")).toBeVisible();
});

test("a second tab's save is refused, not silently overwritten", async ({ page, context }) => {
  await signIn(page);
  const res = await page.request.post("/trpc/journeys.create", {
    data: { name: `Two tabs ${Date.now()}` },
    headers: { "x-postpath-client": "e2e" }, // mutations need it (issue 12)
  });
  const { id } = ((await res.json()) as { result: { data: { id: string } } }).result.data;

  await page.goto(`/#/journeys/${id}`);
  const other = await context.newPage();
  await other.goto(`/#/journeys/${id}`);
  await expect(node(other, "trigger")).toBeVisible();
  await expect(node(page, "trigger")).toBeVisible();

  await select(page, "trigger");
  await pickName(page, picker(page, "event"), "purchase");
  await expect(page.getByText("All changes saved")).toBeVisible();

  await select(other, "trigger");
  await pickName(other, picker(other, "event"), "signup");
  await expect(
    other.getByRole("alert").filter({ hasText: "changed in another tab" }),
  ).toBeVisible();
  await other.getByRole("button", { name: "Load the latest version" }).click();
  await expect(node(other, "trigger")).toContainText("purchase");
});
