// Versions end to end, against the real app: a marketer publishes a journey (v1), changes the
// email's subject and publishes again (v2), opens v1 from the Operate panel, sees its steps read
// only and what differs from the draft, restores it as the draft after confirming, sees the
// editor showing v1's subject (saved: it survives a reload), and publishes it as v3.
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";
import { draftFromSteps } from "@postpath/journey";
import { createJourney, node, savedDraft, signIn } from "../support/app.ts";

const V1_SUBJECT = "Thanks for your order, {{ first_name }}";
const V2_SUBJECT = "Your order is on its way, {{ first_name }}";

/** Its own trigger event, so the other specs' purchases never enter this live journey. */
const draft = draftFromSteps([
  { id: "trigger", type: "trigger.event", data: { event: "e2e_versions_order" }, next: "wait" },
  { id: "wait", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "email" },
  {
    id: "email",
    type: "action.email",
    data: { subject: V1_SUBJECT, body: "<p>Thank you.</p>" },
    next: "done",
  },
  { id: "done", type: "flow.exit" },
]);

/** Publishes the saved draft through the header's Publish dialog; `changes` must be listed. */
async function publish(page: Page, version: number, changes: string | RegExp): Promise<void> {
  await page.getByRole("button", { name: "Publish…" }).click();
  const dialog = page.getByRole("dialog", { name: "Publish journey" });
  await expect(dialog).toContainText(changes);
  await dialog.getByRole("button", { name: "Publish now" }).click();
  await expect(dialog.getByRole("status")).toContainText(`Published version ${version}`);
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByText(`Live v${version}`)).toBeVisible();
}

const subjectField = (page: Page) =>
  page.getByRole("tabpanel").getByLabel("Subject", { exact: true });

test("a marketer views an older version read-only, restores it as the draft and publishes it as a new version", async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  await signIn(page);
  const id = await createJourney(page, `Versions e2e ${Date.now()}`, draft);
  await page.goto(`/#/journeys/${id}`);
  await expect(node(page, "email")).toContainText(`Email: ${V1_SUBJECT}`);

  // v1 as created.
  await publish(page, 1, "This is the first version");

  // A visible change in the draft: the email's subject, typed in the step panel.
  await node(page, "email").click();
  await expect(page.getByRole("heading", { level: 2, name: "Send email" })).toBeVisible();
  await subjectField(page).fill(V2_SUBJECT);
  await expect(node(page, "email")).toContainText(`Email: ${V2_SUBJECT}`);
  await expect(page.getByText("All changes saved")).toBeVisible();
  await publish(page, 2, "Changed Send email “email”: subject");

  // The versions table: v2 live, v1 superseded.
  await page.getByRole("tab", { name: "Operate" }).click();
  const versions = page.getByRole("tabpanel").getByRole("table");
  await expect(versions.getByRole("row", { name: /^v2 Live/ })).toBeVisible();
  const v1Row = versions.getByRole("row", { name: /^v1 Superseded/ });
  await expect(v1Row).toBeVisible();
  await v1Row.getByRole("button", { name: "View version 1" }).click();

  // Version 1, read only: its steps with v1's subject, and what restoring it would change.
  const dialog = page.getByRole("dialog", { name: "Version 1" });
  const steps = dialog.getByRole("list", { name: "Steps of version 1" });
  await expect(steps).toBeVisible();
  await expect(dialog).toContainText("Superseded · published");
  await expect(steps.getByRole("listitem")).toHaveCount(draft.nodes.length);
  // Each item names its step id in a <code> of its own.
  const step = (stepId: string) =>
    steps.getByRole("listitem").filter({ has: page.getByText(stepId, { exact: true }) });
  await expect(step("email")).toContainText(`Email: ${V1_SUBJECT}`);
  await expect(step("email")).toContainText("then → done");
  await expect(step("wait")).toContainText("Wait 2 days");
  await expect(dialog).not.toContainText(V2_SUBJECT);
  await expect(dialog).toContainText(
    "Restoring this version would make these changes to the draft",
  );
  await expect(dialog.getByRole("list", { name: "Changes" }).getByRole("listitem")).toHaveText([
    "Changed Send email “email”: subject",
  ]);
  // Read only: nothing in the dialog edits a step.
  await expect(dialog.getByRole("textbox")).toHaveCount(0);
  await expect(dialog.getByRole("combobox")).toHaveCount(0);
  await dialog.screenshot({ path: testInfo.outputPath("version-dialog.png") });

  // Restore, confirmed.
  await dialog.getByRole("button", { name: "Restore this version as the draft…" }).click();
  const confirm = dialog.getByRole("group", { name: "Confirm restore" });
  await expect(confirm).toContainText("Replace the draft with version 1?");
  await confirm.getByRole("button", { name: "Restore version 1" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(
    page.getByRole("status").filter({ hasText: "Version 1 is now the draft." }),
  ).toBeVisible();

  // The editor shows v1's content, and the draft is saved with it (the live version is still v2).
  await expect(node(page, "email")).toContainText(`Email: ${V1_SUBJECT}`);
  await expect(page.getByText("Live v2")).toBeVisible();
  await node(page, "email").click();
  await expect(subjectField(page)).toHaveValue(V1_SUBJECT);
  // The restore saved the draft on the server (journeys.get), and the re-mounted editor says so
  // (it once read "Unsaved changes…" forever: useAutosave never left "dirty" when the shared
  // store was reloaded); it is still there after a reload.
  await expect(page.getByText("All changes saved")).toBeVisible();
  const saved = await savedDraft(page, id);
  expect(saved.nodes.find((n) => n.id === "email")?.data.subject).toBe(V1_SUBJECT);
  await page.reload();
  await expect(node(page, "email")).toContainText(`Email: ${V1_SUBJECT}`);
  await expect(page.getByText("All changes saved")).toBeVisible();
  await expect(page.getByText("Live v2")).toBeVisible();

  // Publishing the restored draft makes a new version, v3, with v1's subject.
  await publish(page, 3, "Changes since live version 2");
  await page.getByRole("tab", { name: "Operate" }).click();
  await expect(versions.getByRole("row", { name: /^v3 Live/ })).toBeVisible();
  await expect(versions.getByRole("row", { name: /^v2 Superseded/ })).toBeVisible();
  await expect(versions.getByRole("row", { name: /^v1 Superseded/ })).toBeVisible();
  await versions.getByRole("button", { name: "View version 3" }).click();
  const v3 = page.getByRole("dialog", { name: "Version 3" });
  await expect(v3.getByRole("list", { name: "Steps of version 3" })).toContainText(
    `Email: ${V1_SUBJECT}`,
  );
  await expect(v3).toContainText(
    "The current draft has the same steps and settings as this version.",
  );
  await expect(
    v3.getByRole("button", { name: "Restore this version as the draft…" }),
  ).toBeDisabled();
  await v3.getByRole("button", { name: "Close" }).click();
  await expect(v3).toHaveCount(0);
});
