// Walk 2026-12-05: a customer who had bought a machine showed "Lifecycle stage: no purchase yet"
// on their profile, because the workspace had not switched the lifecycle stages on. The profile
// now says the stages are off (and where to set them up), and "no purchase yet" only when they run.
import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { customerRow, fakeCustomersServer } from "../customers-area/testServer.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

afterEach(() => vi.unstubAllGlobals());

function showProfile(enabled: boolean) {
  fakeCustomersServer([customerRow(1)], {
    "segments.ofCustomer": () => ({ stage: null, segments: [] }),
    "segments.lifecycle.get": () => ({ enabled, settings: {}, stages: [] }),
  });
  window.location.hash = "#/customers/c001";
  renderApp({ me: marketer });
}

describe("a customer's lifecycle stage on the profile", () => {
  it("says the stages are not switched on, not that the customer has no purchase", async () => {
    showProfile(false);
    const section = await screen.findByRole("region", { name: "Segments" });
    expect(await within(section).findByText("stages are not switched on")).toBeTruthy();
    expect(within(section).queryByText("no purchase yet")).toBeNull();
    expect(within(section).getByRole("link", { name: "Segments" }).getAttribute("href")).toBe(
      "#/segments",
    );
  });

  it("says no purchase yet when the stages run and the customer is in none", async () => {
    showProfile(true);
    const section = await screen.findByRole("region", { name: "Segments" });
    expect(await within(section).findByText("no purchase yet")).toBeTruthy();
  });
});
