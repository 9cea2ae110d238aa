// Issue 13, item 9: entries a journey refused are visible — counted by reason in the operate
// panel (from the trigger step's live counts) and listed in a customer's path, in a marketer's
// words (never the reason codes).
import { JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail } from "../api/contract.ts";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

const journey: JourneyDetail = {
  id: "j13",
  name: "Refusals",
  status: "LIVE",
  draft: JourneyDraft.parse(thankYouDraft),
  draftRevision: 1,
  liveVersion: 1,
  updatedAt: "2026-11-20T10:15:00.000Z",
};

const zero = { entered: 0, waiting: 0, completed: 0, sent: 0, failed: 0, converted: 0 };

/** The server at its HTTP boundary: tRPC batch GETs answered per procedure. */
function fakeServer(handlers: Record<string, (input: unknown) => unknown>) {
  vi.stubGlobal("fetch", (url: string | URL | Request) => {
    const u = new URL(url instanceof Request ? url.url : String(url));
    const paths = decodeURIComponent(u.pathname.replace(/^\/trpc\//, "")).split(",");
    const inputs = JSON.parse(u.searchParams.get("input") ?? "{}") as Record<string, unknown>;
    const items = paths.map((path, i) => {
      const handler = handlers[path];
      if (!handler)
        return {
          error: {
            message: `no fake for ${path}`,
            code: -32004,
            data: { code: "NOT_FOUND", httpStatus: 404, path },
          },
        };
      return { result: { data: handler(inputs[String(i)]) } };
    });
    return Promise.resolve(
      new Response(JSON.stringify(items), {
        status: 200,
        headers: { "content-type": "application/json" },
      }),
    );
  });
}

describe("issue 13: refused entries in the operate panel", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("counts refusals by reason and lists a customer's refused entries in words", async () => {
    window.location.hash = "#/journeys/j13";
    fakeServer({
      "journeys.get": () => journey,
      "journeys.versions": () => [],
      "operate.nodeCounts": () => ({
        trigger: { ...zero, entered: 5, refused: { filter: 2, enteredBefore: 1 } },
      }),
      "operate.customerRuns": () => [
        {
          runId: "k1",
          status: "NOT_ENTERED",
          statusWords: "NOT_ENTERED",
          versionId: "v1",
          versionNumber: 1,
          startedAt: "2026-11-20T10:05:00.000Z",
          endedAt: "2026-11-20T10:05:00.000Z",
          currentStepId: null,
          currentStep: null,
          traces: [
            {
              at: "2026-11-20T10:05:00.000Z",
              stepId: null,
              kind: "entry.refused",
              detail: { reason: "enteredBefore", why: "entry rule: enters once", trigger: "e2" },
              stepName: null,
              text: "entry.refused",
              until: null,
            },
          ],
        },
        {
          runId: "r1",
          status: "WAITING",
          statusWords: "Waiting",
          versionId: "v1",
          versionNumber: 1,
          startedAt: "2026-11-20T10:00:00.000Z",
          endedAt: null,
          currentStepId: "w1",
          currentStep: "Wait for registration",
          traces: [
            {
              at: "2026-11-20T10:00:00.000Z",
              stepId: "w1",
              kind: "wait.scheduled",
              detail: { duration: "3 days", until: "2026-11-23T10:00:00.000Z" },
              stepName: "Wait for registration",
              text: "Waiting 3 days",
              until: "2026-11-23T10:00:00.000Z",
            },
          ],
        },
      ],
    });
    renderApp({ me: marketer, journey });

    const refused = await screen.findByRole("region", { name: "Not entered" });
    const rows = within(refused)
      .getAllByRole("term")
      .map((dt) => `${dt.textContent} ${dt.nextElementSibling?.textContent}`);
    expect(rows).toEqual(["Didn't meet the trigger's conditions 2", "Enters only once 1"]);
    expect(refused.textContent).not.toMatch(/filter|enteredBefore/);

    fireEvent.change(screen.getByLabelText("Customer id or email"), { target: { value: "ann" } });
    fireEvent.click(screen.getByRole("button", { name: "Find" }));
    const line = await screen.findByText(/Not entered .*: Enters only once/);
    expect(line.textContent).toMatch(/^v1 · Not entered/);
    // issue 18: a run's trace in words, steps named as on the canvas, no ids or raw JSON.
    const run = screen.getByText(/Waiting · entered/);
    expect(run.textContent).toMatch(/· at Wait for registration$/);
    const trace = run.closest("details")!;
    expect(trace.textContent).toMatch(/Wait for registration Waiting 3 days until /);
    expect(trace.textContent).not.toMatch(/w1|wait\.scheduled|\{/);
  });
});
