// Issue 18 item 4, in a real browser at a laptop's 1280 × 800: the canvas's layout, focus ring,
// handle size, undo after Delete and axe's findings on the steps.
import AxeBuilder from "@axe-core/playwright";
import { templates } from "@postpath/journey";
import { expect, test } from "@playwright/test";
import type { Locator, Page } from "@playwright/test";
import { createJourney, node, signIn } from "../support/app.ts";

test.use({ viewport: { width: 1280, height: 800 } });

type Box = { x: number; y: number; width: number; height: number };

const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function box(locator: Locator): Promise<Box> {
  const b = await locator.boundingBox();
  if (!b) throw new Error("element has no box");
  return b;
}

/** The gallery's biggest journey: fitted, its steps are drawn well below zoom 1. */
const biggest = [...templates].sort((a, b) => b.draft.nodes.length - a.draft.nodes.length)[0]!;

async function openJourney(page: Page, name: string): Promise<string> {
  await signIn(page);
  const id = await createJourney(page, name, biggest.draft);
  await page.goto(`/#/journeys/${id}`);
  await expect(page.locator(".react-flow__node")).toHaveCount(biggest.draft.nodes.length);
  return id;
}

/** Waits until the canvas viewport stops moving (fit view animates), instead of a fixed sleep. */
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

/** The canvas zoom (React Flow's viewport scale). */
async function zoom(page: Page): Promise<number> {
  const style = (await page.locator(".react-flow__viewport").getAttribute("style")) ?? "";
  return Number(/scale\(([\d.]+)\)/.exec(style)?.[1] ?? NaN);
}

test("at 1280×800 the panel's tabs stay on one line and nothing covers the steps", async ({
  page,
}) => {
  await openJourney(page, "Laptop layout");
  const tabs = page.getByRole("tablist", { name: "Panels" }).getByRole("tab");
  const tops = await Promise.all((await tabs.all()).map(async (t) => (await box(t)).y));
  expect(new Set(tops).size).toBe(1);

  // Auto-layout, then fit: no step covers another, and neither the minimap nor the controls
  // cover a step.
  const before = await page.locator(".react-flow__viewport").getAttribute("style");
  await page.getByRole("button", { name: "Auto-layout" }).click();
  await expect(page.getByText("Unsaved changes…").or(page.getByText("Saving…"))).toBeVisible();
  await page.getByRole("button", { name: "Fit View" }).click();
  await viewportSettled(page);
  expect(await page.locator(".react-flow__viewport").getAttribute("style")).not.toBe(before);
  const steps = await Promise.all(
    (await page.locator(".react-flow__node").all()).map((n) => box(n)),
  );
  for (let i = 0; i < steps.length; i++)
    for (let j = i + 1; j < steps.length; j++)
      expect(intersects(steps[i]!, steps[j]!), `steps ${i} and ${j}`).toBe(false);
  const overlays = page.locator(".react-flow__minimap, .react-flow__controls");
  for (const overlay of await overlays.all()) {
    if (!(await overlay.isVisible())) continue;
    const o = await box(overlay);
    for (const s of steps) expect(intersects(o, s)).toBe(false);
  }
});

test("a keyboard-focused step has a visible ring, and source handles take a 12 px hit at the fitted zoom", async ({
  page,
}) => {
  await openJourney(page, "Focus and handles");
  await page.getByRole("button", { name: "Fit View" }).click();
  await viewportSettled(page);
  const fitted = await zoom(page);
  // Fitted, yet close enough to draw handles (FAR_ZOOM = 0.35 in nodes.tsx).
  expect(fitted).toBeLessThan(0.6);
  expect(fitted).toBeGreaterThanOrEqual(0.35);

  // Keyboard focus (Tab sets the keyboard modality; then focus the first step).
  await page.keyboard.press("Tab");
  const first = page.locator(".react-flow__node").first();
  await first.focus();
  const ring = await first
    .locator(".step")
    .evaluate((el) => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]);
  expect(ring).toEqual(["solid", "3px"]);

  // Each source handle answers a pointer within 6 px of its centre (a 12 px target on screen).
  const handles = await page.locator(".react-flow__handle.source").all();
  expect(handles.length).toBeGreaterThan(3);
  for (const handle of handles.slice(0, 8)) {
    const b = await box(handle);
    const cx = b.x + b.width / 2;
    const cy = b.y + b.height / 2;
    for (const [dx, dy] of [
      [-6, -6],
      [6, -6],
      [-6, 6],
      [6, 6],
    ] as const) {
      const hit = await page.evaluate(
        ([x, y]) => document.elementFromPoint(x, y)?.closest(".react-flow__handle")?.outerHTML,
        [cx + dx, cy + dy] as const,
      );
      expect(hit, `handle at ${cx},${cy} + ${dx},${dy} (zoom ${fitted})`).toBe(
        await handle.evaluate((el) => el.outerHTML),
      );
    }
  }
});

test("Delete then Ctrl+Z brings a step back with its connections", async ({ page }) => {
  await openJourney(page, "Undo delete");
  const edges = page.locator(".react-flow__edge");
  const edgeCount = await edges.count();
  const second = biggest.draft.nodes[1]!.id;
  const step = node(page, second);
  await step.click();
  await page.keyboard.press("Delete");
  await expect(step).toHaveCount(0);
  await expect(edges).not.toHaveCount(edgeCount);
  // The focus stayed in the editor, so the shortcut reaches it.
  await page.keyboard.press("Control+z");
  await expect(step).toHaveCount(1);
  await expect(edges).toHaveCount(edgeCount);
});

test("axe finds no prohibited ARIA and no contrast failure on the steps", async ({ page }) => {
  await openJourney(page, "Axe");
  await page.getByRole("button", { name: "Fit View" }).click();
  // Zoom 1 on the first steps: text at its real size, as axe's contrast check needs.
  await page.getByRole("button", { name: "Zoom In" }).click();
  await page.getByRole("button", { name: "Zoom In" }).click();
  await viewportSettled(page);
  const results = await new AxeBuilder({ page })
    .include(".react-flow__nodes")
    .withRules(["aria-prohibited-attr", "color-contrast"])
    .analyze();
  expect(
    results.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) })),
  ).toEqual([]);
});
