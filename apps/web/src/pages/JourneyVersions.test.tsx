import { JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail } from "../api/contract.ts";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { ApiError, stubTrpc as fakeServer } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";

/** The fixture, valid: the email leads to the exit. The live version (v2) and the draft. */
const current = JourneyDraft.parse({
  ...thankYouDraft,
  edges: [...thankYouDraft.edges, { id: "e5", source: "email", target: "exit" }],
});
/** Version 1 waited 5 seconds instead of 30. */
const v1Draft = JourneyDraft.parse({
  ...current,
  nodes: current.nodes.map((n) =>
    n.id === "wait" ? { ...n, data: { amount: 5, unit: "seconds" } } : n,
  ),
});

const journey: JourneyDetail = {
  id: "j7",
  name: "Versions test",
  status: "LIVE",
  draft: current,
  draftRevision: 4,
  liveVersion: 2,
  updatedAt: "2025-11-20T10:15:00.000Z",
};

const versionRows = [
  {
    id: "v2",
    version: 2,
    status: "LIVE",
    publishedAt: "2025-11-20T10:00:00.000Z",
    publishedBy: "Mia Marketer",
    runs: 12,
  },
  {
    id: "v1",
    version: 1,
    status: "SUPERSEDED",
    publishedAt: "2025-11-10T10:00:00.000Z",
    publishedBy: "Mia Marketer",
    runs: 40,
  },
];

const version1 = {
  journeyId: "j7",
  version: 1,
  status: "SUPERSEDED",
  publishedAt: "2025-11-10T10:00:00.000Z",
  publishedBy: "Mia Marketer",
  runs: 40,
  draft: v1Draft,
  draftRevision: 4,
  draftIssues: 0,
  diff: {
    added: [],
    removed: [],
    changed: [{ id: "wait", type: "wait.duration", fields: ["amount"] }],
    rewired: [],
    settings: [],
    same: false,
  },
};

async function openVersion1() {
  window.location.hash = "#/journeys/j7";
  fireEvent.click(await screen.findByRole("button", { name: "View version 1" }));
  const dialog = await screen.findByRole("dialog", { name: "Version 1" });
  await within(dialog).findByRole("list", { name: "Steps of version 1" });
  return dialog;
}

describe("journey versions: view one read-only, restore it as the draft", () => {
  beforeEach(() => {
    window.location.hash = "#/journeys/j7";
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("shows an old version's steps read-only with what differs from the draft, and restores it after confirming", async () => {
    let stored = journey;
    const calls = fakeServer({
      "journeys.versions": () => versionRows,
      "journeys.version": () => version1,
      "journeys.restoreVersion": () => {
        stored = { ...journey, draft: v1Draft, draftRevision: 5 };
        return { version: 1, revision: 5, issues: [] };
      },
      "journeys.get": () => stored,
      "operate.nodeCounts": () => ({}),
    });
    const { container } = renderApp({ me: marketer, journey });
    const dialog = await openVersion1();

    expect(calls.find((c) => c.path === "journeys.version")?.input).toEqual({
      journeyId: "j7",
      version: 1,
    });
    expect(dialog.textContent).toContain("Superseded");
    // What restoring would change in the draft (the publish dialog's diff list).
    expect(within(dialog).getByRole("list", { name: "Changes" }).textContent).toMatch(
      /Changed .*“wait”: amount/,
    );
    // The steps, read only: summaries and where each branch leads, no form controls.
    const steps = within(dialog).getByRole("list", { name: "Steps of version 1" });
    expect(
      within(steps)
        .getAllByRole("listitem")
        .map((li) => li.dataset.step),
    ).toEqual(v1Draft.nodes.map((n) => n.id));
    expect(steps.querySelector('[data-step="wait"]')?.textContent).toMatch(/5 seconds/);
    expect(steps.querySelector('[data-step="big-order"]')?.textContent).toMatch(
      /Yes → email.*No → exit/,
    );
    expect(within(dialog).queryAllByRole("textbox")).toEqual([]);
    expect(within(dialog).queryAllByRole("combobox")).toEqual([]);

    // Restore asks first; cancelling changes nothing.
    fireEvent.click(
      within(dialog).getByRole("button", { name: "Restore this version as the draft…" }),
    );
    const confirm = within(dialog).getByRole("group", { name: "Confirm restore" });
    expect(confirm.textContent).toMatch(/Replace the draft with version 1\?/);
    expect(confirm.textContent).toMatch(/runs in progress keep theirs/);
    fireEvent.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.path === "journeys.restoreVersion")).toBe(false);

    fireEvent.click(
      within(dialog).getByRole("button", { name: "Restore this version as the draft…" }),
    );
    fireEvent.click(within(dialog).getByRole("button", { name: "Restore version 1" }));

    // The editor reloads on the restored draft (revision 5), ready to review and publish.
    expect((await screen.findByText(/Version 1 is now the draft/)).getAttribute("role")).toBe(
      "status",
    );
    expect(calls.filter((c) => c.path === "journeys.restoreVersion").map((c) => c.input)).toEqual([
      { journeyId: "j7", version: 1, revision: 4 },
    ]);
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.querySelector("[data-revision]")?.getAttribute("data-revision")).toBe("5");
    await waitFor(() =>
      expect(container.querySelector('.react-flow__node[data-id="wait"]')?.textContent).toMatch(
        /5 seconds/,
      ),
    );
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" }).disabled).toBe(
      false,
    );
  });

  it("says so when another tab changed the draft, and offers to load it", async () => {
    const calls = fakeServer({
      "journeys.versions": () => versionRows,
      "journeys.version": () => version1,
      "journeys.restoreVersion": () => {
        throw new ApiError(
          "CONFLICT",
          "The draft was changed in another tab or by someone else, so version 1 was not restored.",
        );
      },
      "journeys.get": () => journey,
      "operate.nodeCounts": () => ({}),
    });
    renderApp({ me: marketer, journey });
    const dialog = await openVersion1();
    fireEvent.click(
      within(dialog).getByRole("button", { name: "Restore this version as the draft…" }),
    );
    fireEvent.click(within(dialog).getByRole("button", { name: "Restore version 1" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toMatch(/changed in another tab.*version 1 was not restored/);
    expect(within(alert).getByRole("button", { name: "Load the latest version" })).toBeTruthy();
    expect(document.querySelector("[data-revision]")?.getAttribute("data-revision")).toBe("4");
    expect(calls.filter((c) => c.path === "journeys.restoreVersion")).toHaveLength(1);
  });

  it("lets a viewer look at a version but not restore it", async () => {
    fakeServer({
      "journeys.versions": () => versionRows,
      "journeys.version": () => version1,
      "journeys.get": () => journey,
      "operate.nodeCounts": () => ({}),
    });
    renderApp({ me: { ...marketer, role: "VIEWER" }, journey });
    const dialog = await openVersion1();
    expect(within(dialog).getByRole("list", { name: "Changes" })).toBeTruthy();
    expect(within(dialog).queryByRole("button", { name: /Restore/ })).toBeNull();
    fireEvent.click(within(dialog).getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
