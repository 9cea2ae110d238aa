// issue 17, item 6: the KPI dashboard against a fake API at the HTTP boundary: the key figures
// with the rule behind each, the revenue-per-day and second-purchase tables (and their CSV
// downloads), the range asked for, and the server's refusal of a range shown.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderApp } from "../test/renderApp.tsx";
import { stubTrpc } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";
import type { WorkspaceKpis } from "./contract.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

const bucket = (label: string, minDays: number, maxDays: number | null, customers = 0) => ({
  label,
  minDays,
  maxDays,
  customers,
});

const kpis: WorkspaceKpis = {
  orders: 7,
  revenue: 235,
  averageOrderValue: 235 / 7,
  customersWhoOrdered: 5,
  repeatCustomers: 3,
  repeatPurchaseRate: 0.6,
  secondPurchase: {
    customers: 2,
    medianDays: 8.5,
    buckets: [
      bucket("within a week", 0, 7, 1),
      bucket("8–14 days", 8, 14),
      bucket("15–30 days", 15, 30, 1),
      bucket("over a year", 366, null),
    ],
  },
  influenced: { journeyOrders: 2, journeyRevenue: 110, otherOrders: 5, otherRevenue: 125 },
  daily: [
    { day: "2026-11-03", orders: 1, revenue: 40, journeyRevenue: 40 },
    { day: "2026-11-10", orders: 2, revenue: 30, journeyRevenue: 0 },
  ],
  currency: "EUR",
  definitions: {
    orders: "Orders placed in the range, each order id counted once.",
    averageOrderValue: "Revenue of the range's orders divided by their number.",
    repeatPurchaseRate: "Of the customers who ordered in the range, the share with two or more.",
    secondPurchase: "Days from the first order to the second.",
    influenced: "Orders credited to a journey within its attribution window.",
  },
};

const rowsOf = (table: HTMLElement) =>
  within(table)
    .getAllByRole("row")
    .slice(1)
    .map((r) =>
      within(r)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    );

/** What "Download CSV" hands the browser: the file name and the text. */
function captureDownloads(): { name: string; text: Promise<string> }[] {
  const files: { name: string; text: Promise<string> }[] = [];
  const blobs = new Map<string, Blob>();
  vi.stubGlobal("URL", {
    ...URL,
    createObjectURL: (b: Blob) => {
      const url = `blob:${blobs.size}`;
      blobs.set(url, b);
      return url;
    },
    revokeObjectURL: () => undefined,
  });
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (
    this: HTMLAnchorElement,
  ) {
    files.push({ name: this.download, text: blobs.get(this.href)!.text() });
  });
  return files;
}

describe("KPI dashboard", () => {
  it("shows the key figures with their rules, per-day revenue and time to second purchase", async () => {
    const calls = stubTrpc({ "auth.me": () => marketer, "kpis.workspace": () => kpis });
    window.location.hash = "#/dashboard";
    renderApp({ me: marketer });
    const cards = await screen.findByRole("list", { name: "Key figures" });
    const card = (label: string) => within(cards).getByText(label).closest("li")!.textContent ?? "";
    expect(card("Repeat-purchase rate")).toMatch(/^Repeat-purchase rate60\.0%3 of 5 customers/);
    expect(card("Time to second purchase (median)")).toMatch(/8\.5 days2 second orders/);
    expect(card("Average order value")).toMatch(
      /€\s?33[.,]57.*7 orders · €\s?235[.,]00 revenue|33[.,]57\s?€.*7 orders · 235[.,]00\s?€ revenue/,
    );
    expect(card("Revenue influenced by journeys")).toMatch(
      /46\.8%(€\s?110[.,]00|110[.,]00\s?€) from 2\s+orders/,
    );
    expect(card("Repeat-purchase rate")).toContain("the share with two or more");

    expect(rowsOf(screen.getByRole("table", { name: "Orders per day" }))).toEqual([
      [
        "2026-11-03",
        "1",
        expect.stringMatching(/^(€\s?40[.,]00|40[.,]00\s?€)$/),
        expect.stringMatching(/^(€\s?40[.,]00|40[.,]00\s?€)$/),
      ],
      [
        "2026-11-10",
        "2",
        expect.stringMatching(/^(€\s?30[.,]00|30[.,]00\s?€)$/),
        expect.stringMatching(/^(€\s?0[.,]00|0[.,]00\s?€)$/),
      ],
    ]);
    expect(
      rowsOf(screen.getByRole("table", { name: "Customers by days to their second order" })),
    ).toEqual([
      ["within a week", "1"],
      ["8–14 days", "0"],
      ["15–30 days", "1"],
      ["over a year", "0"],
    ]);
    expect(
      screen.getByRole("figure", { name: "Revenue per day, journeys and other orders" }),
    ).toBeTruthy();

    // The last 90 days by default (both ends included).
    const asked = calls.find((c) => c.path === "kpis.workspace")?.input as {
      from: string;
      to: string;
    };
    expect((Date.parse(asked.to) - Date.parse(asked.from)) / 86_400_000).toBe(89);
    fireEvent.click(screen.getByRole("button", { name: "Last 30 days" }));
    await waitFor(() => {
      const last = calls.filter((c) => c.path === "kpis.workspace").at(-1)?.input as {
        from: string;
        to: string;
      };
      expect((Date.parse(last.to) - Date.parse(last.from)) / 86_400_000).toBe(29);
    });
  });

  it("downloads each table as CSV", async () => {
    stubTrpc({ "auth.me": () => marketer, "kpis.workspace": () => kpis });
    window.location.hash = "#/dashboard";
    renderApp({ me: marketer });
    await screen.findByRole("table", { name: "Orders per day" });
    const files = captureDownloads();
    for (const button of screen.getAllByRole("button", { name: "Download CSV" }))
      fireEvent.click(button);
    expect(files.map((f) => f.name)).toEqual([
      expect.stringMatching(/^orders-per-day-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/),
      expect.stringMatching(/^second-purchase-.*\.csv$/),
    ]);
    expect(await files[0]!.text).toBe(
      "day,orders,revenue,influenced_by_journeys\n2026-11-03,1,40,40\n2026-11-10,2,30,0\n",
    );
    expect(await files[1]!.text).toBe(
      "days_from,days_to,customers\n0,7,1\n8,14,0\n15,30,1\n366,,0\n",
    );
  });

  it("shows the server's refusal of a range, and says so when there are no orders", async () => {
    stubTrpc({
      "auth.me": () => marketer,
      "kpis.workspace": (input) => {
        const { from } = input as { from: string };
        if (from < "2000-01-01")
          throw new Error("Choose at most 731 days: to is 9000 days after from");
        return { ...kpis, orders: 0, revenue: 0, averageOrderValue: null, daily: [] };
      },
    });
    window.location.hash = "#/dashboard";
    renderApp({ me: marketer });
    expect(await screen.findByText("No orders in this range.")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "1999-01-01" } });
    expect((await screen.findByRole("alert")).textContent).toContain("Choose at most 731 days");
    expect(
      within(screen.getByRole("navigation", { name: "Main" }))
        .getByRole("link", { name: "Dashboard" })
        .getAttribute("aria-current"),
    ).toBe("page");
  });

  it("shows customers by lifecycle stage with each stage's rule, or how to set the stages up", async () => {
    const stages = [
      ["new", 120, "First purchase in the last 30 days"],
      ["repeat", 45, "2 or more purchases in the last 365 days"],
      ["active", 300, "A purchase in the last 90 days"],
      ["at_risk", 80, "Last purchase 90–180 days ago"],
      ["lapsed", 510, "No purchase for 180 days"],
    ] as const;
    stubTrpc({
      "auth.me": () => marketer,
      "kpis.workspace": () => kpis,
      "segments.lifecycle.get": () => ({
        settings: {},
        enabled: true,
        stages: stages.map(([stage, members, rule]) => ({
          stage,
          members,
          rule,
          segmentId: `seg-${stage}`,
        })),
      }),
    });
    window.location.hash = "#/dashboard";
    renderApp({ me: marketer });
    const table = await screen.findByRole("table", { name: "Customers per lifecycle stage" });
    expect(rowsOf(table)).toEqual([
      ["New", "120", "First purchase in the last 30 days"],
      ["Repeat", "45", "2 or more purchases in the last 365 days"],
      ["Active", "300", "A purchase in the last 90 days"],
      ["At risk", "80", "Last purchase 90–180 days ago"],
      ["Lapsed", "510", "No purchase for 180 days"],
    ]);
    expect(screen.getByRole("figure", { name: "Customers per lifecycle stage, now" })).toBeTruthy();
  });

  it("says how to set the lifecycle stages up when the workspace has none", async () => {
    stubTrpc({
      "auth.me": () => marketer,
      "kpis.workspace": () => kpis,
      "segments.lifecycle.get": () => ({ settings: {}, enabled: false, stages: [] }),
    });
    window.location.hash = "#/dashboard";
    renderApp({ me: marketer });
    expect(await screen.findByText(/Lifecycle stages are not set up yet/)).toBeTruthy();
    const section = screen.getByRole("region", { name: "Customers by lifecycle stage" });
    expect(within(section).getByRole("link", { name: "Segments" }).getAttribute("href")).toBe(
      "#/segments",
    );
    expect(screen.queryByRole("table", { name: "Customers per lifecycle stage" })).toBeNull();
  });
});
