// The app's frame around every page: the Coupons area has its link in the header, current on its
// pages; and a screen whose code is gone (the app was redeployed while the tab was open, so the
// older page names chunks the new build does not have) says so and offers a reload, instead of
// an error message about modules (before the router: an empty page).
import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Me } from "./api/contract.ts";
import { PageError, isStaleCode } from "./router.tsx";
import { renderApp } from "./test/renderApp.tsx";

const me: Me = {
  id: "u1",
  email: "mo@shop.example",
  name: "Mo",
  role: "MARKETER",
  workspace: { id: "w1", name: "Shop" },
};

describe("the app's frame", () => {
  it("links the Coupons area in the header, current on its pages", async () => {
    window.location.hash = "#/journeys";
    renderApp({ me, journeys: [] });
    const coupons = await screen.findByRole("link", { name: "Coupons" });
    expect(coupons.getAttribute("href")).toBe("#/coupons");
    expect(coupons.getAttribute("aria-current")).toBeNull();
    fireEvent.click(coupons);
    await vi.waitFor(() =>
      expect(screen.getByRole("link", { name: "Coupons" }).getAttribute("aria-current")).toBe(
        "page",
      ),
    );
    expect(window.location.hash).toBe("#/coupons");
    window.location.hash = "#/coupons/pool-1";
    await vi.waitFor(() =>
      expect(screen.getByRole("link", { name: "Coupons" }).getAttribute("aria-current")).toBe(
        "page",
      ),
    );
  });

  it("says the app was updated when a screen's code is gone, with a reload", () => {
    const gone = new TypeError(
      "Failed to fetch dynamically imported module: http://127.0.0.1:3000/assets/JourneyPage-Bx1.js",
    );
    expect(isStaleCode(gone)).toBe(true);
    expect(isStaleCode(new Error("Could not load the journey"))).toBe(false);
    const { unmount } = render(<PageError error={gone} reset={() => undefined} info={undefined} />);
    expect(screen.getByRole("heading", { name: "Postpath was updated" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toMatch(/Reload to get it/);
    expect(screen.getByRole("button", { name: "Reload" })).toBeTruthy();
    expect(screen.queryByText(/dynamically imported/)).toBeNull();
    unmount();

    const reset = vi.fn();
    render(<PageError error={new Error("Boom")} reset={reset} info={undefined} />);
    expect(screen.getByRole("heading", { name: "Something went wrong" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(reset).toHaveBeenCalledOnce();
  });
});
