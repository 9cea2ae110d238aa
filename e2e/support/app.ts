// Helpers shared by the specs that drive the journey editor: signing in, creating a journey
// through the API (setup that is not the point of a test) and finding canvas nodes.
import { expect } from "@playwright/test";
import type { Locator, Page } from "@playwright/test";

export const MARKETER = { email: "marketer@postpath.local", password: "postpath-demo" };

export async function signIn(page: Page, who = MARKETER): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Journeys" })).toBeVisible();
}

/** Creates a journey with this draft (none: a new journey's) through tRPC, with the session
 * cookie signIn set. */
export async function createJourney(page: Page, name: string, draft?: unknown): Promise<string> {
  const res = await page.request.post("/trpc/journeys.create", {
    data: draft === undefined ? { name } : { name, draft },
    headers: { "x-postpath-client": "e2e" }, // mutations need it (issue 12)
  });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: { id: string } } }).result.data.id;
}

/** The saved draft, as journeys.get returns it. */
export type SavedDraft = { nodes: { id: string; type: string; data: Record<string, unknown> }[] };

export async function savedDraft(page: Page, id: string): Promise<SavedDraft> {
  const input = encodeURIComponent(JSON.stringify({ id }));
  const res = await page.request.get(`/trpc/journeys.get?input=${input}`);
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: { data: { draft: SavedDraft } } }).result.data.draft;
}

export const node = (page: Page, id: string): Locator =>
  page.locator(`.react-flow__node[data-id="${id}"]`);

/** Issue 16: the step panel's name picker for a config path (an event, property or attribute). */
export const picker = (page: Page, path: string): Locator =>
  page.locator(`#tabpanel-step [data-field="${path}"] [role="combobox"]`);

/** Chooses `name` in a name picker from the keyboard: open, type, Enter (a new name is kept too). */
export async function pickName(page: Page, field: Locator, name: string): Promise<void> {
  await field.click();
  await page.getByRole("combobox", { name: /^Choose an? / }).fill(name);
  await page.keyboard.press("Enter");
  await expect(field).toHaveText(name);
}

/** The middle of an element on screen. */
export async function center(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error("element has no box");
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags from a step's branch handle to another step's input handle. */
export async function connect(page: Page, from: string, branch: string, to: string): Promise<void> {
  const a = await center(
    node(page, from).locator(`.react-flow__handle.source[data-handleid="${branch}"]`),
  );
  const b = await center(node(page, to).locator(".react-flow__handle.target"));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
  await expect(page.locator(`.react-flow__edge[data-id="e-${from}-${branch}"]`)).toHaveCount(1);
}
