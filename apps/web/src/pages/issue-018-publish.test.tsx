// Issue 18: "Publish…" is not offered when nothing changed since the live version; publishing
// warns when another live journey has the same trigger, and clears the test run's path.
import { JourneyDraft } from "@postpath/journey";
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail } from "../api/contract.ts";
import { useEditorStore } from "../canvas/store.ts";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { stubTrpc as fakeServer } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";

const draft = JourneyDraft.parse({
  ...thankYouDraft,
  edges: [...thankYouDraft.edges, { id: "e5", source: "email", target: "exit" }],
});

const journey: JourneyDetail = {
  id: "j18",
  name: "Post-purchase",
  status: "LIVE",
  draft,
  draftRevision: 3,
  liveVersion: 2,
  updatedAt: "2025-11-20T10:15:00.000Z",
};

const NO_CHANGE = {
  added: [],
  removed: [],
  changed: [],
  rewired: [],
  settings: [],
  same: true,
};

const publishButton = () => screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" });

describe("issue 18: publishing", () => {
  beforeEach(() => {
    window.location.hash = "#/journeys/j18";
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("does not offer Publish when the saved draft is the live version", async () => {
    fakeServer({
      "auth.me": () => marketer,
      "journeys.get": () => journey,
      "journeys.diff": () => ({
        ok: true,
        issues: [],
        liveVersion: 2,
        diff: NO_CHANGE,
        sameTrigger: [],
      }),
    });
    renderApp({ me: marketer, journey });
    await screen.findByText("Event: purchase");
    await waitFor(() => expect(publishButton().disabled).toBe(true));
    expect(publishButton().title).toBe("Nothing changed since live version 2");
  });

  it("warns of another live journey on the same trigger, publishes, and clears the test run's path", async () => {
    let published = false;
    const calls = fakeServer({
      "auth.me": () => marketer,
      "journeys.get": () => journey,
      "journeys.diff": () => ({
        ok: true,
        issues: [],
        liveVersion: 2,
        diff: {
          ...NO_CHANGE,
          changed: [{ id: "wait", type: "wait.duration", fields: ["amount"] }],
          same: false,
        },
        sameTrigger: [{ journeyId: "j1", name: "Welcome", on: "“purchase”", certain: true }],
      }),
      "journeys.publish": () => {
        published = true;
        return { version: 3 };
      },
    });
    renderApp({ me: marketer, journey });
    await screen.findByText("Event: purchase");
    act(() =>
      useEditorStore
        .getState()
        .setHighlight({ path: ["trigger", "wait"], notes: { trigger: ["Entered"] } }),
    );
    await waitFor(() => expect(calls.map((c) => c.path)).toContain("journeys.diff"));
    expect(publishButton().disabled).toBe(false);

    fireEvent.click(publishButton());
    const dialog = await screen.findByRole("dialog", { name: "Publish journey" });
    const warning = await within(dialog).findByRole("list", { name: "Same trigger" });
    expect(warning.textContent).toContain(
      "Ada would enter both “Post-purchase” and “Welcome” on “purchase”",
    );
    expect(within(warning).getByRole("link", { name: "Welcome" }).getAttribute("href")).toBe(
      "#/journeys/j1",
    );

    fireEvent.click(within(dialog).getByRole("button", { name: "Publish now" }));
    await within(dialog).findByText(/Published version 3/);
    expect(published).toBe(true);
    expect(useEditorStore.getState().highlight).toBeNull();
  });
});
