// Issue 14: a marketer creates a landing page in the Pages area, drags a Heading block from the
// block editor's (Puck's) list onto the page with real mouse moves, edits its text and publishes.
import { expect, test } from "@playwright/test";
import type { Locator, Page } from "@playwright/test";
import { signIn } from "../support/app.ts";

test.use({ actionTimeout: 15_000 });

type Block = { type: string; props: Record<string, unknown> };
type SavedPage = {
  revision: number;
  publishedVersion: number | null;
  draft: { content: Block[] };
};

async function savedPage(page: Page, id: string): Promise<SavedPage> {
  const input = encodeURIComponent(JSON.stringify({ id }));
  const res = await page.request.get(`/trpc/pages.get?input=${input}`);
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: SavedPage } }).result.data;
}

/** Moves the mouse from the middle of `from` to a point in steps, as a hand would. */
async function drag(page: Page, from: Locator, to: { x: number; y: number }): Promise<void> {
  const box = await from.boundingBox();
  if (!box) throw new Error("the block to drag is not on screen");
  const start = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  // A few small moves first: the drag starts only past the editor's distance threshold.
  for (let i = 1; i <= 5; i++) await page.mouse.move(start.x + i * 4, start.y + i * 2);
  await page.mouse.move(to.x, to.y, { steps: 25 });
  await page.mouse.move(to.x, to.y + 2, { steps: 3 });
  await page.mouse.up();
}

test("create a page, drag a Heading onto it, edit the text and publish", async ({
  page,
  baseURL,
}) => {
  // The editor loads nothing from other hosts (Puck's default stylesheet imports a web font) and
  // throws nothing.
  const elsewhere: string[] = [];
  const errors: string[] = [];
  const origin = new URL(baseURL ?? "http://127.0.0.1").origin;
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol.startsWith("http") && url.origin !== origin) elsewhere.push(r.url());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pages" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Pages" })).toBeVisible();

  const name = `Registration ${Date.now()}`;
  await page.getByRole("button", { name: "New page" }).click();
  const dialog = page.getByRole("dialog", { name: "New page" });
  await dialog.getByLabel("Name").fill(name);
  await expect(dialog.getByLabel("Page address")).toHaveValue(/^registration-\d+$/);
  await dialog.getByRole("button", { name: "Create" }).click();

  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  const id = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/pages\//, ""));
  const canvas = page.frameLocator("#preview-frame");
  // The new page's draft: one heading with its name, rendered by the same blocks as the server.
  const first = canvas.getByRole("heading", { level: 1, name });
  await expect(first).toBeVisible();
  const before = await savedPage(page, id);
  expect(before.draft.content.map((b) => b.type)).toEqual(["Heading"]);

  // Drag "Heading" from the block list to just below the existing heading.
  const target = await first.boundingBox();
  if (!target) throw new Error("the page's heading is not on screen");
  await drag(page, page.getByTestId("drawer-item:Heading"), {
    x: target.x + target.width / 2,
    y: target.y + target.height + 12,
  });
  // The preview shows the Liquid with a sample customer's values (Ada), the field the template.
  const added = canvas.getByRole("heading", { name: "Welcome, Ada" });
  await expect(added).toBeVisible();

  // The dropped block is selected: its fields are in the sidebar.
  const text = page.locator('input[name="text"]:visible');
  await expect(text).toHaveValue("Welcome, {{ customer.first_name }}");
  await text.fill("Register your {{ purl.model }}");
  await expect(canvas.getByRole("heading", { name: "Register your Barista Pro" })).toBeVisible();

  // Autosave (debounced) sends it with the revision the editor loaded.
  await expect
    .poll(async () => (await savedPage(page, id)).draft.content.map((b) => b.props["text"]), {
      timeout: 30_000,
    })
    .toEqual([name, "Register your {{ purl.model }}"]);
  await expect(page.locator(".save")).toHaveText("Saved");

  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByText("Published as version 1.")).toBeVisible();
  expect((await savedPage(page, id)).publishedVersion).toBe(1);

  await page.getByRole("link", { name: "← Pages" }).click();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row.getByText("Published v1")).toBeVisible();
  expect(elsewhere).toEqual([]);
  expect(errors).toEqual([]);
});

/** Creates a page through tRPC (setup that is not the point of the test). */
async function createPage(page: Page, name: string, draft?: unknown): Promise<string> {
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  const res = await page.request.post("/trpc/pages.create", {
    data: { name, slug, ...(draft ? { draft } : {}) },
    headers: { "x-postpath-client": "e2e" },
  });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: { id: string } } }).result.data.id;
}

test("a save from elsewhere in between: the editor says so and loads the latest version", async ({
  page,
}) => {
  await signIn(page);
  const name = `Conflict ${Date.now()}`;
  const id = await createPage(page, name);
  await page.goto(`/#/pages/${id}`);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  const canvas = page.frameLocator("#preview-frame");
  await expect(canvas.getByRole("heading", { name })).toBeVisible();

  // Another tab saves the page first.
  const theirs = await savedPage(page, id);
  const res = await page.request.post("/trpc/pages.save", {
    data: {
      id,
      revision: theirs.revision,
      draft: {
        ...theirs.draft,
        content: [{ type: "Heading", props: { id: "h-theirs", text: "Their heading" } }],
      },
    },
    headers: { "x-postpath-client": "e2e" },
  });
  expect(res.status(), await res.text()).toBe(200);

  // This tab edits the heading it shows: refused, nothing overwritten.
  await canvas.getByRole("heading", { name }).click();
  await page.locator('input[name="text"]:visible').fill("My heading");
  await expect(
    page.getByText(/Someone else changed this page — load the latest version/),
  ).toBeVisible({ timeout: 30_000 });
  expect((await savedPage(page, id)).draft.content.map((b) => b.props["text"])).toEqual([
    "Their heading",
  ]);
  await page.getByRole("button", { name: "Load the latest version" }).click();
  await expect(canvas.getByRole("heading", { name: "Their heading" })).toBeVisible();
  await expect(page.locator(".save")).toHaveText("Saved");
});

test("publishing a page with a problem names the block", async ({ page }) => {
  await signIn(page);
  const name = `Form check ${Date.now()}`;
  const id = await createPage(page, name, {
    root: { props: { title: name, accent: "#1f5f8b", schemaVersion: 1 } },
    content: [
      {
        type: "Form",
        props: { id: "form-1", formId: "registration", title: "Register", fields: [] },
      },
    ],
  });
  await page.goto(`/#/pages/${id}`);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Not published" })).toContainText(
    "Form “registration”",
  );
  expect((await savedPage(page, id)).publishedVersion).toBeNull();
});
