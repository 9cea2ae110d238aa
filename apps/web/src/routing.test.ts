// The route table (router.tsx, TanStack Router over the hash history): every `#/…` address the
// hand-written parser knew shows the same page, with the same parameters; the `*Hrefs` helpers
// round-trip ids with odd characters; anything else is not found. Then the app itself: following
// links and `navigate()` changes the page, and the address is left as it was given.
import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Me } from "./api/contract.ts";
import { ADMIN_TABS, adminHrefs } from "./admin/routes.ts";
import { analyticsHrefs } from "./analytics-area/routes.ts";
import { couponsHrefs } from "./coupons-area/routes.ts";
import { customersHrefs } from "./customers-area/routes.ts";
import { dashboardHrefs } from "./dashboard-area/routes.ts";
import { pagesHrefs } from "./pages-area/routes.ts";
import { parseHash, type Route } from "./router.tsx";
import { hrefs, navigate } from "./routing.ts";
import { segmentsHrefs } from "./segments-area/routes.ts";
import { renderApp } from "./test/renderApp.tsx";

const odd = "a b/c?d#e%f&é";

describe("the route table", () => {
  it("maps every address to its page", () => {
    const table: [string, Route][] = [
      ["", { page: "journeys" }],
      ["#", { page: "journeys" }],
      ["#/", { page: "journeys" }],
      ["#/journeys", { page: "journeys" }],
      ["#/journeys/abc123", { page: "journey", id: "abc123" }],
      ["#/journeys/abc123/analytics", { page: "journeyAnalytics", id: "abc123" }],
      ["#/admin", { page: "admin", tab: "users" }],
      ["#/invite/inv_1", { page: "invite", token: "inv_1" }],
      ["#/reset/rst_1", { page: "reset", token: "rst_1" }],
      ["#/signup", { page: "signup" }],
      ["#/account", { page: "account" }],
      ["#/pages", { page: "pages" }],
      ["#/pages/pg1", { page: "landingPage", id: "pg1" }],
      ["#/customers", { page: "customers" }],
      ["#/customers/c1", { page: "customer", id: "c1" }],
      ["#/segments", { page: "segments" }],
      ["#/segments/new", { page: "segment", id: null }],
      ["#/segments/s1", { page: "segment", id: "s1" }],
      ["#/dashboard", { page: "dashboard" }],
      ["#/coupons", { page: "coupons" }],
      ["#/coupons/cp1", { page: "couponPool", id: "cp1" }],
      ...ADMIN_TABS.map((tab): [string, Route] => [`#/admin/${tab}`, { page: "admin", tab }]),
    ];
    for (const [hash, route] of table) {
      expect(parseHash(hash), hash).toEqual(route);
      // Trailing slashes are ignored, as before.
      if (hash.length > 2) {
        expect(parseHash(`${hash}/`), `${hash}/`).toEqual(route);
        expect(parseHash(`${hash}//`), `${hash}//`).toEqual(route);
      }
    }
  });

  it("round-trips every helper's address, ids decoded", () => {
    const table: [string, Route][] = [
      [hrefs.journeys(), { page: "journeys" }],
      [hrefs.journey(odd), { page: "journey", id: odd }],
      [analyticsHrefs.journey(odd), { page: "journeyAnalytics", id: odd }],
      [adminHrefs.admin(), { page: "admin", tab: "users" }],
      [adminHrefs.admin("audit"), { page: "admin", tab: "audit" }],
      [adminHrefs.invite(odd), { page: "invite", token: odd }],
      [adminHrefs.reset(odd), { page: "reset", token: odd }],
      [adminHrefs.account(), { page: "account" }],
      [adminHrefs.signup(), { page: "signup" }],
      [pagesHrefs.pages(), { page: "pages" }],
      [pagesHrefs.page(odd), { page: "landingPage", id: odd }],
      [customersHrefs.customers(), { page: "customers" }],
      [customersHrefs.customer(odd), { page: "customer", id: odd }],
      [segmentsHrefs.segments(), { page: "segments" }],
      [segmentsHrefs.newSegment(), { page: "segment", id: null }],
      [segmentsHrefs.segment(odd), { page: "segment", id: odd }],
      [segmentsHrefs.segment("new "), { page: "segment", id: "new " }],
      [dashboardHrefs.dashboard(), { page: "dashboard" }],
      [couponsHrefs.coupons(), { page: "coupons" }],
      [couponsHrefs.pool(odd), { page: "couponPool", id: odd }],
    ];
    for (const [hash, route] of table) expect(parseHash(hash), hash).toEqual(route);
    // Encoded by hand, as in e-mailed links: %2F is part of the id, not a path separator.
    expect(parseHash("#/invite/inv_a%2Fb")).toEqual({ page: "invite", token: "inv_a/b" });
    expect(parseHash("#/journeys/50%25")).toEqual({ page: "journey", id: "50%" });
    expect(parseHash("#/customers/%C3%A9")).toEqual({ page: "customer", id: "é" });
  });

  it("finds nothing else", () => {
    for (const hash of [
      "#/settings",
      "#/Journeys",
      "#/journeys/a/b",
      "#/journeys//analytics",
      "#/journeys/j1/analytics/x",
      "#/admin/nope",
      "#/admin/Users",
      "#/invite",
      "#/invite/",
      "#/reset/a/b",
      "#/signup/x",
      "#/pages/x/y",
      "#/customers/a/b",
      "#/segments/new/x",
      "#/dashboard/x",
      "#/coupons/a/b",
      "#/journeys/%E0%A4%A", // not valid percent-encoding
    ])
      expect(parseHash(hash), hash).toEqual({ page: "notFound", hash });
  });
});

const me: Me = {
  id: "u1",
  email: "ada@example.com",
  name: "Ada",
  role: "ADMIN",
  workspace: { id: "w1", name: "Shop" },
};

describe("the app's routing", () => {
  it("shows not found inside the app, and follows links and navigate()", async () => {
    window.location.hash = "#/settings";
    renderApp({ me, journeys: [] });
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeTruthy();
    expect(screen.getByRole("navigation", { name: "Main" })).toBeTruthy();
    expect(window.location.hash).toBe("#/settings");

    fireEvent.click(screen.getByRole("link", { name: "Go to journeys" }));
    expect(await screen.findByRole("heading", { name: "Journeys" })).toBeTruthy();
    expect(window.location.hash).toBe("#/journeys");
    expect(screen.getByRole("link", { name: "Journeys" }).getAttribute("aria-current")).toBe(
      "page",
    );

    act(() => navigate("#/admin/nope"));
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Journeys" }).getAttribute("aria-current")).toBeNull();

    act(() => navigate("#/"));
    expect(await screen.findByRole("heading", { name: "Journeys" })).toBeTruthy();
  });

  it("keeps the address it was given, encoded ids and trailing slashes included", async () => {
    window.location.hash = "#/invite/inv_a%2Fb%20c/";
    renderApp({ me: null });
    // Public: the invite page, not the sign-in page, without a session.
    expect(await screen.findByRole("heading", { name: "Join Postpath" })).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Sign in to Postpath" })).toBeNull();
    await waitFor(() => expect(window.location.hash).toBe("#/invite/inv_a%2Fb%20c/"));
  });

  it("shows the sign-in page on any other page without a session, not-found included", async () => {
    for (const hash of ["#/account", "#/journeys/j1", "#/settings"]) {
      window.location.hash = hash;
      const { unmount } = renderApp({ me: null });
      expect(
        await screen.findByRole("heading", { name: "Sign in to Postpath" }),
        hash,
      ).toBeTruthy();
      unmount();
    }
    window.location.hash = "#/signup";
    renderApp({ me: null });
    expect(await screen.findByRole("heading", { name: "Create a workspace" })).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Sign in to Postpath" })).toBeNull();
  });
});
