// issue 17: the journey analytics page against a fake API at the HTTP boundary (testServer.ts) —
// the per-step table with names as drawn per version or all versions added up, the per-day chart
// over a chosen range (the server's refusal shown), and the A/B tests with the rule stated.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { experiments, fakeAnalyticsServer } from "./testServer.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

const rowsOf = (table: HTMLElement) =>
  within(table)
    .getAllByRole("row")
    .slice(1)
    .map((r) =>
      within(r)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    );

describe("Journey analytics page", () => {
  it("shows figures per step for all versions added up, or one version", async () => {
    fakeAnalyticsServer();
    window.location.hash = "#/journeys/j1/analytics";
    renderApp({ me: marketer });
    expect(
      await screen.findByRole("heading", { name: "Analytics: Post-purchase", level: 1 }),
    ).toBeTruthy();
    const table = await screen.findByRole("table", { name: "Figures per step" });
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual([
      "Step",
      "Entered",
      "Waiting now",
      "Sent",
      "Failed",
      "Converted",
      "Conversion rate",
      "Delivered",
      "Opened",
      "Clicked",
      "Attributed conversions",
      "Revenue",
      "Revenue per recipient",
    ]);
    const first7 = (rows: (string | null)[][]) => rows.map((r) => r.slice(0, 7));
    expect(first7(rowsOf(table))).toEqual([
      ["Placed an order · When an event happens", "100", "0", "0", "0", "0", "0%"],
      ["Thank-you test · Random split", "40", "0", "0", "0", "0", "0%"],
      ["Thank-you email · Send email", "100", "0", "98", "2", "15", "15%"],
      ["Wait", "38", "12", "0", "0", "0", "0%"],
    ]);
    // issue 17: delivered, unique opens and clicks with their rate, attributed conversions, revenue.
    const mail = rowsOf(table)[2]!.slice(7);
    expect(mail.slice(0, 4)).toEqual(["98", "49 · 50%", "20 · 20.4%", "12"]);
    // In the workspace's currency (EUR here), in the viewer's locale.
    expect(mail[4]).toMatch(/^(€\s?540[.,]00|540[.,]00\s?€)$/);
    expect(mail[5]).toMatch(/^(€\s?5[.,]40|5[.,]40\s?€)$/);
    expect(
      screen.getByText(/How conversions and revenue are attributed:/).closest("p")?.textContent,
    ).toContain("within the attribution window");
    expect(
      screen.getByRole("link", { name: "Download this table (CSV)" }).getAttribute("href"),
    ).toBe("/exports/journeys/j1/analytics/steps.csv");
    fireEvent.change(screen.getByLabelText("Figures of"), { target: { value: "v1" } });
    await waitFor(() =>
      expect(first7(rowsOf(screen.getByRole("table", { name: "Figures per step" })))).toEqual([
        ["Placed an order · When an event happens", "60", "0", "0", "0", "0", "0%"],
        ["Send email", "60", "0", "60", "0", "5", "8.3%"],
      ]),
    );
    // issue 18: version 1 had customers moved out by a live edit; the column appears for it.
    const v1 = screen.getByRole("table", { name: "Figures per step" });
    expect(within(v1).getAllByRole("columnheader").at(-1)?.textContent).toBe(
      "Moved by a live edit",
    );
    expect(rowsOf(v1).map((r) => r.at(-1))).toEqual(["—", "4 out"]);
    expect(screen.getByText("How these figures are counted")).toBeTruthy();
    expect(screen.getByRole("link", { name: "← Back to the journey" }).getAttribute("href")).toBe(
      "#/journeys/j1",
    );
  });

  it("charts entries, sends and conversions per day over the chosen range", async () => {
    const server = fakeAnalyticsServer();
    window.location.hash = "#/journeys/j1/analytics";
    renderApp({ me: marketer });
    fireEvent.mouseDown(await screen.findByRole("tab", { name: "Per day" }));
    expect(
      await screen.findByRole("figure", { name: "Entries, sends and conversions per day" }),
    ).toBeTruthy();
    // Last 30 days by default: 30 days of 2 entries, 3 sends, 1 conversion, 10 revenue.
    expect(screen.getByLabelText("Totals of the range").textContent).toMatch(
      /^60 entries · 90 messages sent · 30 conversions · (€\s?300[.,]00|300[.,]00\s?€) revenue$/,
    );
    const first = server.callsTo("analytics.daily")[0]?.input as { from: string; to: string };
    expect((Date.parse(first.to) - Date.parse(first.from)) / 86_400_000).toBe(29);
    fireEvent.click(screen.getByRole("button", { name: "Last 7 days" }));
    await waitFor(() =>
      expect(screen.getByLabelText("Totals of the range").textContent).toMatch(/^14 entries/),
    );
    // issue 17: the attribution rule where the figures are shown, and the CSV of the range.
    const caption = screen.getByText(/Conversions and revenue: attributed conversions/);
    expect(caption.textContent).toContain("within the attribution window");
    expect(
      within(caption).getByRole("link", { name: "Download (CSV)" }).getAttribute("href"),
    ).toMatch(/^\/exports\/journeys\/j1\/analytics\/daily\.csv\?from=\d{4}-\d\d-\d\d&to=/);

    // A range the server refuses: its message, naming the field, is shown.
    fakeAnalyticsServer({
      "analytics.daily": () => {
        throw new Error("Choose at most 366 days: to is 400 days after from");
      },
    });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2024-01-01" } });
    expect((await screen.findByRole("alert")).textContent).toContain("Choose at most 366 days");
  });

  it("shows each A/B test's variants, the rule behind the verdict and the progress", async () => {
    fakeAnalyticsServer();
    window.location.hash = "#/journeys/j1/analytics";
    renderApp({ me: marketer });
    fireEvent.mouseDown(await screen.findByRole("tab", { name: "A/B tests" }));
    const test = await screen.findByRole("article", { name: "“Thank-you test” (version 2)" });
    expect(within(test).getByText(/Collecting: 16 of 6,000\s+recipients/)).toBeTruthy();
    expect(within(test).getByRole("progressbar")).toBeTruthy();
    expect(within(test).getByText(/Fixed horizon: 6,000 recipients per variant/)).toBeTruthy();
    const table = within(test).getByRole("table");
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual([
      "Variant",
      "Recipients",
      "Conversion rate (95 % interval)",
      "Revenue per recipient",
      "Uplift vs Holdout",
      "Chance to be best",
    ]);
    const plain = within(table).getByRole("row", { name: /^Plain/ });
    expect(
      within(plain)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    ).toEqual([
      "16",
      "25.0% (5.0% – 40.0%)",
      expect.stringMatching(/^(€\s?4[.,]50|4[.,]50\s?€)$/),
      "+25.0%",
      "61%",
    ]);
    expect(
      within(within(table).getByRole("row", { name: /^Holdout/ })).getByText("Baseline"),
    ).toBeTruthy();
    expect(within(test).queryByRole("alert")).toBeNull();
  });

  it("warns when the split is not what was configured", async () => {
    const [first] = experiments;
    fakeAnalyticsServer({
      "analytics.experiments": () => [
        {
          ...first,
          report: {
            ...first!.report,
            verdict: { kind: "sampleRatioMismatch", pValue: 0.00001 },
            summary: "Check the split: recipients are not divided as configured (p = 1.0e-5).",
          },
        },
      ],
    });
    window.location.hash = "#/journeys/j1/analytics";
    renderApp({ me: marketer });
    fireEvent.mouseDown(await screen.findByRole("tab", { name: "A/B tests" }));
    expect((await screen.findByRole("alert")).textContent).toContain(
      "not divided as the split is set up",
    );
    expect(screen.queryByText(/Collecting:/)).toBeNull();
  });
});
