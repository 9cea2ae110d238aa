// issue 14, item 6: the funnel on a page (Pages area) and the visits/forms line on a canvas's PURL
// step, against fake APIs at the HTTP boundary.
import { JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, within } from "@testing-library/react";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail } from "../api/contract.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import type { PageFunnelData } from "./contract.ts";
import { emptyFunnel, fakePagesServer, pageDetail, letPuckTimersFire } from "./testServer.ts";

const counts = (n: Partial<PageFunnelData>) => ({ ...emptyFunnel(), ...n });

const seeded: PageFunnelData = counts({
  links: 1204,
  customers: 1190,
  visited: 530,
  visitors: 528,
  visits: 812,
  started: 300,
  submitted: 212,
  submitters: 210,
  submissions: 215,
  runs: 1204,
  reachedGoal: 90,
  steps: [
    {
      ...counts({ links: 1000, visited: 500, visits: 760, submitted: 200, reachedGoal: 85 }),
      journeyId: "j1",
      journeyName: "Machine registration",
      stepId: "card",
    },
    {
      ...counts({ links: 204, visited: 30, visits: 52, submitted: 12, reachedGoal: 5 }),
      journeyId: "j2",
      journeyName: "Second machine",
      stepId: "card",
    },
  ],
  versions: [
    { version: 2, visits: 300, visitors: 250, submissions: 100, submitters: 99 },
    { version: 1, visits: 512, visitors: 300, submissions: 115, submitters: 113 },
  ],
});

afterAll(letPuckTimersFire);
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("page funnel (issue 14)", () => {
  it("shows the page's funnel in words with rates, by journey and by version, with definitions", async () => {
    const server = fakePagesServer([pageDetail({ publishedVersion: 2 })], {
      "pages.funnel": () => seeded,
    });
    window.location.hash = "#/pages/pg1";
    renderApp({ me: marketer });
    const line = await screen.findByText(/^Cards sent \d/);
    expect(line.textContent).toBe(
      "Cards sent 1,204 → Visited 530 (44%) → Registered 212 (40%) → Reached goal 90",
    );
    expect(server.callsTo("pages.funnel").map((c) => c.input)).toContainEqual({ id: "pg1" });

    fireEvent.click(line);
    const [byJourney, byVersion] = screen.getAllByRole("table");
    const rows = (table: HTMLElement) =>
      within(table)
        .getAllByRole("row")
        .slice(1)
        .map((r) => [...r.children].map((c) => c.textContent));
    expect(rows(byJourney!)).toEqual([
      ["Machine registration", "1,000", "500 (50%)", "200 (40%)", "85"],
      ["Second machine", "204", "30 (14.7%)", "12 (40%)", "5"],
    ]);
    expect(within(byJourney!).getByRole("link", { name: "Machine registration" })).toBeTruthy();
    expect(rows(byVersion!)).toEqual([
      ["Version 2", "250", "300", "100"],
      ["Version 1", "300", "512", "115"],
    ]);
    // Unique vs total, and what each stage means.
    expect(screen.getByText(/812 total\s+visits/)).toBeTruthy();
    expect(screen.getAllByText("Started the form")[0]?.nextElementSibling?.textContent).toBe("300");
    expect(screen.getByText(/each customer's link counts once \(unique\)/)).toBeTruthy();
    expect(
      screen.getByText(/A double click or a reload of the form is one submission/),
    ).toBeTruthy();
  });

  it("a page nobody was sent yet shows zeros without rates", async () => {
    fakePagesServer([pageDetail()]);
    window.location.hash = "#/pages/pg1";
    renderApp({ me: marketer });
    const line = await screen.findByText(/^Cards sent \d/);
    expect(line.textContent).toBe("Cards sent 0 → Visited 0 → Registered 0 → Reached goal 0");
  });

  it("a PURL step on the canvas shows its visits and forms from the live counts", async () => {
    const journey: JourneyDetail = {
      id: "j1",
      name: "Machine registration",
      status: "LIVE",
      draft: JourneyDraft.parse({
        schemaVersion: 1,
        settings: {},
        nodes: [
          {
            id: "trigger",
            type: "trigger.event",
            position: { x: 0, y: 0 },
            data: { event: "purchase", filters: [] },
          },
          {
            id: "card",
            type: "action.purl",
            position: { x: 0, y: 150 },
            data: { page: "register-machine" },
          },
          { id: "exit", type: "flow.exit", position: { x: 0, y: 300 }, data: {} },
        ],
        edges: [
          { id: "e1", source: "trigger", target: "card" },
          { id: "e2", source: "card", target: "exit" },
        ],
      }),
      draftRevision: 1,
      liveVersion: 1,
      updatedAt: "2026-11-20T10:15:00.000Z",
    };
    const zero = { entered: 0, waiting: 0, completed: 0, sent: 0, failed: 0, converted: 0 };
    fakePagesServer([], {
      "journeys.get": () => journey,
      "journeys.versions": () => [],
      "operate.nodeCounts": () => ({
        trigger: { ...zero, entered: 1204 },
        card: {
          ...zero,
          entered: 1204,
          sent: 1204,
          page: { links: 1204, visited: 530, visits: 530, submitted: 212 },
        },
      }),
    });
    window.location.hash = "#/journeys/j1";
    renderApp({ me: marketer, journey });
    const line = await screen.findByText("530 visits · 212 forms");
    expect(line.closest("[data-step-type]")?.getAttribute("data-step-type")).toBe("action.purl");
    expect(line.getAttribute("title")).toContain(
      "Of 1,204 personal links: 530 opened at least once",
    );
    // Only the PURL step has the line.
    expect(screen.getAllByText(/visits · .* forms/)).toHaveLength(1);
  });
});
