import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { journeyRows } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

describe("journey list", () => {
  it("shows one row per journey with status, live version and counts", async () => {
    renderApp({ me: marketer, journeys: journeyRows });

    const table = await screen.findByRole("table");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);

    const [first, second] = rows;
    const firstCells = within(first!)
      .getAllByRole("cell")
      .map((c) => c.textContent);
    expect(
      within(first!).getByRole("link", { name: "Thank-you after purchase" }).getAttribute("href"),
    ).toBe("#/journeys/j1");
    expect(firstCells[0]).toBe("Live");
    expect(firstCells[1]).toBe("v3");
    expect(firstCells[2]).toMatch(/^1[,.\s]?200$/);
    expect(firstCells[3]).toContain("25%");
    expect(
      within(first!)
        .getByText((_, el) => el?.tagName === "TIME")
        .getAttribute("datetime"),
    ).toBe("2025-11-20T10:15:00.000Z");

    const secondCells = within(second!)
      .getAllByRole("cell")
      .map((c) => c.textContent);
    expect(secondCells.slice(0, 2)).toEqual(["Draft", "—"]);
    expect(secondCells[3]).toContain("—");
  });

  it("opens a journey when its row is clicked", async () => {
    renderApp({ me: marketer, journeys: journeyRows });
    (await screen.findByText("Win-back after 90 days")).closest("tr")!.click();
    expect(window.location.hash).toBe("#/journeys/j2");
  });

  it("says so when there are no journeys", async () => {
    renderApp({ me: marketer, journeys: [] });
    expect(await screen.findByText("No journeys yet.")).toBeTruthy();
  });

  it("shows who is signed in, in which workspace, with a sign-out button", async () => {
    renderApp({ me: marketer, journeys: journeyRows });
    const header = await screen.findByRole("banner");
    expect(header.textContent).toContain("Demo Shop");
    expect(header.textContent).toContain("Mia Marketer");
    expect(within(header).getByRole("button", { name: "Sign out" })).toBeTruthy();
  });

  it("shows the sign-in form, not the list, when nobody is signed in", async () => {
    renderApp({ me: null, journeys: journeyRows });
    expect(await screen.findByRole("heading", { name: "Sign in to Postpath" })).toBeTruthy();
    expect(screen.getByLabelText("Email")).toBeTruthy();
    expect(screen.getByLabelText("Password")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
  });
});
