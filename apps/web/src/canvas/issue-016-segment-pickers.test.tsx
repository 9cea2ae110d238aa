// Issue 16 in the journey editor: the segment trigger chooses between a saved segment (or a
// lifecycle stage) — picked by name, with its size — and conditions on the customer, and starts
// when customers enter or leave it; a split's condition can be "is in segment" / "lifecycle stage
// is" with pickers by name; summaries read names; a deleted segment is a warning on the node.
import { CUSTOMER_FIELDS, JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { JourneyDetail, WorkspaceCatalog } from "../api/contract.ts";
import type { SegmentRow } from "../segments-area/contract.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { useEditorStore } from "./store.ts";
import { openStep } from "../test/editor.ts";

const row = (s: Partial<SegmentRow> & Pick<SegmentRow, "id" | "name">): SegmentRow => ({
  description: "",
  kind: "custom",
  stage: null,
  members: 0,
  rules: [],
  match: "all",
  updatedAt: "2026-12-01T10:00:00.000Z",
  ...s,
});
const segments: SegmentRow[] = [
  row({ id: "s-vip", name: "Repeat buyers at risk", members: 1204 }),
  row({
    id: "s-risk",
    name: "Lifecycle: At risk",
    kind: "lifecycle",
    stage: "at_risk",
    members: 3,
  }),
];
const catalog: WorkspaceCatalog = {
  attributes: ["tier"],
  customerFields: [...CUSTOMER_FIELDS],
  segments: segments.map((s) => s.id),
};

function journey(trigger: Record<string, unknown>, split: unknown[]): JourneyDetail {
  const draft = JourneyDraft.parse({
    schemaVersion: 1,
    settings: {},
    nodes: [
      { id: "trigger", type: "trigger.segment", position: { x: 0, y: 0 }, data: trigger },
      {
        id: "split",
        type: "split.condition",
        position: { x: 0, y: 150 },
        data: { conditions: split, match: "all" },
      },
      {
        id: "email",
        type: "action.email",
        position: { x: -150, y: 300 },
        data: { subject: "Hi", body: "Hello" },
      },
      { id: "exit", type: "flow.exit", position: { x: 150, y: 300 }, data: {} },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "split" },
      { id: "e2", source: "split", sourceHandle: "yes", target: "email" },
      { id: "e3", source: "split", sourceHandle: "no", target: "exit" },
      { id: "e4", source: "email", target: "exit" },
    ],
  });
  return {
    id: "j16s",
    name: "Segments",
    status: "DRAFT",
    draft,
    draftRevision: 1,
    liveVersion: null,
    updatedAt: "2026-12-01T10:00:00.000Z",
  };
}

const configOf = (id: string) =>
  useEditorStore.getState().nodes.find((n) => n.id === id)?.data.config as Record<string, unknown>;

const stage = { property: "customer.lifecycle_stage", op: "eq", value: "at_risk" };

describe("issue 16: segments in the journey editor", () => {
  it("the segment trigger picks a saved segment by name and size, and enter or leave", async () => {
    window.location.hash = "#/journeys/j16s";
    const { container } = renderApp({
      me: marketer,
      journey: journey({ conditions: [{ property: "tier", op: "eq", value: "gold" }] }, [stage]),
      catalog,
      segments,
    });
    await openStep("trigger");
    const panel = within(await screen.findByRole("region", { name: "Segment entry" }));
    // Conditions on the customer, as before: the conditions are drawn, no segment picker.
    expect(
      panel.getByRole<HTMLInputElement>("radio", { name: "Conditions on the customer" }).checked,
    ).toBe(true);
    expect(panel.queryByRole("combobox", { name: "Segment" })).toBeNull();
    expect(panel.getByRole("combobox", { name: "Property" })).toBeTruthy();

    fireEvent.click(panel.getByRole("radio", { name: "Saved segment" }));
    const picker = panel.getByRole<HTMLSelectElement>("combobox", { name: "Segment" });
    expect([...picker.options].map((o) => o.textContent)).toEqual([
      "Choose a segment…",
      "Repeat buyers at risk · 1,204 customers",
      "Lifecycle stage: At risk · 3 customers",
    ]);
    expect([...picker.querySelectorAll("optgroup")].map((g) => g.label)).toEqual([
      "Your segments",
      "Lifecycle stages",
    ]);
    // The conditions give way to the segment; nothing to choose yet is a problem under the picker.
    expect(panel.queryByRole("combobox", { name: "Property" })).toBeNull();
    expect(configOf("trigger")).toMatchObject({ segmentId: "", on: "enter", conditions: [] });
    await waitFor(() =>
      expect(panel.getByRole("alert").textContent).toMatch(/choose a saved segment/),
    );

    fireEvent.change(picker, { target: { value: "s-vip" } });
    fireEvent.click(panel.getByRole("radio", { name: "When they leave the segment" }));
    expect(configOf("trigger")).toMatchObject({ segmentId: "s-vip", on: "leave" });
    await waitFor(() =>
      expect(
        container.querySelector('.react-flow__node[data-id="trigger"]')?.textContent,
      ).toContain('Leaves segment "Repeat buyers at risk"'),
    );
    // Back to conditions: the segment is forgotten.
    fireEvent.click(panel.getByRole("radio", { name: "Conditions on the customer" }));
    expect(configOf("trigger")).not.toHaveProperty("segmentId");
    expect(configOf("trigger")).not.toHaveProperty("on");
  });

  it("a split branches on segment membership and lifecycle stage, with pickers by name", async () => {
    window.location.hash = "#/journeys/j16s";
    const { container } = renderApp({
      me: marketer,
      journey: journey({ segmentId: "s-risk", on: "enter" }, [
        { property: "customer.segments", op: "contains", value: "s-vip" },
        stage,
      ]),
      catalog,
      segments,
    });
    await waitFor(() =>
      expect(container.querySelector('.react-flow__node[data-id="split"]')?.textContent).toContain(
        'If is in segment "Repeat buyers at risk" and 1 more',
      ),
    );
    await openStep("split");
    const panel = within(await screen.findByRole("region", { name: "Condition split" }));
    const [op0, op1] = panel.getAllByRole<HTMLSelectElement>("combobox", { name: "Comparison" });
    expect([...op0!.options].map((o) => o.textContent)).toEqual(["is in", "is not in"]);
    const segment = panel.getByRole<HTMLSelectElement>("combobox", { name: "Segment" });
    expect(segment.selectedOptions[0]?.textContent).toBe("Repeat buyers at risk · 1,204 customers");
    fireEvent.change(op0!, { target: { value: "notContains" } });
    expect((configOf("split").conditions as unknown[])[0]).toEqual({
      property: "customer.segments",
      op: "notContains",
      value: "s-vip",
    });
    // The stage: one of the five, by name; "is one of" takes several.
    expect([...op1!.options].map((o) => o.textContent)).toEqual([
      "is",
      "is not",
      "is one of",
      "is none of",
    ]);
    const one = panel.getByRole<HTMLSelectElement>("combobox", { name: "Lifecycle stage" });
    expect([...one.options].map((o) => o.textContent)).toEqual([
      "Choose a stage…",
      "New",
      "Repeat",
      "Active",
      "At risk",
      "Lapsed",
    ]);
    expect(one.value).toBe("at_risk");
    fireEvent.change(op1!, { target: { value: "in" } });
    expect((configOf("split").conditions as unknown[])[1]).toEqual({
      property: "customer.lifecycle_stage",
      op: "in",
      value: ["at_risk"],
    });
    const many = panel.getByRole<HTMLSelectElement>("listbox", { name: "Lifecycle stages" });
    expect(many.multiple).toBe(true);
  });

  it("picking a membership property sets a comparison that works for it", async () => {
    window.location.hash = "#/journeys/j16s";
    renderApp({
      me: marketer,
      journey: journey({ segmentId: "s-vip" }, [{ property: "tier", op: "eq", value: "gold" }]),
      catalog,
      segments,
    });
    await openStep("split");
    const field = screen.getByRole("combobox", { name: "Property" });
    fireEvent.click(field);
    const input = await screen.findByRole("combobox", { name: /^Choose a value/ });
    fireEvent.change(input, { target: { value: "customer.segments" } });
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() =>
      expect((configOf("split").conditions as unknown[])[0]).toEqual({
        property: "customer.segments",
        op: "contains",
      }),
    );
    expect(screen.getByRole("combobox", { name: "Segment" })).toBeTruthy();
  });

  it("a segment the workspace no longer has is a warning on the step", async () => {
    window.location.hash = "#/journeys/j16s";
    renderApp({
      me: marketer,
      journey: journey({ segmentId: "s-gone" }, [
        { property: "customer.segments", op: "contains", value: "s-gone" },
      ]),
      catalog,
      segments,
    });
    await openStep("split");
    const warnings = await screen.findByRole("list", { name: "Warnings for this step" });
    expect(warnings.textContent).toContain("This segment no longer exists in the workspace");
    const segment = screen.getByRole<HTMLSelectElement>("combobox", { name: "Segment" });
    expect(segment.selectedOptions[0]?.textContent).toBe("(deleted segment)");
  });
});
