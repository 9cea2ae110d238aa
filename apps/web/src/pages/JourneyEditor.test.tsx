import { JourneyDraft } from "@postpath/journey";
import { act, fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { JourneyDetail } from "../api/contract.ts";
import { useTestRunStore } from "../canvas/panels/testRunStore.ts";
import { useEditorStore } from "../canvas/store.ts";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

function journey(draft: JourneyDraft): JourneyDetail {
  return {
    id: "j9",
    name: "Editor test",
    status: "DRAFT",
    draft,
    draftRevision: 1,
    liveVersion: null,
    updatedAt: "2025-11-20T10:15:00.000Z",
  };
}

/** The fixture, completed: the email leads to the exit, so the journey is valid. */
const valid = JourneyDraft.parse({
  ...thankYouDraft,
  edges: [...thankYouDraft.edges, { id: "e5", source: "email", target: "exit" }],
});

const broken = JourneyDraft.parse({
  ...valid,
  nodes: valid.nodes.map((n) =>
    n.id === "email" ? { ...n, data: { subject: "", body: "We hope you love it." } } : n,
  ),
});

describe("journey editor", () => {
  it("lists validate()'s problems, marks the node, disables Publish; a problem focuses its step's field", async () => {
    window.location.hash = "#/journeys/j9";
    const { container } = renderApp({ me: marketer, journey: journey(broken) });
    const problems = await screen.findByRole("tab", { name: /Problems \(\d+\)/ });
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" }).disabled).toBe(true);
    expect(
      container.querySelector('.react-flow__node[data-id="email"] .step--invalid'),
    ).not.toBeNull();

    fireEvent.click(problems);
    fireEvent.click(screen.getByRole("button", { name: /Write a subject line\./ }));
    expect(screen.getByRole("tab", { name: "Step" }).getAttribute("aria-selected")).toBe("true");
    const subject = screen.getByLabelText("Subject");
    expect(subject.getAttribute("aria-invalid")).toBe("true");

    fireEvent.change(subject, { target: { value: "Thanks {{ first_name }}" } });
    expect(container.querySelector('.react-flow__node[data-id="email"] .step--invalid')).toBeNull();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" }).disabled).toBe(
      false,
    );
    // The live preview renders the template with the sample customer.
    expect(container.querySelector('[data-preview="subject"]')?.textContent).toContain(
      "Thanks Ada",
    );
  });

  it("connects and disconnects a branch from the keyboard, with the step panel's select", async () => {
    window.location.hash = "#/journeys/j9";
    // The fixture as drawn: the email's "next" branch leads nowhere yet.
    renderApp({
      me: marketer,
      journey: journey(JourneyDraft.parse(thankYouDraft)),
    });
    const problems = await screen.findByRole("tab", { name: /Problems \(\d+\)/ });
    fireEvent.click(problems);
    const panel = screen.getByRole("region", { name: /Problems/ });
    fireEvent.click(within(panel).getAllByRole("button")[0]!);
    const publish = () => screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" });
    expect(publish().disabled).toBe(true);
    // jsdom cannot lay out edges (no sizes), so read the editor's document: the saved draft's edges.
    const emailNext = () =>
      useEditorStore
        .getState()
        .edges.filter((e) => e.source === "email")
        .map((e) => `${e.sourceHandle ?? "next"}→${e.target}`);
    expect(emailNext()).toEqual([]);

    const select = screen.getByLabelText<HTMLSelectElement>("Then go to");
    fireEvent.change(select, { target: { value: "exit" } });
    expect(select.value).toBe("exit");
    expect(publish().disabled).toBe(false);
    expect(emailNext()).toEqual(["next→exit"]);

    fireEvent.change(select, { target: { value: "" } });
    expect(publish().disabled).toBe(true);
    expect(emailNext()).toEqual([]);
  });

  it("test-runs the journey and draws the path with each step's decisions", async () => {
    window.location.hash = "#/journeys/j9";
    const { container } = renderApp({ me: marketer, journey: journey(valid) });
    fireEvent.click(await screen.findByRole("tab", { name: "Test run" }));
    // A big order (total 149 > 100) takes the "yes" branch to the email (after the 30 s wait).
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    const timeline = screen.getByRole("region", { name: "Test run timeline" });
    expect(within(timeline).getByRole("status").textContent).toMatch(
      /Finished: (completed|exited)/,
    );
    expect(
      container.querySelector('.react-flow__node[data-id="email"] .step--visited'),
    ).not.toBeNull();
    expect(
      container.querySelector('.react-flow__node[data-id="big-order"]')?.textContent,
    ).toContain("+30s Took the “Yes” path → “Send email”");

    // A small order takes "no".
    fireEvent.change(screen.getByLabelText("Event 1 properties (JSON)"), {
      target: { value: '{"total": 20}' },
    });
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    expect(
      container.querySelector('.react-flow__node[data-id="exit"] .step--visited'),
    ).not.toBeNull();
    expect(
      container.querySelector('.react-flow__node[data-id="email"] .step--skipped'),
    ).not.toBeNull();
    expect(
      container.querySelector('.react-flow__node[data-id="big-order"]')?.textContent,
    ).toContain("+30s Took the “No” path");
  });

  it("previews messages with the test-run customer once one is described, else the sample", async () => {
    window.location.hash = "#/journeys/j9";
    const { container } = renderApp({ me: marketer, journey: journey(valid) });
    fireEvent.click(await screen.findByRole("tab", { name: "Test run" }));
    fireEvent.change(screen.getByLabelText("Test customer (JSON)"), {
      target: {
        value: JSON.stringify({
          externalId: "grace-1",
          email: "grace@example.com",
          attributes: { first_name: "Grace" },
        }),
      },
    });
    fireEvent.change(screen.getByLabelText("Event 1 properties (JSON)"), {
      target: { value: '{"total": 20}' },
    });

    act(() => useEditorStore.getState().focusNode("email"));
    expect(screen.getByRole("tab", { name: "Step" }).getAttribute("aria-selected")).toBe("true");
    fireEvent.change(screen.getByLabelText("Subject"), {
      target: {
        value: "Thanks {{ first_name }}, your {{ event.total }} € order ({{ customer.email }})",
      },
    });
    const preview = screen.getByRole("region", { name: "Message preview" });
    expect(
      within(preview).getByRole("heading", { name: "Preview (test-run customer Grace)" }),
    ).toBeTruthy();
    expect(container.querySelector('[data-preview="subject"]')?.textContent).toContain(
      "Thanks Grace, your 20 € order (grace@example.com)",
    );

    // The test customer stays when switching tabs; broken JSON falls back to the sample, saying so.
    fireEvent.click(screen.getByRole("tab", { name: "Test run" }));
    const customer = screen.getByLabelText<HTMLTextAreaElement>("Test customer (JSON)");
    expect(customer.value).toContain("Grace");
    fireEvent.change(customer, { target: { value: "{ not json" } });
    fireEvent.click(screen.getByRole("tab", { name: "Step" }));
    expect(screen.getByRole("heading", { name: "Preview (sample customer Ada)" })).toBeTruthy();
    expect(screen.getByText(/not valid JSON.*so the sample customer is used/)).toBeTruthy();
    expect(container.querySelector('[data-preview="subject"]')?.textContent).toContain(
      "Thanks Ada, your 149 € order (ada@example.com)",
    );
  });

  it("starts each journey page from the sample customer again", async () => {
    useTestRunStore.getState().setCustomerText('{"attributes": {"first_name": "Grace"}}');
    window.location.hash = "#/journeys/j9";
    const { container } = renderApp({ me: marketer, journey: journey(valid) });
    await screen.findByRole("tab", { name: "Test run" });
    act(() => useEditorStore.getState().focusNode("email"));
    expect(screen.getByRole("heading", { name: "Preview (sample customer Ada)" })).toBeTruthy();
    expect(container.querySelector('[data-preview="subject"]')?.textContent).toContain(
      "Thanks Ada",
    );
  });

  it("edits journey settings with the time zone checked (entry rules, quiet hours, time zone…)", async () => {
    window.location.hash = "#/journeys/j9";
    const { container } = renderApp({ me: marketer, journey: journey(valid) });
    fireEvent.click(await screen.findByRole("tab", { name: "Settings" }));
    for (const f of ["entry", "exitCriteria", "goal", "quietHours", "frequencyCap", "timezone"]) {
      expect(container.querySelector(`[data-field="${f}"]`), f).not.toBeNull();
    }
    const timezone = container.querySelector<HTMLInputElement>('[data-field="timezone"] input');
    if (!timezone) throw new Error("no time zone field");
    fireEvent.change(timezone, { target: { value: "Mars/Olympus" } });
    expect(container.querySelector('[data-field="timezone"] .field__error')?.textContent).toMatch(
      /time zone/i,
    );
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" }).disabled).toBe(true);
    fireEvent.change(timezone, { target: { value: "Europe/Zurich" } });
    expect(container.querySelector('[data-field="timezone"] .field__error')).toBeNull();
    // Quiet hours are off until switched on; then their fields appear.
    const quiet = container.querySelector<HTMLInputElement>(
      '[data-field="quietHours"] legend input',
    );
    fireEvent.click(quiet!);
    expect(container.querySelector('[data-field="quietHours.start"] input')).not.toBeNull();
  });

  it("shows a viewer the journey read-only: no palette actions, no publish", async () => {
    window.location.hash = "#/journeys/j9";
    renderApp({ me: { ...marketer, role: "VIEWER" }, journey: journey(thankYouDraft) });
    await screen.findByText("Read only");
    expect(screen.queryByRole("button", { name: "Publish…" })).toBeNull();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Send email" }).disabled).toBe(
      true,
    );
  });
});
