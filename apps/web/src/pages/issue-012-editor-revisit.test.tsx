// Issue 12, finding 10: edit a journey, go back to the list, open it again in the same tab: the
// editor started from the cached (older) revision, and the next edit was refused as "changed in
// another tab". The editor now starts from the server's latest draft, and saves mark the cached
// journey and list stale.
import { JourneyDraft } from "@postpath/journey";
import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail, JourneyListItem } from "../api/contract.ts";
import { useEditorStore } from "../canvas/store.ts";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { ApiError, stubTrpc } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";

const draft = JourneyDraft.parse({
  ...thankYouDraft,
  edges: [...thankYouDraft.edges, { id: "e5", source: "email", target: "exit" }],
});

/** One journey on a server that refuses a save based on an older revision, as the real one does. */
function server() {
  let stored: JourneyDetail = {
    id: "j1",
    name: "Revisit test",
    status: "DRAFT",
    draft,
    draftRevision: 1,
    liveVersion: null,
    updatedAt: "2025-11-20T10:15:00.000Z",
  };
  const listItem = (): JourneyListItem => ({
    id: stored.id,
    name: stored.name,
    status: stored.status,
    liveVersion: null,
    entered: 0,
    converted: 0,
    updatedAt: stored.updatedAt,
  });
  const saves: { revision: number; ok: boolean }[] = [];
  const handlers: Record<string, (input: unknown) => unknown> = {
    "journeys.get": () => stored,
    "journeys.list": () => [listItem()],
    "journeys.saveDraft": (input) => {
      const { revision, draft: saved } = input as { revision: number; draft: JourneyDraft };
      const ok = revision === stored.draftRevision;
      saves.push({ revision, ok });
      if (!ok)
        throw new ApiError("CONFLICT", "The draft was changed in another tab or by someone else.");
      stored = {
        ...stored,
        draft: saved,
        draftRevision: revision + 1,
        updatedAt: new Date().toISOString(),
      };
      return { revision: stored.draftRevision, issues: [] };
    },
    "journeys.catalog": () => ({}),
  };
  stubTrpc(handlers);
  return { saves, current: () => stored, listItem };
}

/** The draft revision the editor holds (issue 18: kept off the page's words, as data-revision). */
const shownRevision = () =>
  document.querySelector("[data-revision]")?.getAttribute("data-revision") ?? null;

/** Renames the wait step's amount, as the step form does, and waits for the autosave. */
async function editWait(amount: number) {
  await screen.findByText(/All changes saved/);
  act(() => useEditorStore.getState().updateConfig("wait", { amount, unit: "seconds" }));
  await screen.findByText(/All changes saved/);
}

describe("issue 12: the editor opened again starts from the server's latest draft", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("edit, back to the list, open again, edit again: saved without a conflict", async () => {
    const fake = server();
    window.location.hash = "#/journeys/j1";
    // The client cache holds revision 1, as it would after the first visit.
    renderApp({ me: marketer, journey: fake.current(), journeys: [fake.listItem()] });
    await waitFor(() => expect(shownRevision()).toBe("1"));
    await editWait(10);
    await waitFor(() => expect(fake.current().draftRevision).toBe(2));

    fireEvent.click(screen.getByRole("link", { name: "← Journeys" }));
    await screen.findByRole("heading", { name: "Journeys" });
    fireEvent.click(await screen.findByRole("link", { name: "Revisit test" }));

    await waitFor(() => expect(shownRevision()).toBe("2"));
    expect(useEditorStore.getState().nodes.find((n) => n.id === "wait")?.data.config).toMatchObject(
      { amount: 10 },
    );
    await editWait(20);
    await waitFor(() => expect(fake.current().draftRevision).toBe(3));
    expect(fake.saves).toEqual([
      { revision: 1, ok: true },
      { revision: 2, ok: true },
    ]);
    expect(screen.queryByRole("button", { name: "Load the latest version" })).toBeNull();
  });
});
