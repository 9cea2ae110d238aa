// Issue 18: a big journey (over 300 steps) is checked a moment after its first draw, in a worker
// (canvas/validateOffThread.ts). Until the worker has answered, no problems are known — not none
// found — so "Publish…" must not be offered (it was, briefly: the server refuses an invalid
// journey, but the editor should not offer it). Here the worker answers only when the test says.
import type { JourneyDraft, ValidationIssue } from "@postpath/journey";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail } from "../api/contract.ts";
import { useEditorStore } from "../canvas/store.ts";
import { renderApp } from "../test/renderApp.tsx";
import { stubTrpc as fakeServer } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";

// The checks asked of the worker, unanswered; once `answerAll` has been called, it answers every
// later one at once with the same issues (the catalogue arriving asks again).
const asked: ((issues: ValidationIssue[] | null) => void)[] = [];
let answering: ValidationIssue[] | null | undefined;
vi.mock("../canvas/validateOffThread.ts", () => ({
  validateOffThread: () =>
    new Promise<ValidationIssue[] | null>((answer) => {
      if (answering !== undefined) answer(answering);
      else asked.push(answer);
    }),
}));
function answerAll(issues: ValidationIssue[]) {
  answering = issues;
  for (const answer of asked.splice(0)) answer(issues);
}

/** A trigger and a chain of 320 tag steps to an exit: checked in the worker after the first draw. */
function bigDraft(): JourneyDraft {
  const tags = Array.from({ length: 320 }, (_, i) => ({
    id: `tag-${i}`,
    type: "action.tag",
    position: { x: 300 * (i % 20), y: 200 + 200 * Math.floor(i / 20) },
    data: { add: ["vip"], remove: [] },
  }));
  const ids = ["start", ...tags.map((t) => t.id), "exit"];
  return {
    schemaVersion: 1,
    settings: {},
    nodes: [
      { id: "start", type: "trigger.event", position: { x: 0, y: 0 }, data: { event: "order" } },
      ...tags,
      { id: "exit", type: "flow.exit", position: { x: 0, y: 5000 }, data: {} },
    ],
    edges: ids
      .slice(1)
      .map((target, i) => ({ id: `e${i}`, source: ids[i]!, sourceHandle: "next", target })),
  } as unknown as JourneyDraft;
}

const journey: JourneyDetail = {
  id: "j-big",
  name: "Big journey",
  status: "DRAFT",
  draft: bigDraft(),
  draftRevision: 1,
  liveVersion: null,
  updatedAt: "2025-11-20T10:15:00.000Z",
};

const publishButton = () => screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" });

describe("issue 18: Publish waits for a big journey's first check", () => {
  beforeEach(() => {
    window.location.hash = "#/journeys/j-big";
    asked.length = 0;
    answering = undefined;
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("is not offered until the worker has answered, then is", async () => {
    fakeServer({ "auth.me": () => marketer, "journeys.get": () => journey });
    renderApp({ me: marketer, journey });
    await screen.findByRole("heading", { name: "Big journey" });
    await waitFor(() => expect(useEditorStore.getState().loadedKey).toBe("j-big@1"));
    // The check has been asked of the worker, which has not answered.
    await waitFor(() => expect(asked.length).toBeGreaterThan(0));
    expect(useEditorStore.getState().issues).toEqual([]);
    expect(publishButton().disabled).toBe(true);
    expect(publishButton().title).toBe("Checking the journey for problems…");
    // The problems tab says so too (not "No problems: this journey can be published").
    fireEvent.click(screen.getByRole("tab", { name: "Problems" }));
    await screen.findByText("Checking the journey for problems…", { selector: "p" });

    answerAll([]);
    await waitFor(() => expect(publishButton().disabled).toBe(false));
    expect(publishButton().title).toBe("");
    await screen.findByText("No problems: this journey can be published.");
  });

  it("stays unavailable when the worker finds an error", async () => {
    const revised = { ...journey, draftRevision: 2 };
    fakeServer({ "auth.me": () => marketer, "journeys.get": () => revised });
    renderApp({ me: marketer, journey: revised });
    await waitFor(() => expect(useEditorStore.getState().loadedKey).toBe("j-big@2"));
    await waitFor(() => expect(asked.length).toBeGreaterThan(0));
    expect(publishButton().disabled).toBe(true);
    answerAll([{ code: "test.error", message: "Something is wrong", nodeId: "tag-3" }]);
    await waitFor(() => expect(useEditorStore.getState().checking).toBe(false));
    expect(publishButton().disabled).toBe(true);
    expect(publishButton().title).toBe("Fix the problems first");
  });
});
