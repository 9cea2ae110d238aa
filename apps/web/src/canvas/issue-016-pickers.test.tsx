// Issue 16 in the journey editor: event, property and attribute fields are pickers of what the
// workspace has seen (with kinds and examples), a new name is kept with a "never seen yet"
// warning, the variables list names each output's fields (the PURL step's url and qrUrl), and a
// template reading a field no step gives is a warning on the node.
import { CUSTOMER_FIELDS, JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { JourneyDetail, WorkspaceCatalog } from "../api/contract.ts";
import { useEditorStore } from "./store.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { openStep } from "../test/editor.ts";

const catalog: WorkspaceCatalog = {
  attributes: ["first_name", "tier"],
  eventProperties: { purchase: ["order_id", "total"], page_view: ["url"] },
  attributeDetails: {
    first_name: { types: ["string"], examples: ["Ada", "Bob"] },
    tier: { types: ["string"], examples: ["gold", "silver", "bronze"] },
  },
  eventDetails: {
    purchase: {
      sampled: 120,
      properties: {
        order_id: { types: ["string"], examples: ["o-1"] },
        total: { types: ["number"], examples: ["149", "20", "75"] },
      },
    },
    page_view: { sampled: 880, properties: { url: { types: ["string"], examples: ["/"] } } },
  },
  eventSample: 1000,
  customerFields: [...CUSTOMER_FIELDS],
};

/** purchase → personal URL → split on the order total → email (body as given) → exit. */
function journey(body: string): JourneyDetail {
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
        id: "link",
        type: "action.purl",
        position: { x: 0, y: 150 },
        data: { label: "Personal link", page: "spring", qr: true },
      },
      {
        id: "big-order",
        type: "split.condition",
        position: { x: 0, y: 300 },
        data: { conditions: [{ property: "event.total", op: "gt", value: 100 }], match: "all" },
      },
      {
        id: "email",
        type: "action.email",
        position: { x: -150, y: 450 },
        data: { subject: "Thanks {{ first_name }}", body },
      },
      { id: "exit", type: "flow.exit", position: { x: 150, y: 450 }, data: {} },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "link" },
      { id: "e2", source: "link", target: "big-order" },
      { id: "e3", source: "big-order", sourceHandle: "yes", target: "email" },
      { id: "e4", source: "big-order", sourceHandle: "no", target: "exit" },
      { id: "e5", source: "email", target: "exit" },
    ],
  });
  return {
    id: "j16",
    name: "Pickers",
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

describe("issue 16: pickers on the canvas", () => {
  it("the trigger's event is a picker of seen events, the most frequent first, with counts", async () => {
    window.location.hash = "#/journeys/j16";
    renderApp({ me: marketer, journey: journey("Hello"), catalog });
    await openStep("trigger");
    const field = screen.getByRole("combobox", { name: "Event" });
    expect(field.textContent).toBe("purchase");
    fireEvent.keyDown(field, { key: "ArrowDown" });
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual([
      "page_view880 of 1,000 sampled events",
      "purchase120 of 1,000 sampled events",
    ]);
    // Choose page_view from the keyboard: it is stored in the step's config.
    const input = screen.getByRole("combobox", { name: "Choose an event" });
    fireEvent.change(input, { target: { value: "page" } });
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() =>
      expect(
        useEditorStore.getState().nodes.find((n) => n.id === "trigger")?.data.config,
      ).toMatchObject({ event: "page_view" }),
    );
  });

  it("a new event name is kept, with a 'never seen yet' warning", async () => {
    window.location.hash = "#/journeys/j16";
    renderApp({ me: marketer, journey: journey("Hello"), catalog });
    await openStep("trigger");
    const field = screen.getByRole("combobox", { name: "Event" });
    fireEvent.click(field);
    const input = await screen.findByRole("combobox", { name: "Choose an event" });
    fireEvent.change(input, { target: { value: "machine_registered" } });
    await waitFor(() =>
      expect(optionTexts()).toEqual(["Use “machine_registered” — never seen yet"]),
    );
    fireEvent.keyDown(input, { key: "Enter" });
    const warning = await screen.findByText(/Never seen yet: no event called “machine_registered”/);
    expect(field.getAttribute("aria-describedby")).toContain(warning.id);
    expect(
      useEditorStore.getState().nodes.find((n) => n.id === "trigger")?.data.config,
    ).toMatchObject({ event: "machine_registered" });
  });

  it("a split's property lists attributes, the trigger event's properties and earlier outputs, with examples", async () => {
    window.location.hash = "#/journeys/j16";
    renderApp({ me: marketer, journey: journey("Hello"), catalog });
    await openStep("big-order");
    const field = screen.getByRole("combobox", { name: "Property" });
    // issue 18: the trigger event's property in words, not its path ("event.total").
    expect(field.textContent).toBe("Total (purchase event)");
    fireEvent.click(field);
    await screen.findByRole("listbox");
    const texts = optionTexts();
    expect(texts).toContain("tiertexte.g. gold, silver, bronze");
    expect(texts).toContain(
      'Total (purchase event)numbere.g. 149, 20, 75of the trigger event "purchase"',
    );
    expect(texts).toContain("purl.qrUrlfrom an earlier step");
    expect(texts).toContain("Email addressthe customer's own field");
    // The value to compare with shows the values seen for that property.
    const value = screen.getByRole("textbox", { name: /^Value/ });
    const hint = screen.getByText("Seen: 149, 20, 75");
    expect(value.getAttribute("aria-describedby")).toBe(hint.id);
    // The comparison next to it reads as words.
    const op = screen.getByRole<HTMLSelectElement>("combobox", { name: "Comparison" });
    expect(op.selectedOptions[0]?.textContent).toBe("is greater than");
  });

  it("a trigger property typed before any event carried it is shown in words too", async () => {
    window.location.hash = "#/journeys/j16";
    renderApp({ me: marketer, journey: journey("Hello"), catalog });
    await openStep("big-order");
    const field = screen.getByRole("combobox", { name: "Property" });
    fireEvent.click(field);
    const input = await screen.findByRole("combobox", { name: "Choose a value" });
    fireEvent.change(input, { target: { value: "event.gift_wrap" } });
    await waitFor(() => expect(optionTexts()).toContain("Use “event.gift_wrap” — never seen yet"));
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(field.textContent).toBe("Gift wrap (purchase event)"));
    expect(screen.getByText(/Never seen yet/).textContent).toContain("Gift wrap (purchase event)");
  });

  it("a test run's events are picked too: the journey's own first, then those the workspace has seen", async () => {
    window.location.hash = "#/journeys/j16";
    renderApp({ me: marketer, journey: journey("Hello"), catalog });
    fireEvent.click(await screen.findByRole("tab", { name: "Test run" }));
    fireEvent.click(screen.getByRole("button", { name: "Add event" }));
    const second = screen.getByRole("combobox", { name: "Event 2 name" });
    expect(second.textContent).toBe("Choose an event…");
    fireEvent.keyDown(second, { key: "ArrowDown" });
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual([
      "purchasethis journey listens for it",
      "page_view880 of 1,000 sampled events",
    ]);
    fireEvent.keyDown(screen.getByRole("combobox", { name: "Choose an event" }), { key: "Enter" });
    await waitFor(() => expect(second.textContent).toBe("purchase"));
  });

  it("lists the PURL step's fields among the variables, and warns on the node about one it doesn't give", async () => {
    window.location.hash = "#/journeys/j16";
    const { container } = renderApp({
      me: marketer,
      journey: journey("Your link: {{ purl.link }}"),
      catalog,
    });
    await screen.findByRole("tab", { name: "Problems (1 warning)" });
    const node = container.querySelector('.react-flow__node[data-id="email"] .step--warned');
    expect(node?.querySelector(".step__warnings")?.textContent).toContain("1 warning");
    expect(node?.querySelector(".step__warnings")?.getAttribute("title")).toContain(
      `{{ purl.link }}: "purl" has no "link"`,
    );

    await openStep("email");
    const warnings = screen.getByRole("list", { name: "Warnings for this step" });
    expect(warnings.textContent).toContain("purl.link");
    const vars = within(await screen.findByRole("region", { name: "Message preview" }));
    for (const v of ["{{ purl.url }}", "{{ purl.qrUrl }}", "{{ event.total }}", "{{ tier }}"])
      expect(vars.getAllByText(v).length, v).toBeGreaterThan(0);
    expect(vars.queryByText("{{ purl.… }}")).toBeNull();

    // Using a field the step gives clears the warning.
    fireEvent.change(screen.getByLabelText("Body"), {
      target: { value: "Your link: {{ purl.url }}" },
    });
    expect(useEditorStore.getState().issues).toEqual([]);
  });
});
