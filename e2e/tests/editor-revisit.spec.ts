// Issue 12, finding 10: edit a journey, go back to the list, open it again in the same tab and
// edit again. The editor used to start from the client's cached (older) revision, so the second
// edit was refused as "changed in another tab" and "Load the latest version" threw it away; the
// list also missed a journey just created until a reload.
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";
import { node, pickName, picker, savedDraft, signIn } from "../support/app.ts";

test.use({ actionTimeout: 15_000 });

/** The trigger's event as the server has it. */
async function savedTriggerEvent(page: Page, id: string): Promise<unknown> {
  const draft = await savedDraft(page, id);
  return draft.nodes.find((n) => n.id === "trigger")?.data.event;
}

/** Sets the trigger's event in the open editor and waits until the server has it. */
async function editTrigger(page: Page, id: string, event: string): Promise<void> {
  await node(page, "trigger").click();
  await pickName(page, picker(page, "event"), event);
  // Autosave is debounced: follow the server, then the indicator.
  await expect.poll(() => savedTriggerEvent(page, id), { timeout: 30_000 }).toBe(event);
  await expect(page.getByText("All changes saved")).toBeVisible();
}

/** From the editor back to the list, and into the journey again: all in the same tab. */
async function leaveAndReopen(page: Page, name: string): Promise<void> {
  await page.getByRole("link", { name: "← Journeys" }).click();
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();
  const link = page.getByRole("row", { name: new RegExp(name) }).getByRole("link", { name });
  await link.click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
}

test("edit, back to the list, open again and edit again: saved on top, no conflict", async ({
  page,
}) => {
  await signIn(page);
  const name = `Revisit ${Date.now()}`;
  const res = await page.request.post("/trpc/journeys.create", {
    data: { name },
    headers: { "x-postpath-client": "web" },
  });
  expect(res.status(), await res.text()).toBe(200);
  const { id } = ((await res.json()) as { result: { data: { id: string } } }).result.data;
  // A fresh page (the list the sign-in loaded predates the journey; that is the other test).
  await page.goto(`/#/journeys/${id}`);
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();

  await editTrigger(page, id, "purchase");
  await leaveAndReopen(page, name);

  // The editor shows the saved draft, not the one cached when the journey was first opened.
  await expect(node(page, "trigger")).toContainText("purchase");
  await node(page, "trigger").click();
  await expect(picker(page, "event")).toHaveText("purchase");

  await editTrigger(page, id, "signup");
  await expect(page.getByRole("button", { name: "Load the latest version" })).toHaveCount(0);
  await expect(page.getByRole("alert").filter({ hasText: "another tab" })).toHaveCount(0);

  // And once more, for a third revision on top of the second.
  await leaveAndReopen(page, name);
  await editTrigger(page, id, "refund");
  await expect(page.getByRole("button", { name: "Load the latest version" })).toHaveCount(0);
});

test("a journey created in the app is in the list when going back, without a reload", async ({
  page,
}) => {
  await signIn(page);
  const name = `Created ${Date.now()}`;
  await page.getByRole("button", { name: "New journey" }).click();
  const dialog = page.getByRole("dialog", { name: "New journey" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();

  await page.getByRole("link", { name: "← Journeys" }).click();
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();
  await expect(
    page.getByRole("row", { name: new RegExp(name) }).getByRole("link", { name }),
  ).toBeVisible();
});
