// Issue 16 item 3 (pickers, not free text) for the last two free-text fields of the step forms:
// the PURL step's page is picked among the workspace's landing pages by name (published ones
// first; a draft, or an address no page has, is kept with a warning saying what a link would
// open), and the coupon step's pool among its coupon pools by name with the codes left (an empty
// pool, or a name no pool has, is kept with a warning that the step would fail). The server is
// answered at its HTTP boundary (pages.list, journeys.couponPools) as in the other editor tests.
import { CUSTOMER_FIELDS, JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { JourneyDetail, WorkspaceCatalog } from "../api/contract.ts";
import type { PageListItem } from "../pages-area/contract.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import type { CouponPoolChoice } from "./pickers.ts";
import { useEditorStore } from "./store.ts";
import { openStep } from "../test/editor.ts";

const pages: PageListItem[] = [
  {
    id: "p-autumn",
    name: "Autumn preview",
    slug: "autumn",
    publishedVersion: null,
    updatedAt: "2026-12-02T10:00:00.000Z",
  },
  {
    id: "p-spring",
    name: "Spring sale",
    slug: "spring",
    publishedVersion: 2,
    updatedAt: "2026-12-01T10:00:00.000Z",
  },
];

const couponPools: CouponPoolChoice[] = [
  { id: "pool-empty", name: "Black Friday", codes: 40, unclaimed: 0 },
  { id: "pool-spring", name: "Spring codes", codes: 1200, unclaimed: 950 },
];

/** journeys.catalog's part for the warnings on the steps (the canvas validates with it). */
const catalog: WorkspaceCatalog = {
  customerFields: [...CUSTOMER_FIELDS],
  pages: {
    spring: { name: "Spring sale", published: true },
    autumn: { name: "Autumn preview", published: false },
  },
  couponPools: ["Black Friday", "pool-empty", "Spring codes", "pool-spring"],
};

/** purchase → personal URL (page as given) → coupon (source as given) → exit. */
function journey(page: string, pool: string): JourneyDetail {
  const draft = JourneyDraft.parse({
    schemaVersion: 1,
    settings: {},
    nodes: [
      { id: "trigger", type: "trigger.event", position: { x: 0, y: 0 }, data: { event: "buy" } },
      { id: "link", type: "action.purl", position: { x: 0, y: 150 }, data: { page } },
      {
        id: "coupon",
        type: "action.coupon",
        position: { x: 0, y: 300 },
        data: { source: { kind: "pool", pool }, value: { kind: "percent", amount: 10 } },
      },
      { id: "exit", type: "flow.exit", position: { x: 0, y: 450 }, data: {} },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "link" },
      { id: "e2", source: "link", target: "coupon" },
      { id: "e3", source: "coupon", target: "exit" },
    ],
  });
  return {
    id: "j16r",
    name: "Pages and pools",
    status: "DRAFT",
    draft,
    draftRevision: 1,
    liveVersion: null,
    updatedAt: "2026-12-01T10:00:00.000Z",
  };
}

const optionTexts = () =>
  within(screen.getByRole("listbox"))
    .getAllByRole("option")
    .map((o) => o.textContent);

const configOf = (id: string) =>
  useEditorStore.getState().nodes.find((n) => n.id === id)?.data.config;

/** Opens the picker, types `search` and presses Enter on the first option. */
async function choose(field: HTMLElement, noun: string, search: string) {
  fireEvent.click(field);
  const input = await screen.findByRole("combobox", { name: `Choose a ${noun}` });
  fireEvent.change(input, { target: { value: search } });
  fireEvent.keyDown(input, { key: "Enter" });
  await waitFor(() => expect(screen.queryByRole("listbox")).toBeNull());
}

describe("issue 16: the PURL step's page is a picker of the workspace's landing pages", () => {
  it("shows the chosen page by name, lists published pages first, and warns on a draft", async () => {
    window.location.hash = "#/journeys/j16r";
    renderApp({
      me: marketer,
      catalog,
      journey: journey("spring", "Spring codes"),
      pages,
      couponPools,
    });
    await openStep("link");
    const field = await screen.findByRole("combobox", { name: "Page" });
    await waitFor(() => expect(field.textContent).toBe("Spring sale"));
    expect(screen.queryByText(/not published yet:/)).toBeNull();
    fireEvent.keyDown(field, { key: "ArrowDown" });
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual([
      "Spring sale/spring · published (version 2)",
      "Autumn preview/autumn · draft, not published yet",
    ]);
    fireEvent.keyDown(field, { key: "Escape" });

    // Searched by the name a marketer knows; the step stores the page's address.
    await choose(field, "page", "Autumn");
    await waitFor(() => expect(configOf("link")).toMatchObject({ page: "autumn" }));
    expect(field.textContent).toBe("Autumn preview");
    const warning = screen.getByText(
      "“Autumn preview” is not published yet: until it is, a personal link to it opens “This link has expired”. Publish it in Pages.",
    );
    expect(field.getAttribute("aria-describedby")).toContain(warning.id);
    // The step itself is flagged (on the canvas, under Problems, when publishing).
    expect(screen.getByRole("list", { name: "Warnings for this step" }).textContent).toContain(
      "The page “Autumn preview” is not published yet",
    );
  });

  it("keeps an address no page has, with a warning", async () => {
    window.location.hash = "#/journeys/j16r";
    renderApp({
      me: marketer,
      catalog,
      journey: journey("spring", "Spring codes"),
      pages,
      couponPools,
    });
    await openStep("link");
    const field = await screen.findByRole("combobox", { name: "Page" });
    fireEvent.click(field);
    const input = await screen.findByRole("combobox", { name: "Choose a page" });
    fireEvent.change(input, { target: { value: "winter-sale" } });
    await waitFor(() =>
      expect(optionTexts()).toEqual(["Use “winter-sale” — no page at this address yet"]),
    );
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(configOf("link")).toMatchObject({ page: "winter-sale" }));
    expect(field.textContent).toBe("winter-sale");
    expect(
      await screen.findByText(/^No page at the address “winter-sale” in this workspace/),
    ).toBeTruthy();
  });

  it("says so when the workspace has no landing page yet", async () => {
    window.location.hash = "#/journeys/j16r";
    renderApp({
      me: marketer,
      catalog,
      journey: journey("", "Spring codes"),
      pages: [],
      couponPools,
    });
    await openStep("link");
    const field = await screen.findByRole("combobox", { name: "Page" });
    expect(field.textContent).toBe("Choose a page…");
    fireEvent.click(field);
    expect(await screen.findByText("No landing page yet: create one in Pages.")).toBeTruthy();
  });
});

describe("issue 16: the coupon step's pool is a picker of the workspace's coupon pools", () => {
  it("lists pools with the codes left, and warns on an empty pool and on an unknown name", async () => {
    window.location.hash = "#/journeys/j16r";
    renderApp({
      me: marketer,
      catalog,
      journey: journey("spring", "Spring codes"),
      pages,
      couponPools,
    });
    await openStep("coupon");
    const field = await screen.findByRole("combobox", { name: "Pool" });
    await waitFor(() => expect(field.textContent).toBe("Spring codes"));
    expect(screen.queryByText(/no codes left/)).toBeNull();
    fireEvent.keyDown(field, { key: "ArrowDown" });
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual([
      "Black Friday0 of 40 codes left",
      "Spring codes950 of 1,200 codes left",
    ]);
    fireEvent.keyDown(field, { key: "Escape" });

    await choose(field, "coupon pool", "Black");
    await waitFor(() =>
      expect(configOf("coupon")).toMatchObject({ source: { kind: "pool", pool: "Black Friday" } }),
    );
    expect(
      screen.getByText(
        "“Black Friday” has no codes left: the step fails (as “If it still fails” says) until codes are added to the pool.",
      ),
    ).toBeTruthy();

    await choose(field, "coupon pool", "Summer");
    await waitFor(() =>
      expect(configOf("coupon")).toMatchObject({ source: { kind: "pool", pool: "Summer" } }),
    );
    const warning = await screen.findByText(
      /^No coupon pool called “Summer” in this workspace: the step fails \(as/,
    );
    expect(field.getAttribute("aria-describedby")).toContain(warning.id);
    expect(screen.getByRole("list", { name: "Warnings for this step" }).textContent).toContain(
      "No coupon pool called “Summer”",
    );
  });

  it("shows a pool the step names by id under its name, without a warning", async () => {
    window.location.hash = "#/journeys/j16r";
    renderApp({
      me: marketer,
      catalog,
      journey: journey("spring", "pool-spring"),
      pages,
      couponPools,
    });
    await openStep("coupon");
    const field = await screen.findByRole("combobox", { name: "Pool" });
    await waitFor(() => expect(field.textContent).toBe("Spring codes"));
    expect(screen.queryByText(/No coupon pool called/)).toBeNull();
  });
});
