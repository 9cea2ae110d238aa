// issue 18 (item 5): far out, a journey over FAR_LAYER_MIN_NODES steps is drawn without a React
// Flow node per step — the steps are a few SVG paths — and a press on a step, hit-tested by the
// canvas, selects it and drags it (one undo step).
import { JourneyDraft } from "@postpath/journey";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { FAR_LAYER_MIN_NODES } from "./farLayer.tsx";
import { JourneyCanvas } from "./JourneyCanvas.tsx";
import { FAR_ZOOM } from "./nodes.tsx";
import { useEditorStore } from "./store.ts";

const STEPS = FAR_LAYER_MIN_NODES + 20;

/** A trigger and rows of waits, one after the other. */
const bigDraft = JourneyDraft.parse({
  schemaVersion: 1,
  settings: {},
  nodes: [
    { id: "s0", type: "trigger.event", position: { x: 0, y: 0 }, data: { event: "purchase" } },
    ...Array.from({ length: STEPS - 1 }, (_, i) => ({
      id: `s${i + 1}`,
      type: "wait.duration",
      position: { x: (i % 20) * 300, y: Math.floor(i / 20) * 200 + 200 },
      data: { amount: 1, unit: "days" },
    })),
  ],
  edges: Array.from({ length: STEPS - 1 }, (_, i) => ({
    id: `e${i}`,
    source: `s${i}`,
    target: `s${i + 1}`,
  })),
});

function viewport(container: HTMLElement): { x: number; y: number; zoom: number } {
  const t = container.querySelector<HTMLElement>(".react-flow__viewport")?.style.transform ?? "";
  const m = /translate\(([-\d.e]+)px, ?([-\d.e]+)px\) scale\(([\d.e-]+)\)/.exec(t);
  return { x: Number(m?.[1]), y: Number(m?.[2]), zoom: Number(m?.[3] ?? 1) };
}

async function zoomOutFar(container: HTMLElement) {
  for (let press = 0; press < 20 && viewport(container).zoom >= FAR_ZOOM; press++) {
    const before = viewport(container).zoom;
    fireEvent.click(screen.getByRole("button", { name: "Zoom Out" }));
    await waitFor(() => expect(viewport(container).zoom).not.toBe(before));
  }
  expect(viewport(container).zoom).toBeLessThan(FAR_ZOOM);
}

/** The screen point over a step's box (the canvas has no offset in jsdom). */
function over(container: HTMLElement, id: string) {
  const node = useEditorStore.getState().nodes.find((n) => n.id === id)!;
  const v = viewport(container);
  return {
    clientX: v.x + (node.position.x + 100) * v.zoom,
    clientY: v.y + (node.position.y + 50) * v.zoom,
  };
}

/** A pointer event (jsdom has no PointerEvent: a MouseEvent of that type carries what is read). */
function pointer(target: EventTarget, type: string, at: { clientX: number; clientY: number }) {
  act(() => {
    target.dispatchEvent(
      new MouseEvent(type, { bubbles: true, cancelable: true, button: 0, ...at }),
    );
  });
}

describe("issue 18: big journeys far out", () => {
  it("draws the steps as a few paths, not a node each; a press selects and drags a step", async () => {
    const { container } = render(<JourneyCanvas draftKey="big@1" draft={bigDraft} editable />);
    await waitFor(() => expect(useEditorStore.getState().loadedKey).toBe("big@1"));
    await zoomOutFar(container);

    await waitFor(() => expect(container.querySelector(".far-steps")).not.toBeNull());
    expect(container.querySelectorAll(".react-flow__node")).toHaveLength(0);
    const paths = [...container.querySelectorAll(".far-steps path")];
    // One path per look: the trigger, the waits (and the invalid or warned ones, if any).
    expect(paths.length).toBeLessThanOrEqual(4);
    const boxes = paths.reduce((n, p) => n + (p.getAttribute("d")?.match(/M/g)?.length ?? 0), 0);
    expect(boxes).toBe(STEPS);
    expect(container.querySelector(".far-steps__path--trigger")?.getAttribute("d")).toBe(
      "M0 0h240v124h-240z",
    );
    // The edges are still drawn as far-out lines, from the step boxes.
    expect(container.querySelector(".far-edges__path--still")?.getAttribute("d")).toContain(
      "M120 124L120 200",
    );

    // A press on a step selects it (and the click that ends it does not clear the selection).
    const pane = container.querySelector(".react-flow__pane")!;
    const at = over(container, "s5");
    pointer(pane, "pointerdown", at);
    pointer(window, "pointerup", at);
    pointer(pane, "click", at);
    const selected = () =>
      useEditorStore
        .getState()
        .nodes.filter((n) => n.selected)
        .map((n) => n.id);
    expect(selected()).toEqual(["s5"]);
    await waitFor(() =>
      expect(container.querySelector(".far-steps__path--selected")?.getAttribute("d")).toBe(
        "M1200 200h240v124h-240z",
      ),
    );

    // A drag moves its box (a frame at a time) by a transform, with its edges; the editor's
    // document changes once, at the drop, as one undo step.
    const past = useEditorStore.getState().past.length;
    const nodesBefore = useEditorStore.getState().nodes;
    const issuesBefore = useEditorStore.getState().issues;
    const zoom = viewport(container).zoom;
    pointer(pane, "pointerdown", at);
    pointer(window, "pointermove", { clientX: at.clientX + 10, clientY: at.clientY });
    pointer(window, "pointermove", {
      clientX: at.clientX + 50 * zoom,
      clientY: at.clientY + 30 * zoom,
    });
    const moving = () => container.querySelector(".far-steps__moving")!;
    await waitFor(() => expect(moving().getAttribute("transform")).toBe("translate(50 30)"));
    expect(moving().querySelector(".far-steps__path--selected")?.getAttribute("d")).toBe(
      "M1200 200h240v124h-240z",
    );
    expect(useEditorStore.getState().nodes).toBe(nodesBefore);
    // The step's edges follow: its incoming edge now ends at the moved box's top.
    const movingEdges = container.querySelector(".far-edges__path--moving")?.getAttribute("d");
    expect(movingEdges).toMatch(/L1370 230(?!\d)/);
    expect(container.querySelector(".far-edges__path--still")?.getAttribute("d")).not.toMatch(
      /L1320 200(?!\d)/,
    );
    pointer(window, "pointerup", at);
    expect(moving().getAttribute("transform")).toBeNull();
    const moved = useEditorStore.getState().nodes.find((n) => n.id === "s5")!;
    expect(moved.position).toEqual({ x: 1250, y: 230 });
    expect(moved.dragging).toBe(false);
    expect(useEditorStore.getState().past.length).toBe(past + 1);
    // A move changes no issue: the journey is not checked again (5,000 steps: a long frame).
    expect(useEditorStore.getState().issues).toBe(issuesBefore);
    act(() => useEditorStore.getState().undo());
    expect(useEditorStore.getState().nodes.find((n) => n.id === "s5")?.position).toEqual({
      x: 1200,
      y: 200,
    });

    // A press beside the steps is the pane's (it pans; the selection is kept until a click).
    const beside = over(container, "s0");
    pointer(pane, "pointerdown", { clientX: beside.clientX, clientY: beside.clientY - 200 * zoom });
    expect(selected()).toEqual(["s5"]);
  });

  it("keeps a React Flow node per step for smaller journeys far out", async () => {
    const small = {
      ...bigDraft,
      nodes: bigDraft.nodes.slice(0, 50),
      edges: bigDraft.edges.slice(0, 49),
    };
    const { container } = render(<JourneyCanvas draftKey="small@1" draft={small} />);
    await waitFor(() => expect(useEditorStore.getState().loadedKey).toBe("small@1"));
    await zoomOutFar(container);
    await waitFor(() => expect(container.querySelectorAll(".step--far")).toHaveLength(50));
    expect(container.querySelector(".far-steps")).toBeNull();
  });
});
