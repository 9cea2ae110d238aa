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
import { stepAriaLabel } from "./toFlow.ts";

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

/** A pointer event React Flow's pane reads as a primary pointer's (its selection box checks). */
function primary(target: EventTarget, type: string, at: { clientX: number; clientY: number }) {
  act(() => {
    const event = new MouseEvent(type, { bubbles: true, cancelable: true, button: 0, ...at });
    Object.defineProperties(event, { isPrimary: { value: true }, pointerId: { value: 1 } });
    target.dispatchEvent(event);
  });
}

/** A key pressed and let go (React Flow's key handling keeps the keys held down). */
function press(target: Element, init: { key: string; shiftKey?: boolean; ctrlKey?: boolean }) {
  const taken = !fireEvent.keyDown(target, init);
  fireEvent.keyUp(target, init);
  return taken;
}

const selectedIds = () =>
  useEditorStore
    .getState()
    .nodes.filter((n) => n.selected)
    .map((n) => n.id);

describe("issue 18: far-drawn steps by keyboard and selection box", () => {
  it("Tab goes from step to step with a focus ring; Enter selects; arrows move; Delete removes", async () => {
    const { container } = render(<JourneyCanvas draftKey="keys@1" draft={bigDraft} editable />);
    await waitFor(() => expect(useEditorStore.getState().loadedKey).toBe("keys@1"));
    await zoomOutFar(container);
    const label = (id: string) => {
      const n = useEditorStore.getState().nodes.find((node) => node.id === id)!;
      return stepAriaLabel(n.data.stepType, n.data.config);
    };

    // One tab stop stands for the steps; focused, it has reached the first step, drawn with a ring.
    const keys = await screen.findByRole("group", { name: label("s0") });
    expect(keys.getAttribute("tabindex")).toBe("0");
    expect(container.querySelector(".far-steps__focus")).toBeNull();
    act(() => keys.focus());
    const ring = () => container.querySelector(".far-steps__focus");
    await waitFor(() => expect(ring()?.getAttribute("data-step")).toBe("s0"));
    const zoom = viewport(container).zoom;
    // Around the box (0, 0, 240 × 124), 3 px away on screen at this zoom, plus half the stroke.
    expect(Number(ring()!.getAttribute("x"))).toBeCloseTo(-4.5 / zoom, 3);
    expect(Number(ring()!.getAttribute("width"))).toBeCloseTo(240 + 9 / zoom, 3);

    // Tab: the next step (named, the ring moves with it); Shift+Tab: back.
    expect(press(keys, { key: "Tab" })).toBe(true);
    expect(keys.getAttribute("aria-label")).toBe(label("s1"));
    expect(keys.dataset.step).toBe("s1");
    expect(ring()?.getAttribute("data-step")).toBe("s1");
    expect(Number(ring()!.getAttribute("y"))).toBeCloseTo(200 - 4.5 / zoom, 3);
    expect(press(keys, { key: "Tab", shiftKey: true })).toBe(true);
    expect(keys.getAttribute("aria-label")).toBe(label("s0"));
    // Before the first step (and after the last) Tab is not taken: the focus leaves the canvas.
    expect(press(keys, { key: "Tab", shiftKey: true })).toBe(false);
    press(keys, { key: "End" });
    expect(keys.getAttribute("aria-label")).toBe(label(`s${STEPS - 1}`));
    expect(keys.dataset.step).toBe(`s${STEPS - 1}`);
    expect(press(keys, { key: "Tab" })).toBe(false);
    press(keys, { key: "Home" });
    press(keys, { key: "Tab" });
    press(keys, { key: "Tab" });
    expect(ring()?.getAttribute("data-step")).toBe("s2");

    // Enter selects the step reached (what opens it in the editor's panel); Escape unselects it.
    press(keys, { key: "Enter" });
    expect(selectedIds()).toEqual(["s2"]);
    await waitFor(() =>
      expect(container.querySelector(".far-steps__path--selected")?.getAttribute("d")).toBe(
        "M300 200h240v124h-240z",
      ),
    );
    press(keys, { key: "Escape" });
    expect(selectedIds()).toEqual([]);
    press(keys, { key: "Enter" });
    // Ctrl+Enter adds the next step to the selection.
    press(keys, { key: "Tab" });
    press(keys, { key: "Enter", ctrlKey: true });
    expect(selectedIds()).toEqual(["s2", "s3"]);

    // The arrow keys move the selected steps, 5 px (20 with Shift), one undo step a press.
    const past = useEditorStore.getState().past.length;
    press(keys, { key: "ArrowRight" });
    press(keys, { key: "ArrowDown", shiftKey: true });
    const at = (id: string) => useEditorStore.getState().nodes.find((n) => n.id === id)!.position;
    expect(at("s2")).toEqual({ x: 305, y: 220 });
    expect(at("s3")).toEqual({ x: 605, y: 220 });
    expect(useEditorStore.getState().past.length).toBe(past + 2);

    // Delete removes the selected steps (React Flow's delete key) with their connections; the
    // focus stays, on the step after the removed ones.
    fireEvent.keyDown(keys, { key: "Delete", code: "Delete" });
    await waitFor(() => expect(useEditorStore.getState().nodes).toHaveLength(STEPS - 2));
    fireEvent.keyUp(keys, { key: "Delete", code: "Delete" });
    expect(useEditorStore.getState().edges.some((e) => e.source === "s2")).toBe(false);
    await waitFor(() => expect(keys.dataset.step).toBe("s4"));
    expect(keys.getAttribute("aria-label")).toBe(label("s4"));
    expect(document.activeElement).toBe(keys);
  });

  it("Shift and drag selects the steps inside the box; they drag together and delete together", async () => {
    const { container } = render(<JourneyCanvas draftKey="box@1" draft={bigDraft} editable />);
    await waitFor(() => expect(useEditorStore.getState().loadedKey).toBe("box@1"));
    await zoomOutFar(container);
    act(() => useEditorStore.getState().selectOnly("s40"));

    // The canvas's size (jsdom has no layout): React Flow's box pans the view near its edges.
    const flowElement = container.querySelector<HTMLElement>(".react-flow")!;
    flowElement.getBoundingClientRect = () => new DOMRect(0, 0, 1000, 800);

    // Shift held (React Flow's selection key): a drag on the pane draws React Flow's box…
    fireEvent.keyDown(document, { key: "Shift", code: "ShiftLeft" });
    const pane = container.querySelector(".react-flow__pane")!;
    await waitFor(() => expect(pane.classList.contains("selection")).toBe(true));
    const v = viewport(container);
    const screenAt = (x: number, y: number) => ({
      clientX: v.x + x * v.zoom,
      clientY: v.y + y * v.zoom,
    });
    primary(pane, "pointerdown", screenAt(1180, 180));
    primary(pane, "pointermove", screenAt(1600, 300));
    primary(pane, "pointermove", screenAt(2080, 340));
    expect(container.querySelector(".react-flow__selection")).not.toBeNull();
    // …and the steps wholly inside it (s5–s7 of the first row) are the selection, instead of the
    // one selected before.
    expect(selectedIds()).toEqual(["s5", "s6", "s7"]);
    primary(pane, "pointerup", screenAt(2080, 340));
    fireEvent.keyUp(document, { key: "Shift", code: "ShiftLeft" });
    expect(selectedIds()).toEqual(["s5", "s6", "s7"]);
    await waitFor(() =>
      expect(container.querySelector(".far-steps__path--selected")?.getAttribute("d")).toBe(
        "M1200 200h240v124h-240zM1500 200h240v124h-240zM1800 200h240v124h-240z",
      ),
    );

    // Dragging one of them moves the three, in one undo step.
    const past = useEditorStore.getState().past.length;
    const from = over(container, "s6");
    pointer(pane, "pointerdown", from);
    const to = { clientX: from.clientX + 80 * v.zoom, clientY: from.clientY };
    pointer(window, "pointermove", to);
    pointer(window, "pointerup", to);
    const x = (id: string) => useEditorStore.getState().nodes.find((n) => n.id === id)!.position.x;
    expect([x("s5"), x("s6"), x("s7")]).toEqual([1280, 1580, 1880]);
    expect(useEditorStore.getState().past.length).toBe(past + 1);

    // Shift+click on a step (no drag) adds it to the selection, or takes it out.
    fireEvent.keyDown(document, { key: "Shift", code: "ShiftLeft" });
    await waitFor(() => expect(pane.classList.contains("selection")).toBe(true));
    const s9 = over(container, "s9");
    primary(pane, "pointerdown", s9);
    primary(pane, "pointerup", s9);
    primary(pane, "click", s9);
    expect(selectedIds()).toEqual(["s5", "s6", "s7", "s9"]);
    primary(pane, "pointerdown", s9);
    primary(pane, "pointerup", s9);
    primary(pane, "click", s9);
    expect(selectedIds()).toEqual(["s5", "s6", "s7"]);
    fireEvent.keyUp(document, { key: "Shift", code: "ShiftLeft" });

    // Delete removes the three with their connections, as one undo step.
    fireEvent.keyDown(document, { key: "Delete", code: "Delete" });
    await waitFor(() => expect(useEditorStore.getState().nodes).toHaveLength(STEPS - 3));
    fireEvent.keyUp(document, { key: "Delete", code: "Delete" });
    act(() => useEditorStore.getState().undo());
    expect(useEditorStore.getState().nodes).toHaveLength(STEPS);
    expect(useEditorStore.getState().edges).toHaveLength(STEPS - 1);
  });
});
