// Issue 18: a split on a saved segment read "If is in a saved segment" on the canvas until the
// step was redrawn: the workspace's segments arrive after the first draw, and the node (memoised
// on its config) did not follow them, though the step panel showed the name. The card's text and
// its accessible name must name the segment once the segments have loaded.
import type { JourneyDraft } from "@postpath/journey";
import { act, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { JourneyCanvas } from "./JourneyCanvas.tsx";
import { useSegmentDirectory } from "./segmentDirectory.ts";

const draft = {
  schemaVersion: 1,
  settings: {},
  nodes: [
    { id: "trigger", type: "trigger.event", position: { x: 0, y: 0 }, data: { event: "purchase" } },
    {
      id: "vip",
      type: "split.condition",
      position: { x: 0, y: 200 },
      data: {
        match: "all",
        conditions: [{ property: "customer.segments", op: "contains", value: "seg-vip" }],
      },
    },
    { id: "exit", type: "flow.exit", position: { x: 0, y: 400 }, data: {} },
  ],
  edges: [
    { id: "e1", source: "trigger", sourceHandle: "next", target: "vip" },
    { id: "e2", source: "vip", sourceHandle: "yes", target: "exit" },
    { id: "e3", source: "vip", sourceHandle: "no", target: "exit" },
  ],
} as unknown as JourneyDraft;

const vipNode = (container: HTMLElement) =>
  container.querySelector<HTMLElement>('.react-flow__node[data-id="vip"]');

afterEach(() => {
  useSegmentDirectory.setState({ segments: undefined });
});

describe("issue 18: a segment split's label once the segments arrive", () => {
  it("names the segment on the card and in its accessible name", async () => {
    useSegmentDirectory.setState({ segments: undefined });
    const { container } = render(<JourneyCanvas draftKey="seg@1" draft={draft} />);
    await screen.findByText("If is in a saved segment");
    expect(vipNode(container)?.getAttribute("aria-label")).toBe(
      "Condition split step, If is in a saved segment",
    );

    // The workspace's segments arrive after the first draw (segments.list).
    act(() => {
      useSegmentDirectory.setState({
        segments: [{ id: "seg-vip", name: "VIP", kind: "custom", stage: null, members: 12 }],
      });
    });
    await screen.findByText('If is in segment "VIP"');
    expect(screen.queryByText("If is in a saved segment")).toBeNull();
    await waitFor(() =>
      expect(vipNode(container)?.getAttribute("aria-label")).toBe(
        'Condition split step, If is in segment "VIP"',
      ),
    );
  });
});
