// Issue 18 end to end, against the real server, worker, Postgres, Redis and SMTP sink: a live
// journey has three customers waiting at "Reminder" (their purchases came through /v1); the
// marketer deletes that step on the canvas and connects the trigger to "Reminder email", opens
// Publish, sees "3 waiting at Reminder (deleted)", maps them to "Reminder email" and publishes
// moving them; the journey page shows the move done, each customer's trace says "Moved from
// version 1 to 2: Reminder (deleted) → Reminder email", and each gets that email once.
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { draftFromSteps } from "@postpath/journey";
import pg from "pg";
import { connect, createJourney, node, signIn } from "../support/app.ts";
import { mails, writeKeyAuth } from "../support/ingest.ts";

async function waitingRuns(journeyId: string): Promise<number> {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    const r = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "JourneyRun"
       WHERE "journeyId" = $1 AND status = 'WAITING' AND "currentStepId" = 'reminder'`,
      [journeyId],
    );
    return r.rows[0]?.n ?? 0;
  } finally {
    await db.end();
  }
}

test("customers waiting at a deleted step are moved to the step the marketer picks, and get its email once", async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const run = Date.now();
  const event = `e2e_live_edit_${run}`;
  const journeyName = `Live edit ${run}`;
  await signIn(page);
  const id = await createJourney(
    page,
    journeyName,
    draftFromSteps([
      { id: "trigger", type: "trigger.event", data: { label: "Bought", event }, next: "reminder" },
      {
        id: "reminder",
        type: "wait.duration",
        data: { label: "Reminder", amount: 2, unit: "days" },
        next: "nudge",
      },
      {
        id: "nudge",
        type: "action.email",
        data: {
          label: "Reminder email",
          subject: "Don't forget to register, {{ first_name }}",
          body: "<p>Register your machine, {{ first_name }}.</p>",
        },
        next: "done",
      },
      { id: "done", type: "flow.exit" },
    ]),
  );
  const published = await page.request.post("/trpc/journeys.publish", {
    data: { id },
    headers: { "x-postpath-client": "e2e" },
  });
  expect(published.status(), await published.text()).toBe(200);

  // Three customers buy: they wait two days at "Reminder".
  const names = ["Ada", "Bo", "Cy"];
  const users = names.map((n) => ({ userId: `live-${n.toLowerCase()}-${run}`, first: n }));
  for (const u of users) {
    const identify = await page.request.post("/v1/identify", {
      headers: writeKeyAuth(),
      data: { userId: u.userId, traits: { first_name: u.first, email: `${u.userId}@example.com` } },
    });
    expect(identify.status(), await identify.text()).toBe(200);
    const track = await page.request.post("/v1/track", {
      headers: writeKeyAuth(),
      data: { userId: u.userId, event, messageId: `${u.userId}-buy` },
    });
    expect(track.status(), await track.text()).toBe(200);
  }
  await expect.poll(() => waitingRuns(id), { timeout: 60_000 }).toBe(3);

  // The marketer deletes "Reminder" and connects the trigger to the email.
  await page.goto(`/#/journeys/${id}`);
  await expect(node(page, "reminder")).toBeVisible();
  await node(page, "reminder").click();
  await page.keyboard.press("Delete");
  await expect(node(page, "reminder")).toHaveCount(0);
  await connect(page, "trigger", "next", "nudge");
  await expect(page.getByText("All changes saved")).toBeVisible();

  // The preview: the three waiting at the deleted step; publishing waits for a choice.
  await page.getByRole("button", { name: "Publish…" }).click();
  const dialog = page.getByRole("dialog", { name: "Publish journey" });
  await expect(dialog).toContainText("3 customers are in progress");
  await expect(dialog).toContainText("3 waiting at Reminder stay on version 1");
  await dialog.getByLabel("Move them to the new version").check();
  const picker = dialog.getByRole("combobox", { name: "Where the customers at Reminder go" });
  await expect(picker).toBeVisible();
  await expect(dialog).toContainText("3 waiting at Reminder (deleted) →");
  await expect(dialog.getByRole("button", { name: "Publish now" })).toBeDisabled();
  // A sample of the customers waiting there (in the order they started; the three may have
  // started in the same instant, one batch of events, so the order among them is not fixed).
  await expect(dialog).toContainText("e.g. live-");
  for (const u of users) await expect(dialog).toContainText(`${u.userId}@example.com`);
  await picker.selectOption({ label: "Reminder email" });
  await expect(dialog.getByRole("button", { name: "Publish now" })).toBeEnabled();
  await dialog.screenshot({ path: testInfo.outputPath("publish-dialog-move.png") });
  // The full list, as CSV: every customer with where they go.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    dialog.getByRole("button", { name: "Download the full list" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8")
    .trim()
    .split("\r\n");
  expect(csv[0]).toBe("customer,email,version,step,status,goes to");
  expect(csv.slice(1).sort()).toEqual(
    users.map((u) => `${u.userId},${u.userId}@example.com,1,Reminder,waiting,Reminder email`),
  );
  await dialog.getByRole("button", { name: "Publish now" }).click();
  await expect(dialog.getByRole("status")).toContainText("Published version 2");
  await expect(dialog).toContainText("the customers inside are being moved");
  await dialog.getByRole("button", { name: "Close" }).click();

  // The journey page follows the move to its end.
  await expect(page.getByText("Moved 3 customers from version 1 to version 2.")).toBeVisible({
    timeout: 60_000,
  });
  await page.screenshot({ path: testInfo.outputPath("journey-page-moved.png") });

  // Each customer gets the email of the step they were moved to, once.
  const subjects = () =>
    mails()
      .filter((m) => users.some((u) => m.to.includes(`${u.userId}@example.com`)))
      .map((m) => m.subject)
      .sort();
  const expected = names.map((n) => `Don't forget to register, ${n}`).sort();
  await expect.poll(subjects, { timeout: 60_000 }).toEqual(expected);

  // The customer's trace names both versions and the mapping.
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Customers" })
    .click();
  await page.getByLabel("Search", { exact: true }).fill(users[0]!.userId);
  await page.getByLabel("Search by").selectOption("id");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("table").getByRole("link", { name: users[0]!.userId }).click();
  await page.getByRole("tab", { name: "Journeys" }).click();
  const trace = page.getByRole("list", { name: `What happened in ${journeyName}` });
  await expect(trace).toContainText(
    "Moved from version 1 to 2: Reminder (deleted) → Reminder email",
  );
  await page.screenshot({ path: testInfo.outputPath("customer-trace.png"), fullPage: true });

  // Still once each, after the worker has had time for anything extra.
  await page.waitForTimeout(2000);
  expect(subjects()).toEqual(expected);
});
