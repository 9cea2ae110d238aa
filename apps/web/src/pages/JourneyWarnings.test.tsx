// Warnings from validate() with the workspace's catalogue (journeys.catalog): listed and labelled
// apart from errors, shown in the step panel, never disabling Publish; the template editor lists
// the workspace's attributes.
import { CUSTOMER_FIELDS, JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { JourneyDetail, WorkspaceCatalog } from "../api/contract.ts";
import { useEditorStore } from "../canvas/store.ts";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

const catalog: WorkspaceCatalog = {
  attributes: ["first_name", "tier"],
  eventProperties: { purchase: ["order_id", "total"] },
  customerFields: [...CUSTOMER_FIELDS],
};

/** The fixture, completed (valid), with the email's subject set to `subject`. */
function journey(subject: string, extra: Partial<JourneyDraft> = {}): JourneyDetail {
  const draft = JourneyDraft.parse({
    ...thankYouDraft,
    nodes: thankYouDraft.nodes.map((n) =>
      n.id === "email" ? { ...n, data: { ...n.data, subject } } : n,
    ),
    edges: [...thankYouDraft.edges, { id: "e5", source: "email", target: "exit" }],
    ...extra,
  });
  return {
    id: "j9",
    name: "Warnings test",
    status: "DRAFT",
    draft,
    draftRevision: 1,
    liveVersion: null,
    updatedAt: "2025-11-20T10:15:00.000Z",
  };
}

const publish = () => screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" });

describe("journey editor: warnings", () => {
  it("lists a warning apart from errors, keeps Publish enabled, and marks the node as warned, not invalid", async () => {
    window.location.hash = "#/journeys/j9";
    const { container } = renderApp({
      me: marketer,
      journey: journey("Thanks {{ frist_name }}"),
      catalog,
    });
    const tab = await screen.findByRole("tab", { name: "Problems (1 warning)" });
    expect(publish().disabled).toBe(false);
    expect(container.querySelector('.react-flow__node[data-id="email"] .step--invalid')).toBeNull();
    // The node carries an amber warning badge instead.
    const node = container.querySelector('.react-flow__node[data-id="email"] .step--warned');
    expect(node?.querySelector(".step__warnings")?.textContent).toContain("1 warning");
    expect(node?.querySelector(".step__warnings")?.getAttribute("title")).toContain("frist_name");

    fireEvent.click(tab);
    const panel = screen.getByRole("region", { name: /Problems/ });
    expect(within(panel).getByRole("status").textContent).toMatch(/can be published/);
    const item = within(panel).getByRole("button", { name: /frist_name/ });
    expect(item.textContent).toContain("Warning");
    // issue 18: the step by its name on the canvas and the field by its label, not "email · subject".
    expect(item.textContent).toContain("Send email · Subject");
    expect(item.textContent).toContain("Did you mean {{ first_name }}?");
    expect(item.closest("li")?.getAttribute("data-severity")).toBe("warning");

    // Choosing it opens the step: the warning is listed there, the field is not marked invalid,
    // and the variables include the workspace's attributes and the trigger event's properties.
    fireEvent.click(item);
    const warnings = screen.getByRole("list", { name: "Warnings for this step" });
    expect(warnings.textContent).toContain("Warning");
    expect(warnings.textContent).toContain("frist_name");
    expect(screen.getByLabelText("Subject").getAttribute("aria-invalid")).not.toBe("true");
    const vars = screen.getByRole("region", { name: "Message preview" });
    for (const v of ["{{ tier }}", "{{ first_name }}", "{{ event.order_id }}", "{{ event.total }}"])
      expect(within(vars).getAllByText(v).length, v).toBeGreaterThan(0);

    // Fixing the typo clears it.
    fireEvent.change(screen.getByLabelText("Subject"), {
      target: { value: "Thanks {{ first_name }}" },
    });
    expect(useEditorStore.getState().issues).toEqual([]);
    expect(screen.getByRole("tab", { name: "Problems" })).toBeTruthy();
  });

  it("with an error too: the error comes first, labelled, and Publish is disabled", async () => {
    window.location.hash = "#/journeys/j9";
    renderApp({
      me: marketer,
      // The email leads nowhere: an error; and the typo: a warning.
      journey: journey("Thanks {{ frist_name }}", { edges: thankYouDraft.edges }),
      catalog,
    });
    fireEvent.click(await screen.findByRole("tab", { name: "Problems (1, 1 warning)" }));
    expect(publish().disabled).toBe(true);
    const items = within(screen.getByRole("region", { name: /Problems/ })).getAllByRole("listitem");
    expect(items.map((li) => li.getAttribute("data-severity"))).toEqual(["error", "warning"]);
    expect(items[0]?.textContent).toMatch(/^Error/);
    expect(items[1]?.textContent).toMatch(/^Warning/);
  });

  it("a workspace that has observed nothing gets no warning for an unknown attribute", async () => {
    window.location.hash = "#/journeys/j9";
    renderApp({ me: marketer, journey: journey("Thanks {{ frist_name }}") });
    await screen.findByRole("tab", { name: "Problems" });
    expect(useEditorStore.getState().issues).toEqual([]);
    expect(publish().disabled).toBe(false);
  });
});
