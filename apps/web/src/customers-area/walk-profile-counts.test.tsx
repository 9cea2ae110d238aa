// Walk 2026-12-05: a new customer's profile said "1 events · 1 journey runs", and the search
// results pushed a phone's page sideways.
import { fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { customerRow, fakeCustomersServer, profile } from "./testServer.ts";

afterEach(() => vi.unstubAllGlobals());

describe("search results on a phone", () => {
  it("scroll sideways in their own box (they pushed the page to 580 px at 360 px)", async () => {
    fakeCustomersServer([customerRow(1), customerRow(2)]);
    window.location.hash = "#/customers";
    renderApp({ me: marketer });
    fireEvent.change(await screen.findByLabelText("Search"), { target: { value: "user-0" } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    const box = await screen.findByRole("region", { name: "Customers found" });
    expect(box.className).toBe("table-scroll");
    expect(box.tabIndex).toBe(0);
    expect(within(box).getAllByRole("row")).toHaveLength(3);
  });
});

describe("a customer's counts", () => {
  it("reads 1 event and 1 journey run, 2 events and 3 journey runs", async () => {
    let counts = { events: 1, runs: 1 };
    fakeCustomersServer([], {
      "customers.get": () => profile({ counts }),
      "segments.ofCustomer": () => ({ stage: "new", segments: [] }),
    });
    window.location.hash = "#/customers/c001";
    const view = renderApp({ me: marketer });
    expect(await screen.findByText(/1 event · 1 journey run$/)).toBeTruthy();
    view.unmount();
    counts = { events: 2, runs: 3 };
    renderApp({ me: marketer });
    expect(await screen.findByText(/2 events · 3 journey runs$/)).toBeTruthy();
  });
});
