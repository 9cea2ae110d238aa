// Issue 18 (no developer wording in the editor), from a walk as a marketer: the step panel named
// the step "Step id discount · action.coupon"; the coupon step showed "Kind: percent" and a rule
// reading "event.product.tier"; "Then go to" listed "Thank you (thanks)"; Problems said
// "invite · subject" and the publish dialog "invite: …"; the header said "draft revision 0".
// Steps are named as on the canvas, fields by their labels, values in words.
import { JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail, WorkspaceCatalog } from "../api/contract.ts";
import { renderApp } from "../test/renderApp.tsx";
import { stubTrpc as fakeServer } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";
import { useEditorStore } from "./store.ts";
import { openStep } from "../test/editor.ts";

const catalog: WorkspaceCatalog = {
  eventProperties: { purchase: ["product.tier"] },
  customerFields: [],
};

function journey(subject = "Register your machine"): JourneyDetail {
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
        id: "invite",
        type: "action.email",
        position: { x: 0, y: 150 },
        data: { label: "Registration invitation", subject, body: "Hello" },
      },
      {
        id: "discount",
        type: "action.coupon",
        position: { x: 0, y: 300 },
        data: {
          label: "Registration discount",
          source: { kind: "pattern", pattern: "REG-####" },
          value: { kind: "percent", amount: 25 },
          rules: [
            {
              when: [{ property: "event.product.tier", op: "eq", value: "premium" }],
              match: "all",
              value: { kind: "percent", amount: 30 },
            },
          ],
        },
      },
      {
        id: "thanks",
        type: "action.email",
        position: { x: 0, y: 450 },
        data: { label: "Thank you", subject: "Thanks", body: "Thanks" },
      },
      {
        id: "thanks2",
        type: "action.email",
        position: { x: 200, y: 450 },
        data: { label: "Thank you", subject: "Thanks again", body: "Thanks" },
      },
      { id: "exit", type: "flow.exit", position: { x: 0, y: 600 }, data: {} },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "invite" },
      { id: "e2", source: "invite", target: "discount" },
      { id: "e3", source: "discount", target: "thanks" },
      { id: "e4", source: "thanks", target: "thanks2" },
      { id: "e5", source: "thanks2", target: "exit" },
    ],
  });
  return {
    id: "j18w",
    name: "Machine registration",
    status: "DRAFT",
    draft,
    draftRevision: 0,
    liveVersion: null,
    updatedAt: "2026-12-01T10:00:00.000Z",
  };
}

const selectedText = (select: HTMLSelectElement) =>
  select.options[select.selectedIndex]?.textContent ?? "";

describe("issue 18: the editor in a marketer's words", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("names the coupon step by its kind, its values in words, and the next steps by name", async () => {
    window.location.hash = "#/journeys/j18w";
    renderApp({ me: marketer, journey: journey(), catalog });
    await openStep("discount");
    const region = screen.getByRole("region", { name: "Issue coupon" });
    const panel = within(region);
    expect(region.textContent).not.toMatch(/Step id|action\.coupon/);

    const source = panel.getByRole<HTMLSelectElement>("combobox", { name: "Codes come from" });
    expect(selectedText(source)).toBe("Generated from a pattern");
    expect([...source.options].map((o) => o.textContent)).toEqual([
      "A coupon pool",
      "Generated from a pattern",
    ]);
    const kinds = panel.getAllByRole<HTMLSelectElement>("combobox", { name: "Discount type" });
    expect(kinds).toHaveLength(2); // the default value and the rule's
    for (const kind of kinds) expect(selectedText(kind)).toBe("Percent off");
    expect([...(kinds[0]?.options ?? [])].map((o) => o.textContent)).toEqual([
      "Percent off",
      "Amount off",
      "Free shipping",
    ]);
    expect(panel.queryByText(/^percent$/)).toBeNull();

    // The rule reads the trigger event's property, shown in words; the stored path is unchanged.
    const property = panel.getByRole("combobox", { name: "Property" });
    await waitFor(() => expect(property.textContent).toBe("Product tier (purchase event)"));

    const next = panel.getByRole<HTMLSelectElement>("combobox", { name: "Then go to" });
    expect(selectedText(next)).toBe("Thank you (1st)");
    expect([...next.options].map((o) => o.textContent)).toEqual([
      "— not connected —",
      "Event trigger",
      "Registration invitation",
      "Thank you (1st)",
      "Thank you (2nd)",
      "Exit",
    ]);
    // Choosing by name still connects the same step.
    fireEvent.change(next, { target: { value: "thanks2" } });
    expect(useEditorStore.getState().edges.find((e) => e.source === "discount")?.target).toBe(
      "thanks2",
    );
  });

  it("says where a problem is by the step's name on the canvas and the field's label", async () => {
    window.location.hash = "#/journeys/j18w";
    renderApp({ me: marketer, journey: journey(""), catalog });
    fireEvent.click(await screen.findByRole("tab", { name: /^Problems \(1/ }));
    const panel = screen.getByRole("region", { name: /Problems/ });
    const item = within(panel).getByRole("button", { name: /subject/i });
    expect(item.textContent).toContain("Registration invitation · Subject");
    expect(item.textContent).not.toMatch(/invite/);
  });

  it("the header says whether the journey is published, not the draft's revision", async () => {
    window.location.hash = "#/journeys/j18w";
    renderApp({ me: marketer, journey: journey(), catalog });
    await screen.findByRole("tab", { name: /^Problems/ });
    const summary = screen.getByText(/Not published yet · edited/);
    expect(summary.textContent).not.toMatch(/revision/);
  });

  it("the publish dialog names the step a warning is about as the canvas does", async () => {
    window.location.hash = "#/journeys/j18w";
    const j = journey();
    fakeServer({
      "auth.me": () => marketer,
      "journeys.get": () => j,
      "journeys.catalog": () => catalog,
      "journeys.saveDraft": () => ({ revision: 1, issues: [] }),
      "journeys.diff": () => ({
        ok: true,
        issues: [
          {
            code: "template.unknownVariable",
            severity: "warning",
            nodeId: "invite",
            field: "subject",
            message: "{{ frist_name }}: no trigger provides it.",
          },
        ],
        liveVersion: null,
        diff: { added: [], removed: [], changed: [], rewired: [], settings: [], same: false },
        sameTrigger: [],
      }),
    });
    renderApp({ me: marketer, journey: j, catalog });
    await screen.findByRole("tab", { name: /^Problems/ });
    fireEvent.click(screen.getByRole("button", { name: "Publish…" }));
    const dialog = await screen.findByRole("dialog", { name: "Publish journey" });
    const warnings = await within(dialog).findByRole("list", { name: "Warnings" });
    expect(warnings.textContent).toContain("Registration invitation: {{ frist_name }}");
    expect(warnings.textContent).not.toMatch(/invite:/);
  });
});
