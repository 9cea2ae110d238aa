import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

describe("journey view", () => {
  it("shows the journey's name, status and its draft on the canvas", async () => {
    window.location.hash = "#/journeys/j1";
    const { container } = renderApp({
      me: marketer,
      journey: {
        id: "j1",
        name: "Thank-you after purchase",
        status: "LIVE",
        draft: thankYouDraft,
        draftRevision: 4,
        liveVersion: 3,
        updatedAt: "2025-11-20T10:15:00.000Z",
      },
    });

    expect((await screen.findByRole("heading", { level: 1 })).textContent).toBe(
      "Thank-you after purchase",
    );
    expect(screen.getByText("Live")).toBeTruthy();
    // issue 18: no "draft revision 4" for the marketer; the autosave's counter is kept aside.
    const summary = screen.getByText(/Live v3 · edited/);
    expect(summary.textContent).not.toMatch(/revision/);
    expect(summary.getAttribute("data-revision")).toBe("4");
    await screen.findByText("Email: Thanks {{ first_name }}");
    expect(
      [...container.querySelectorAll<HTMLElement>(".react-flow__node")].map((n) => n.dataset.id),
    ).toEqual(thankYouDraft.nodes.map((n) => n.id));
    expect(screen.getByRole("link", { name: "← Journeys" }).getAttribute("href")).toBe(
      "#/journeys",
    );
  });
});
