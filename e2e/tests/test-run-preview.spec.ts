// The step panel's message preview renders for the test-run customer: a marketer describes a
// test customer (first_name "Grace") in the Test run panel, opens an email step whose subject and
// body use the customer's first name, and sees the preview say "Grace" and that it uses the
// test-run customer — where it showed the sample customer, Ada, before.
import { expect, test } from "@playwright/test";
import { draftFromSteps } from "@postpath/journey";
import { createJourney, node, signIn } from "../support/app.ts";

const draft = draftFromSteps([
  { id: "trigger", type: "trigger.event", data: { event: "e2e_preview_signup" }, next: "welcome" },
  {
    id: "welcome",
    type: "action.email",
    data: {
      subject: "Welcome, {{ first_name }}!",
      // {{ customer.<attribute> }} reads the attribute, as in Customer.io.
      body: "<p>Dear {{ customer.first_name }}, glad you are here.</p>",
    },
    next: "done",
  },
  { id: "done", type: "flow.exit" },
]);

test("the email preview renders for the test-run customer described in the Test run panel", async ({
  page,
}, testInfo) => {
  await signIn(page);
  const id = await createJourney(page, `Preview e2e ${Date.now()}`, draft);
  await page.goto(`/#/journeys/${id}`);

  // Before any test customer is described: the sample customer, Ada.
  await node(page, "welcome").click();
  const preview = page.getByRole("tabpanel").getByRole("region", { name: "Message preview" });
  await expect(
    preview.getByRole("heading", { name: "Preview (sample customer Ada)" }),
  ).toBeVisible();
  await expect(preview.getByText("Welcome, Ada!", { exact: true })).toBeVisible();

  // The Test run panel: a test customer called Grace.
  await page.getByRole("tab", { name: "Test run" }).click();
  const customer = page.getByLabel("Test customer (JSON)");
  await expect(customer).toHaveValue(/"first_name": "Ada"/);
  await customer.fill(
    JSON.stringify(
      { externalId: "grace-1", email: "grace@example.com", attributes: { first_name: "Grace" } },
      null,
      2,
    ),
  );

  // Back to the step: the preview uses Grace, and says so.
  await page.getByRole("tab", { name: "Step" }).click();
  await expect(page.getByRole("heading", { level: 2, name: "Send email" })).toBeVisible();
  await expect(
    preview.getByRole("heading", { name: "Preview (test-run customer Grace)" }),
  ).toBeVisible();
  await expect(preview.getByText("Welcome, Grace!", { exact: true })).toBeVisible();
  await expect(preview).not.toContainText("Ada");
  // The HTML body is rendered in a sandboxed frame.
  await expect(
    preview
      .frameLocator('iframe[title="Preview of the body"]')
      .getByText("Dear Grace, glad you are here."),
  ).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("test-run-preview.png") });

  // The draft itself is untouched: the subject still holds the variable, not the name.
  await expect(page.getByRole("tabpanel").getByLabel("Subject", { exact: true })).toHaveValue(
    "Welcome, {{ first_name }}!",
  );
  await expect(node(page, "welcome")).toContainText("Email: Welcome, {{ first_name }}!");
});
