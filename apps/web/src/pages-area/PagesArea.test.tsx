// issue 14: the Pages area against a fake API at the HTTP boundary (testServer.ts).
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { ApiError, fakePagesServer, pageDetail, letPuckTimersFire } from "./testServer.ts";

afterAll(letPuckTimersFire);
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Pages area", () => {
  it("lists the workspace's pages from the API, next to Journeys in the header", async () => {
    fakePagesServer([
      pageDetail(),
      pageDetail({ id: "pg2", name: "Thank you", slug: "thank-you", publishedVersion: 2 }),
    ]);
    window.location.hash = "#/pages";
    renderApp({ me: marketer });
    const table = await screen.findByRole("table");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(
      rows.map((r) =>
        within(r)
          .getAllByRole("cell")
          .map((c) => c.textContent),
      ),
    ).toEqual([
      ["machine-registration", "Draft", expect.any(String)],
      ["thank-you", "Published v2", expect.any(String)],
    ]);
    expect(within(rows[1]!).getByRole("link", { name: "Thank you" }).getAttribute("href")).toBe(
      "#/pages/pg2",
    );
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getByRole("link", { name: "Pages" }).getAttribute("aria-current")).toBe(
      "page",
    );
    expect(within(nav).getByRole("link", { name: "Journeys" }).getAttribute("href")).toBe(
      "#/journeys",
    );
  });

  it("creates a page with an address suggested from its name and opens it in the editor", async () => {
    const server = fakePagesServer([]);
    window.location.hash = "#/pages";
    renderApp({ me: marketer });
    await screen.findByText("No pages yet.");
    fireEvent.click(screen.getByRole("button", { name: "New page" }));
    const dialog = screen.getByRole("dialog", { name: "New page" });
    fireEvent.change(within(dialog).getByLabelText("Name"), {
      target: { value: "Machine registration (Café)" },
    });
    expect(within(dialog).getByLabelText<HTMLInputElement>("Page address").value).toBe(
      "machine-registration-cafe",
    );
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    await waitFor(() => expect(window.location.hash).toBe("#/pages/new1"));
    expect(server.callsTo("pages.create").map((c) => c.input)).toEqual([
      { name: "Machine registration (Café)", slug: "machine-registration-cafe" },
    ]);
    expect(
      await screen.findByRole("heading", { name: "Machine registration (Café)" }),
    ).toBeTruthy();
    await screen.findByText("Saved");
  });

  it("says in words why a page could not be created, and keeps what was typed", async () => {
    fakePagesServer([], {
      "pages.create": (input) => {
        const { slug } = input as { slug: string };
        throw new ApiError(
          "CONFLICT",
          `Another page already uses the address “${slug}”. Choose another.`,
        );
      },
    });
    window.location.hash = "#/pages";
    renderApp({ me: marketer });
    fireEvent.click(await screen.findByRole("button", { name: "New page" }));
    const dialog = screen.getByRole("dialog", { name: "New page" });
    fireEvent.change(within(dialog).getByLabelText("Page address"), {
      target: { value: "Not An Address" },
    });
    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "Thanks" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    expect(within(dialog).getByText(/Use lower-case letters, digits and dashes/)).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText("Page address"), {
      target: { value: "thank-you" },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    expect((await within(dialog).findByRole("alert")).textContent).toBe(
      "Another page already uses the address “thank-you”. Choose another.",
    );
    expect(within(dialog).getByLabelText<HTMLInputElement>("Name").value).toBe("Thanks");
    expect(window.location.hash).toBe("#/pages");
  });
});
