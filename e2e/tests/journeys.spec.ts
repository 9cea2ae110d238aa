import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";
import { seededJourney } from "../support/db.ts";

const DEMO_JOURNEY = "Thank-you after purchase";
const MARKETER = { email: "marketer@postpath.local", password: "postpath-demo" };

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a marketer signs in, finds the demo journey and sees it drawn on the canvas", async ({
  page,
}, testInfo) => {
  const seeded = await seededJourney(DEMO_JOURNEY);
  const trigger = seeded.nodes.find((n) => n.type === "trigger.event");
  const email = seeded.nodes.find((n) => n.type === "action.email");
  expect(trigger?.data.event).toBe("purchase");
  expect(typeof email?.data.subject).toBe("string");

  await signIn(page, MARKETER.email, MARKETER.password);

  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(DEMO_JOURNEY) });
  await expect(row).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("journey-list.png"), fullPage: true });

  await row.getByRole("link", { name: DEMO_JOURNEY }).click();
  await expect(page).toHaveURL(new RegExp(`#/journeys/${seeded.id}$`));
  await expect(page.getByRole("heading", { level: 1, name: DEMO_JOURNEY })).toBeVisible();

  // Every step of the seeded draft is a React Flow node, rendered and measured (visible).
  const nodes = page.locator(".react-flow__node");
  await expect(nodes).toHaveCount(seeded.nodes.length);
  for (const node of seeded.nodes)
    await expect(page.locator(`.react-flow__node[data-id="${node.id}"]`)).toBeVisible();

  await expect(page.locator(`.react-flow__node[data-id="${trigger!.id}"]`)).toContainText(
    "purchase",
  );
  await expect(page.locator(`.react-flow__node[data-id="${email!.id}"]`)).toContainText(
    String(email!.data.subject),
  );
  // Every edge is drawn as a path (a vertical edge has a zero-width box, so check its geometry).
  await expect(page.locator(".react-flow__edge")).toHaveCount(seeded.edges.length);
  for (const edge of seeded.edges) {
    await expect(
      page.locator(`.react-flow__edge[data-id="${edge.id}"] path.react-flow__edge-path`),
    ).toHaveAttribute("d", /^M.+/);
  }
  await expect(page.locator(".react-flow__minimap")).toBeVisible();
  await expect(page.locator(".react-flow__controls")).toBeVisible();

  await page.screenshot({ path: testInfo.outputPath("journey-canvas.png"), fullPage: true });
});

test("a wrong password shows the server's error and keeps the user on the sign-in page", async ({
  page,
}) => {
  await signIn(page, MARKETER.email, "not-the-password");
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect.");
  await expect(page.getByRole("heading", { name: "Sign in to Postpath" })).toBeVisible();
});

test("signing out ends the session, also after a reload", async ({ page }) => {
  await signIn(page, MARKETER.email, MARKETER.password);
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Postpath" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in to Postpath" })).toBeVisible();
});

test("when the session ends behind its back, the app returns to the sign-in page", async ({
  page,
  context,
}) => {
  const seeded = await seededJourney(DEMO_JOURNEY);
  await signIn(page, MARKETER.email, MARKETER.password);
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();

  // The app still believes it is signed in; its next request is refused as UNAUTHORIZED.
  await context.clearCookies();
  await page.evaluate((id) => (window.location.hash = `#/journeys/${id}`), seeded.id);
  await expect(page.getByRole("heading", { name: "Sign in to Postpath" })).toBeVisible();
});

test("a split draws one labelled handle per branch and every edge leaves from its branch", async ({
  page,
}, testInfo) => {
  await signIn(page, MARKETER.email, MARKETER.password);
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();

  // Created through the API with the session cookie the sign-in set.
  const draft = {
    schemaVersion: 1,
    settings: {},
    nodes: [
      {
        id: "trigger",
        type: "trigger.event",
        position: { x: 0, y: 0 },
        data: { event: "purchase", filters: [] },
      },
      {
        id: "big",
        type: "split.condition",
        position: { x: 0, y: 160 },
        data: { conditions: [{ property: "event.total", op: "gt", value: 100 }], match: "all" },
      },
      {
        id: "thanks",
        type: "action.email",
        position: { x: -200, y: 340 },
        data: { subject: "A big thank-you", body: "…" },
      },
      { id: "done", type: "flow.exit", position: { x: 200, y: 340 }, data: {} },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "big" },
      { id: "e2", source: "big", sourceHandle: "yes", target: "thanks" },
      { id: "e3", source: "big", sourceHandle: "no", target: "done" },
      { id: "e4", source: "thanks", target: "done" },
    ],
  };
  const res = await page.request.post("/trpc/journeys.create", {
    data: { name: "Big orders", draft },
    headers: { "x-postpath-client": "e2e" }, // mutations need it (issue 12)
  });
  expect(res.status(), await res.text()).toBe(200);
  const created = ((await res.json()) as { result: { data: { id: string } } }).result.data;

  await page.goto(`/#/journeys/${created.id}`);
  const split = page.locator('.react-flow__node[data-id="big"]');
  await expect(split).toContainText("If event.total is greater than 100");
  await expect(split.locator(".react-flow__handle.source")).toHaveCount(2);
  await expect(split.getByTitle("Condition split branch: Yes")).toHaveAttribute(
    "data-handleid",
    "yes",
  );
  await expect(split.getByTitle("Condition split branch: No")).toHaveAttribute(
    "data-handleid",
    "no",
  );
  // React Flow leaves out an edge whose source handle does not exist.
  await expect(page.locator(".react-flow__edge")).toHaveCount(draft.edges.length);
  await page.screenshot({ path: testInfo.outputPath("split-canvas.png"), fullPage: true });
});

test("the list finds a journey by part of its name (issue 15: the list is read a page at a time)", async ({
  page,
}) => {
  await signIn(page, MARKETER.email, MARKETER.password);
  // Signed in (the session cookie set) before the API calls below.
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();
  const tag = `Findme ${Date.now()}`;
  for (const name of [`${tag} welcome`, `${tag} 100% off_sale`]) {
    const res = await page.request.post("/trpc/journeys.create", {
      data: { name },
      headers: { "x-postpath-client": "e2e" }, // mutations need it (issue 12)
    });
    expect(res.status(), await res.text()).toBe(200);
  }
  await page.reload();
  const search = page.getByLabel("Find a journey");
  await search.fill(tag.toLowerCase());
  const rows = page.getByRole("table").getByRole("row");
  await expect(rows).toHaveCount(3); // the header and the two journeys
  await search.fill(`${tag} 100% off_`);
  await expect(rows).toHaveCount(2);
  await expect(page.getByRole("link", { name: `${tag} 100% off_sale` })).toBeVisible();
  await search.fill(`${tag} nothing like it`);
  await expect(page.getByText(`No journey name contains “${tag} nothing like it”.`)).toBeVisible();
});
