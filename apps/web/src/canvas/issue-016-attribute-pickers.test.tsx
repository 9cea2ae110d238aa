// Issue 16 (pickers, not free text): the "Update attribute" step's attribute names are pickers of
// the attributes the workspace has seen — one row per attribute with its new value, the kind of
// value and examples shown, a new name kept with a "never seen yet" warning — as are the names it
// clears; a coupon rule's condition can read "is in segment" / "lifecycle stage" with the same
// segment and stage pickers as a split.
import { CUSTOMER_FIELDS, JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { JourneyDetail, WorkspaceCatalog } from "../api/contract.ts";
import type { SegmentRow } from "../segments-area/contract.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { useEditorStore } from "./store.ts";
import { openStep } from "../test/editor.ts";

const catalog: WorkspaceCatalog = {
  attributes: ["tier", "points", "zip"],
  attributeDetails: {
    tier: { types: ["string"], examples: ["gold", "silver"] },
    points: { types: ["number"], examples: ["120", "40"] },
    zip: { types: ["string"], examples: ["01234"] },
  },
  customerFields: [...CUSTOMER_FIELDS],
  segments: ["s-vip", "s-risk"],
};

const segments: SegmentRow[] = [
  {
    id: "s-vip",
    name: "Big spenders",
    description: "",
    kind: "custom",
    stage: null,
    members: 42,
    rules: [],
    match: "all",
    updatedAt: "2026-12-01T10:00:00.000Z",
  },
  {
    id: "s-risk",
    name: "Lifecycle: At risk",
    description: "",
    kind: "lifecycle",
    stage: "at_risk",
    members: 7,
    rules: [],
    match: "all",
    updatedAt: "2026-12-01T10:00:00.000Z",
  },
];

function journey(): JourneyDetail {
  const draft = JourneyDraft.parse({
    schemaVersion: 1,
    settings: {},
    nodes: [
      {
        id: "trigger",
        type: "trigger.event",
        position: { x: 0, y: 0 },
        data: { event: "purchase" },
      },
      {
        id: "attr",
        type: "action.attribute",
        position: { x: 0, y: 150 },
        data: { set: { tier: "gold" }, unset: [] },
      },
      {
        id: "coupon",
        type: "action.coupon",
        position: { x: 0, y: 300 },
        data: {
          source: { kind: "pattern", pattern: "SAVE-####" },
          value: { kind: "percent", amount: 10 },
          rules: [
            {
              when: [{ property: "tier", op: "eq", value: "gold" }],
              match: "all",
              value: { kind: "percent", amount: 20 },
            },
          ],
        },
      },
      { id: "exit", type: "flow.exit", position: { x: 0, y: 450 }, data: {} },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "attr" },
      { id: "e2", source: "attr", target: "coupon" },
      { id: "e3", source: "coupon", target: "exit" },
    ],
  });
  return {
    id: "j16a",
    name: "Attributes",
    status: "DRAFT",
    draft,
    draftRevision: 1,
    liveVersion: null,
    updatedAt: "2026-12-01T10:00:00.000Z",
  };
}

const configOf = (id: string) =>
  useEditorStore.getState().nodes.find((n) => n.id === id)?.data.config as Record<string, unknown>;

const optionTexts = () =>
  within(screen.getByRole("listbox"))
    .getAllByRole("option")
    .map((o) => o.textContent);

/** Opens a name picker and chooses `name` by typing it and pressing Enter. */
async function pick(field: HTMLElement, name: string, search: RegExp) {
  fireEvent.click(field);
  const input = await screen.findByRole("combobox", { name: search });
  fireEvent.change(input, { target: { value: name } });
  fireEvent.keyDown(input, { key: "Enter" });
  await waitFor(() => expect(field.textContent).toBe(name));
}

describe("issue 16: the attribute step's names and coupon rules use pickers", () => {
  it("sets attributes picked from those seen, typed as seen, and warns about a new one", async () => {
    window.location.hash = "#/journeys/j16a";
    renderApp({ me: marketer, journey: journey(), catalog, segments });
    await openStep("attr");
    const panel = within(await screen.findByRole("region", { name: "Update attribute" }));
    const set = within(panel.getByRole("group", { name: "Attributes to set" }));
    // No free-text "name = value" box any more.
    expect(panel.queryByPlaceholderText("name = value (one per line)")).toBeNull();
    const first = set.getByRole("combobox", { name: "Attribute 1" });
    expect(first.textContent).toBe("tier");
    expect(set.getByRole<HTMLInputElement>("textbox", { name: "New value" }).value).toBe("gold");
    expect(set.getByText("Text, seen: gold, silver")).toBeTruthy();

    // A second attribute, from a list of what was seen, with the kind of value and examples;
    // a number stays a number, text stays text.
    fireEvent.click(set.getByRole("button", { name: "Add an attribute" }));
    const second = set.getByRole("combobox", { name: "Attribute 2" });
    fireEvent.click(second);
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual([
      "tiertexte.g. gold, silver",
      "pointsnumbere.g. 120, 40",
      "ziptexte.g. 01234",
    ]);
    const search = screen.getByRole("combobox", { name: "Choose an attribute" });
    fireEvent.change(search, { target: { value: "points" } });
    fireEvent.keyDown(search, { key: "Enter" });
    await waitFor(() => expect(second.textContent).toBe("points"));
    const values = set.getAllByRole<HTMLInputElement>("textbox", { name: "New value" });
    expect(values[1]?.placeholder).toBe("e.g. 120");
    fireEvent.change(values[1]!, { target: { value: "500" } });
    expect(configOf("attr").set).toEqual({ tier: "gold", points: 500 });

    fireEvent.click(set.getByRole("button", { name: "Add an attribute" }));
    await pick(set.getByRole("combobox", { name: "Attribute 3" }), "zip", /^Choose an attribute/);
    fireEvent.change(set.getAllByRole("textbox", { name: "New value" })[2]!, {
      target: { value: "01234" },
    });
    expect(configOf("attr").set).toEqual({ tier: "gold", points: 500, zip: "01234" });

    // A name nobody has sent yet is kept, with the warning.
    await pick(first, "loyalty_level", /^Choose an attribute/);
    expect(
      await screen.findByText(/Never seen yet: no attribute called “loyalty_level”/),
    ).toBeTruthy();
    expect(configOf("attr").set).toEqual({ loyalty_level: "gold", points: 500, zip: "01234" });

    // Removing a row removes the attribute.
    fireEvent.click(set.getByRole("button", { name: "Remove attribute 2" }));
    expect(configOf("attr").set).toEqual({ loyalty_level: "gold", zip: "01234" });
  });

  it("clears attributes picked by name", async () => {
    window.location.hash = "#/journeys/j16a";
    renderApp({ me: marketer, journey: journey(), catalog, segments });
    await openStep("attr");
    const clear = within(screen.getByRole("group", { name: "Attributes to clear" }));
    fireEvent.click(clear.getByRole("button", { name: "Add an attribute to clear" }));
    await pick(
      clear.getByRole("combobox", { name: "Attribute to clear 1" }),
      "points",
      /^Choose an attribute/,
    );
    expect(configOf("attr").unset).toEqual(["points"]);
    fireEvent.click(clear.getByRole("button", { name: "Remove attribute to clear 1" }));
    expect(configOf("attr").unset).toEqual([]);
  });

  it("a coupon rule can depend on a saved segment, picked by name", async () => {
    window.location.hash = "#/journeys/j16a";
    renderApp({ me: marketer, journey: journey(), catalog, segments });
    await openStep("coupon");
    const panel = within(await screen.findByRole("region", { name: "Issue coupon" }));
    const property = panel.getByRole("combobox", { name: "Property" });
    fireEvent.click(property);
    await screen.findByRole("listbox");
    expect(optionTexts().slice(0, 2)).toEqual([
      "Segments they are inthe saved segments they are in (is in / is not in)",
      "Lifecycle stageNew, Repeat, Active, At risk or Lapsed",
    ]);
    const input = screen.getByRole("combobox", { name: /^Choose a value/ });
    fireEvent.change(input, { target: { value: "customer.segments" } });
    fireEvent.keyDown(input, { key: "Enter" });
    // The comparison fits ("is in"), the old value goes, and the segment is chosen by name.
    await waitFor(() =>
      expect((configOf("coupon").rules as { when: unknown[] }[])[0]?.when[0]).toEqual({
        property: "customer.segments",
        op: "contains",
      }),
    );
    const op = panel.getByRole<HTMLSelectElement>("combobox", { name: "Comparison" });
    expect([...op.options].map((o) => o.textContent)).toEqual(["is in", "is not in"]);
    const segment = panel.getByRole<HTMLSelectElement>("combobox", { name: "Segment" });
    expect([...segment.options].map((o) => o.textContent)).toEqual([
      "Choose a segment…",
      "Big spenders · 42 customers",
      "Lifecycle stage: At risk · 7 customers",
    ]);
    fireEvent.change(segment, { target: { value: "s-vip" } });
    expect((configOf("coupon").rules as { when: unknown[] }[])[0]?.when[0]).toEqual({
      property: "customer.segments",
      op: "contains",
      value: "s-vip",
    });
    expect(useEditorStore.getState().issues.filter((i) => i.nodeId === "coupon")).toEqual([]);
  });
});
