import { JourneyDraft } from "@postpath/journey";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import { JourneyCanvas } from "./JourneyCanvas.tsx";
import { FAR_ZOOM } from "./nodes.tsx";
import { useEditorStore } from "./store.ts";

function nodeElement(container: HTMLElement, id: string): HTMLElement {
  const el = container.querySelector<HTMLElement>(`.react-flow__node[data-id="${id}"]`);
  if (!el) throw new Error(`node ${id} was not drawn`);
  return el;
}

function zoomOf(container: HTMLElement): number {
  const transform = container.querySelector<HTMLElement>(".react-flow__viewport")?.style.transform;
  return Number(/scale\(([\d.]+)\)/.exec(transform ?? "")?.[1] ?? NaN);
}

/** How many straight segments an SVG path of "M x y L x y" pieces draws. */
function segments(path: Element | null | undefined): number {
  return path?.getAttribute("d")?.match(/M/g)?.length ?? 0;
}

/** Presses the canvas control (Zoom In / Zoom Out, ×1.2 a press) until `done` holds. */
async function zoomUntil(container: HTMLElement, control: string, done: (zoom: number) => boolean) {
  for (let press = 0; press < 20 && !done(zoomOf(container)); press++) {
    const before = zoomOf(container);
    fireEvent.click(screen.getByRole("button", { name: control }));
    await waitFor(() => expect(zoomOf(container)).not.toBe(before));
  }
  expect(done(zoomOf(container))).toBe(true);
}

describe("JourneyCanvas", () => {
  it("draws every step of the draft with its type label and summary", async () => {
    const { container } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");

    expect(container.querySelectorAll(".react-flow__node")).toHaveLength(
      thankYouDraft.nodes.length,
    );
    expect(nodeElement(container, "trigger").textContent).toContain("Event trigger");
    expect(nodeElement(container, "wait").textContent).toContain("Wait 30 seconds");
    expect(nodeElement(container, "email").textContent).toContain("Email: Thanks {{ first_name }}");
    expect(nodeElement(container, "exit").textContent).toContain("Exit journey");
    expect(nodeElement(container, "big-order").querySelector(".step--split")).not.toBeNull();
  });

  it("gives a split one labelled source handle per branch, and triggers no target handle", async () => {
    const { container } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");

    const split = nodeElement(container, "big-order");
    const sources = [...split.querySelectorAll<HTMLElement>(".react-flow__handle.source")];
    expect(sources.map((h) => h.dataset.handleid)).toEqual(["yes", "no"]);
    // A tooltip, not aria-label: a handle has no role that allows one (axe aria-prohibited-attr).
    expect(sources.map((h) => h.getAttribute("aria-label"))).toEqual([null, null]);
    expect(sources.map((h) => h.getAttribute("title"))).toEqual([
      "Condition split branch: Yes",
      "Condition split branch: No",
    ]);
    expect(split.textContent).toContain("Yes");

    const trigger = nodeElement(container, "trigger");
    expect(trigger.querySelectorAll(".react-flow__handle.target")).toHaveLength(0);
    expect(trigger.querySelectorAll(".react-flow__handle.source")).toHaveLength(1);
    expect(
      nodeElement(container, "exit").querySelectorAll(".react-flow__handle.source"),
    ).toHaveLength(0);
  });

  it("gives a goal an optional output and no input: its event is how a run gets there", async () => {
    const { container } = render(
      <JourneyCanvas
        draftKey="goal@1"
        draft={JourneyDraft.parse({
          schemaVersion: 1,
          settings: {},
          nodes: [
            {
              id: "g",
              type: "flow.goal",
              position: { x: 0, y: 0 },
              data: { event: "review_left", filters: [] },
            },
          ],
          edges: [],
        })}
      />,
    );
    await screen.findByText("Goal: review_left");
    const goal = nodeElement(container, "g");
    expect(goal.querySelectorAll(".react-flow__handle.target")).toHaveLength(0);
    expect(
      goal.querySelectorAll(".step__branch--optional .react-flow__handle.source"),
    ).toHaveLength(1);
  });

  it("replaces the drawing when another journey is shown", async () => {
    const { container, rerender } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");

    rerender(
      <JourneyCanvas
        draftKey="j2@1"
        draft={JourneyDraft.parse({
          schemaVersion: 1,
          settings: {},
          nodes: [
            {
              id: "t",
              type: "trigger.segment",
              position: { x: 0, y: 0 },
              data: { conditions: [{ property: "vip", op: "eq", value: true }] },
            },
          ],
          edges: [],
        })}
      />,
    );
    await screen.findByText("Segment: vip equals true");
    expect(
      [...container.querySelectorAll<HTMLElement>(".react-flow__node")].map((n) => n.dataset.id),
    ).toEqual(["t"]);
  });

  it("draws far-out steps as plain boxes and the edges as one path, and full cards again at zoom 1", async () => {
    const { container } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");
    expect(zoomOf(container)).toBe(1);

    await zoomUntil(container, "Zoom Out", (zoom) => zoom < FAR_ZOOM);
    await waitFor(() => expect(container.querySelectorAll(".step--far")).toHaveLength(5));
    const split = nodeElement(container, "big-order");
    expect(split.querySelector(".step--far.step--split")).not.toBeNull();
    // No text, badges or handles: only the box (the node keeps its accessible name).
    expect(split.textContent).toBe("");
    expect(container.querySelectorAll(".react-flow__handle")).toHaveLength(0);
    expect(split.getAttribute("aria-label")).toBe(
      "Condition split step, If event.total is greater than 100",
    );
    // React Flow draws no edges; the four are straight segments of one path.
    expect(container.querySelectorAll(".react-flow__edge")).toHaveLength(0);
    const paths = [...container.querySelectorAll(".far-edges path")];
    expect(paths).toHaveLength(1);
    expect(segments(paths[0])).toBe(4);

    await zoomUntil(container, "Zoom In", (zoom) => zoom >= 1);
    await screen.findByText("Event: purchase");
    expect(container.querySelectorAll(".step--far")).toHaveLength(0);
    expect(container.querySelector(".far-edges")).toBeNull();
    expect(nodeElement(container, "big-order").textContent).toContain("Condition split");
    expect(
      nodeElement(container, "big-order").querySelectorAll(".react-flow__handle.source"),
    ).toHaveLength(2);
  });

  it("keeps a test run's path visible far out: visited steps and edges green, skipped ones faded", async () => {
    const { container } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");
    act(() =>
      useEditorStore.getState().setHighlight({
        path: ["trigger", "wait", "big-order", "email"],
        notes: { trigger: ["entered"], wait: ["waited"], "big-order": ["yes"], email: ["sent"] },
      }),
    );

    await zoomUntil(container, "Zoom Out", (zoom) => zoom < FAR_ZOOM);
    await waitFor(() => expect(container.querySelectorAll(".step--far")).toHaveLength(5));
    expect(
      nodeElement(container, "email").querySelector(".step--far.step--visited"),
    ).not.toBeNull();
    expect(nodeElement(container, "exit").querySelector(".step--far.step--skipped")).not.toBeNull();
    expect(segments(container.querySelector(".far-edges__path--visited"))).toBe(3);
    expect(segments(container.querySelector(".far-edges__path--still"))).toBe(1);
  });
});
