// issue 18 item 5: a big journey's first check runs in a worker (validateOffThread.ts). Its
// answer is applied unless a check on the main thread came after it was asked; without a worker
// (null) the store checks on the main thread.
import type { JourneyDraft, ValidationIssue } from "@postpath/journey";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkDoc, useEditorStore } from "./store.ts";

const asked: {
  draft: JourneyDraft;
  answer: (issues: ValidationIssue[] | null) => void;
}[] = [];
vi.mock("./validateOffThread.ts", () => ({
  validateOffThread: (draft: JourneyDraft) =>
    new Promise<ValidationIssue[] | null>((answer) => asked.push({ draft, answer })),
}));

/** A trigger and 320 exits it does not reach: over the 300 steps checked after the first draw. */
const bigDraft = {
  schemaVersion: 1,
  settings: {},
  nodes: [
    { id: "start", type: "trigger.event", position: { x: 0, y: 0 }, data: { event: "order" } },
    ...Array.from({ length: 320 }, (_, i) => ({
      id: `exit-${i}`,
      type: "flow.exit",
      position: { x: 300 * (i % 20), y: 200 + 200 * Math.floor(i / 20) },
      data: {},
    })),
  ],
  edges: [{ id: "e0", source: "start", sourceHandle: "next", target: "exit-0" }],
} as unknown as JourneyDraft;

const fromWorker: ValidationIssue = {
  code: "test.worker",
  message: "From the worker",
  nodeId: "start",
};

const store = () => useEditorStore.getState();

afterEach(() => {
  asked.length = 0;
});

describe("a big journey's first check in a worker (issue 18)", () => {
  it("shows the worker's answer", async () => {
    store().load("w1", bigDraft);
    expect(store().issues).toEqual([]);
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    expect(asked[0]!.draft.nodes).toHaveLength(321);
    asked[0]!.answer([fromWorker]);
    await vi.waitFor(() => expect(store().issuesByNode.start).toEqual([fromWorker]));
    expect(store().errorCount).toBe(1);
  });

  it("keeps a main-thread check made while the worker was busy", async () => {
    store().load("w2", bigDraft);
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    // An edit: checked at once on the main thread (the language is loaded by now).
    store().removeElements(["exit-319"], []);
    const checked = store().issues;
    expect(checked.length).toBeGreaterThan(0);
    asked[0]!.answer([fromWorker]);
    await new Promise((r) => setTimeout(r, 20));
    expect(store().issues).toBe(checked);
    expect(store().issuesByNode.start).not.toEqual([fromWorker]);
  });

  it("checks on the main thread when there is no worker", async () => {
    store().load("w3", bigDraft);
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    asked[0]!.answer(null);
    await vi.waitFor(() => expect(store().issues.length).toBeGreaterThan(0));
    expect(store().issues).toEqual(checkDoc(store(), store().catalog).issues);
  });
});
