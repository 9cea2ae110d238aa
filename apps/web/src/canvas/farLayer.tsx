// issue 18 (item 5): big journeys far out without a React Flow node per step.
//
// Far out (zoom < FAR_ZOOM) a step is a flat box with no text or handles. Under
// FAR_LAYER_MIN_NODES steps each box is still a React Flow node (`FarCard` in nodes.tsx); over it,
// thousands of positioned boxes were most of what opening and panning a big journey cost
// (mounting them, then layerising and hit-testing them on every pan frame: bench/README.md,
// canvas-frames). So there React Flow keeps the steps as hidden nodes (their positions, the fit,
// the selection state stay its own) and `FarSteps` draws them as a few SVG paths, one per look
// (family, invalid, warned, test-run path, selected), like `FarEdges` draws the edges. The canvas
// hit-tests a press itself (`hitStep`) to select and drag a step (`useFarPointer`). A drag
// moves the dragged boxes (and their edges, `FarEdges`) by a transform, frame by frame, through
// `useFarDrag`, and writes the positions to the editor store once, at the drop: writing every
// frame re-ran the store, React Flow's `setNodes` and the canvas over every step (bench/README.md,
// canvas-frames: 10.6–13.6 fps dragging a step at 5,000).
//
// What React Flow gives its nodes is given to the far-drawn steps too: React Flow's selection box
// (Shift and drag) selects the steps it contains (`useFarSelectionBox`: React Flow draws the box
// but skips hidden nodes), and the keyboard reaches them (`FarKeyboard`: Tab and Shift+Tab go from
// step to step with a visible focus ring, Enter or Space selects, which opens the step in the
// panel, arrow keys move the selected steps, Delete removes them, as on a focused node).
import { ViewportPortal, useReactFlow, useStore, useStoreApi } from "@xyflow/react";
import type { ReactFlowState } from "@xyflow/react";
import type { FocusEvent, KeyboardEvent, RefObject } from "react";
import { memo, useContext, useEffect, useId, useMemo, useRef, useState } from "react";
import { create } from "zustand";
import type { StepFamily } from "./draft.ts";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";
import { FarOverlayContext, type FarOverlay } from "./nodes.tsx";
import { useEditorStore } from "./store.ts";
import { useLanguage } from "./language.ts";
import { stepAriaLabel } from "./toFlow.ts";
import type { StepEdge, StepNode } from "./types.ts";

/** Journeys with more steps than this are drawn far out by `FarSteps`. */
export const FAR_LAYER_MIN_NODES = 300;

/** A drag of far-drawn steps under way: which steps, and how far they have moved (flow px). */
export interface FarDrag {
  ids: ReadonlySet<string>;
  dx: number;
  dy: number;
}

/** The far drag under way (null: none). The editor store learns the positions at the drop. */
export const useFarDrag = create<{ drag: FarDrag | null }>(() => ({ drag: null }));

/** React Flow's copy of a step while `FarSteps` draws it: hidden, with the card's size. */
const hiddenCopies = new WeakMap<StepNode, StepNode>();
export function hiddenNode(n: StepNode): StepNode {
  let h = hiddenCopies.get(n);
  if (!h) {
    // The size lets `fitView` (with `includeHiddenNodes`) fit steps that were never measured.
    h = { ...n, hidden: true, initialWidth: NODE_WIDTH, initialHeight: NODE_HEIGHT };
    hiddenCopies.set(n, h);
  }
  return h;
}

const sizeOf = (n: StepNode) => ({
  width: n.measured?.width || NODE_WIDTH,
  height: n.measured?.height || NODE_HEIGHT,
});

/** The look of a far box, as `FarCard`'s classes: selected, else invalid/warned, else its family. */
function lookOf(n: StepNode, overlay: FarOverlay): string {
  const family: StepFamily = n.type ?? "flow";
  const base = n.selected
    ? "selected"
    : overlay.issuesByNode[n.id]
      ? "invalid"
      : overlay.warningsByNode[n.id]
        ? "warned"
        : overlay.highlight?.notes[n.id]
          ? "visited"
          : family;
  return overlay.highlight && !overlay.highlight.notes[n.id] ? `${base} skipped` : base;
}

function rect(n: StepNode): string {
  const { width, height } = sizeOf(n);
  const x = Math.round(n.position.x);
  const y = Math.round(n.position.y);
  return `M${x} ${y}h${Math.round(width)}v${Math.round(height)}h${-Math.round(width)}z`;
}

type Groups = [look: string, d: string][];

function group(nodes: readonly StepNode[], overlay: FarOverlay): Groups {
  const parts = new Map<string, string[]>();
  for (const n of nodes) {
    const look = lookOf(n, overlay);
    const list = parts.get(look);
    if (list) list.push(rect(n));
    else parts.set(look, [rect(n)]);
  }
  // Selected boxes last: drawn over their neighbours.
  return [...parts]
    .sort(([a], [b]) => Number(a.startsWith("selected")) - Number(b.startsWith("selected")))
    .map(([look, list]) => [look, list.join("")]);
}

/**
 * The steps far out as one `<path>` per look. The boxes not being dragged are grouped again only
 * when one of them changed; the dragged boxes have paths of their own, in a group that a far drag
 * (`useFarDrag`) moves by a transform, so a drag frame changes one attribute.
 */
export const FarSteps = memo(function FarSteps({ nodes }: { nodes: readonly StepNode[] }) {
  const overlay = useContext(FarOverlayContext);
  const ids = useFarDrag((s) => s.drag?.ids ?? null);
  const dx = useFarDrag((s) => s.drag?.dx ?? 0);
  const dy = useFarDrag((s) => s.drag?.dy ?? 0);
  const [groupStill] = useState(stillGrouper);
  const { groups, dragged } = useMemo(() => {
    const still: StepNode[] = [];
    const moving: StepNode[] = [];
    for (const n of nodes) (n.dragging || ids?.has(n.id) ? moving : still).push(n);
    return {
      groups: groupStill(still, overlay),
      dragged: moving.length ? group(moving, overlay) : [],
    };
  }, [nodes, overlay, ids, groupStill]);
  return (
    <ViewportPortal>
      <svg className="far-steps" aria-hidden="true" data-steps={nodes.length}>
        {groups.map(([look, d]) => (
          <path key={look} className={pathClass(look)} d={d} />
        ))}
        <g
          className="far-steps__moving"
          transform={dx !== 0 || dy !== 0 ? `translate(${dx} ${dy})` : undefined}
        >
          {dragged.map(([look, d]) => (
            <path
              key={`moving ${look}`}
              className={`${pathClass(look)} far-steps__path--moving`}
              d={d}
            />
          ))}
        </g>
      </svg>
    </ViewportPortal>
  );
});

/** `group`, answered from the last call while the same boxes (same objects) and overlay come in. */
function stillGrouper(): (still: StepNode[], overlay: FarOverlay) => Groups {
  let last: { still: StepNode[]; overlay: FarOverlay; groups: Groups } | null = null;
  return (still, overlay) => {
    if (
      last &&
      last.overlay === overlay &&
      last.still.length === still.length &&
      last.still.every((n, i) => n === still[i])
    )
      return last.groups;
    last = { still, overlay, groups: group(still, overlay) };
    return last.groups;
  };
}

const pathClass = (look: string) =>
  ["far-steps__path", ...look.split(" ").map((l) => `far-steps__path--${l}`)].join(" ");

/** The topmost step under a point of the flow (the last drawn wins), or null. */
export function hitStep(nodes: readonly StepNode[], p: { x: number; y: number }): StepNode | null {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const { width, height } = sizeOf(n);
    if (
      p.x >= n.position.x &&
      p.x <= n.position.x + width &&
      p.y >= n.position.y &&
      p.y <= n.position.y + height
    )
      return n;
  }
  return null;
}

/** Pointer movement (screen px) before a press on a step becomes a drag. */
const DRAG_THRESHOLD = 3;

/**
 * Select and drag far-drawn steps: a press on the pane over a step (hit-tested here) selects it
 * (Shift, Ctrl or Cmd: adds it to / takes it out of the selection) and, when the journey can be
 * edited, drags it with the other selected steps — one undo step per drag, as React Flow's drag.
 * While dragging, only `useFarDrag` changes (once a frame); the drop writes the positions.
 * The press is not passed on, so the pane neither pans nor clears the selection; a press beside
 * the steps pans as before.
 */
export function useFarPointer(active: boolean, canvas: RefObject<HTMLDivElement | null>): void {
  const flow = useReactFlow<StepNode, StepEdge>();
  const flowStore = useStoreApi<StepNode, StepEdge>();
  useEffect(() => {
    const el = canvas.current;
    if (!active || !el) return;
    let swallowClick = false;
    /** Ends the drag under way, if any (its drop, or the layer going away mid-drag). */
    let endDrag: (() => void) | null = null;
    /** A press with the selection key over a step: a click toggles the step (see below). */
    let pending: { hit: StepNode; x: number; y: number; before: Set<string> } | null = null;
    const onPointerDown = (e: PointerEvent) => {
      swallowClick = false;
      pending = null;
      if (e.button !== 0 || !(e.target as Element | null)?.closest?.(".react-flow__pane")) return;
      const store = useEditorStore.getState();
      const start = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      const hit = hitStep(store.nodes, start);
      if (!hit) return;
      // React Flow's pane has just started its selection box (the selection key, Shift, is held:
      // its handler runs in the capture phase at the React root, before this one). A drag draws
      // the box (`useFarSelectionBox`) as anywhere on the pane; a click toggles the step, as
      // Shift+click does without the box. No far drag.
      if (flowStore.getState().userSelectionRect) {
        const before = new Set(store.nodes.flatMap((n) => (n.selected ? [n.id] : [])));
        pending = { hit, x: e.clientX, y: e.clientY, before };
        return;
      }
      // Not passed on: no pan (d3-zoom listens to the mouse events this cancels), no selection box.
      e.stopPropagation();
      e.preventDefault();
      swallowClick = true;
      el.focus({ preventScroll: true });
      const toggle = e.shiftKey || e.ctrlKey || e.metaKey;
      if (toggle) store.onNodesChange([{ type: "select", id: hit.id, selected: !hit.selected }]);
      else if (!hit.selected) store.selectOnly(hit.id);
      if (!store.editable || (toggle && hit.selected)) return;
      const picked = useEditorStore.getState().nodes.filter((n) => n.selected);
      const origins = new Map(picked.map((n) => [n.id, { ...n.position }]));
      const ids: ReadonlySet<string> = new Set(origins.keys());
      let moved = false;
      let frame = 0;
      let delta = { x: 0, y: 0 };
      const onMove = (ev: PointerEvent) => {
        if (!moved && Math.hypot(ev.clientX - e.clientX, ev.clientY - e.clientY) < DRAG_THRESHOLD)
          return;
        moved = true;
        const p = flow.screenToFlowPosition({ x: ev.clientX, y: ev.clientY });
        delta = { x: Math.round(p.x - start.x), y: Math.round(p.y - start.y) };
        // One change per frame, however many moves the pointer reports: the dragged boxes and
        // their edges follow by a transform; the editor store is left alone until the drop.
        frame ||= requestAnimationFrame(() => {
          frame = 0;
          useFarDrag.setState({ drag: { ids, dx: delta.x, dy: delta.y } });
        });
      };
      const onUp = () => {
        window.removeEventListener("pointermove", onMove);
        window.removeEventListener("pointerup", onUp);
        window.removeEventListener("pointercancel", onUp);
        cancelAnimationFrame(frame);
        endDrag = null;
        // The positions, once: one store change, one undo step.
        if (moved)
          useEditorStore.getState().onNodesChange(
            [...origins].map(([id, o]) => ({
              type: "position" as const,
              id,
              position: { x: Math.round(o.x + delta.x), y: Math.round(o.y + delta.y) },
              dragging: false,
            })),
          );
        useFarDrag.setState({ drag: null });
      };
      endDrag = onUp;
      window.addEventListener("pointermove", onMove);
      window.addEventListener("pointerup", onUp);
      window.addEventListener("pointercancel", onUp);
    };
    // The end of a selection-key press over a step (before React Flow's pane sees it): without a
    // move it was a click, which toggles the step in the selection the press found; React Flow
    // would take it for a click on the empty pane and clear the selection, so its box is dropped.
    const onPointerUp = (e: PointerEvent) => {
      const press = pending;
      pending = null;
      if (!press || Math.hypot(e.clientX - press.x, e.clientY - press.y) >= DRAG_THRESHOLD) return;
      flowStore.setState({ userSelectionRect: null, userSelectionActive: false });
      const ids = new Set(press.before);
      if (ids.has(press.hit.id)) ids.delete(press.hit.id);
      else ids.add(press.hit.id);
      selectExactly(ids);
      swallowClick = true;
    };
    // The click that ends a press on a step would reach the pane and clear the selection.
    const onClick = (e: MouseEvent) => {
      if (!swallowClick) return;
      swallowClick = false;
      e.stopPropagation();
    };
    el.addEventListener("pointerdown", onPointerDown, true);
    el.addEventListener("pointerup", onPointerUp, true);
    el.addEventListener("click", onClick, true);
    return () => {
      el.removeEventListener("pointerdown", onPointerDown, true);
      el.removeEventListener("pointerup", onPointerUp, true);
      el.removeEventListener("click", onClick, true);
      endDrag?.();
    };
  }, [active, canvas, flow, flowStore]);
}

/** Makes exactly these steps the selected ones (one store change, none if nothing changes). */
function selectExactly(ids: ReadonlySet<string>): void {
  const store = useEditorStore.getState();
  const changes = store.nodes.flatMap((n) =>
    Boolean(n.selected) === ids.has(n.id)
      ? []
      : [{ type: "select" as const, id: n.id, selected: ids.has(n.id) }],
  );
  if (changes.length) store.onNodesChange(changes);
}

/** Whether a step's box lies wholly inside a rectangle of the flow (React Flow's default
 * `SelectionMode.Full`). */
function inside(n: StepNode, r: { x: number; y: number; width: number; height: number }): boolean {
  const { width, height } = sizeOf(n);
  return (
    n.position.x >= r.x &&
    n.position.y >= r.y &&
    n.position.x + width <= r.x + r.width &&
    n.position.y + height <= r.y + r.height
  );
}

/**
 * React Flow's selection box over far-drawn steps. React Flow draws the box (Shift and drag on the
 * pane, with auto-pan at the edges) and clears the selection as it starts, but it leaves hidden
 * nodes out of what the box selects; so, while the box is drawn, the steps wholly inside it become
 * the selection, as React Flow's nodes would (then dragged together, moved with the arrow keys,
 * or deleted).
 */
export function useFarSelectionBox(active: boolean): void {
  const flowStore = useStoreApi<StepNode, StepEdge>();
  useEffect(() => {
    if (!active) return;
    let last: ReactFlowState["userSelectionRect"] = null;
    return flowStore.subscribe((s) => {
      const rect = s.userSelectionRect;
      if (!s.userSelectionActive || !rect || rect === last) return;
      last = rect;
      const [tx, ty, zoom] = s.transform;
      const box = {
        x: (rect.x - tx) / zoom,
        y: (rect.y - ty) / zoom,
        width: rect.width / zoom,
        height: rect.height / zoom,
      };
      const nodes = useEditorStore.getState().nodes;
      selectExactly(new Set(nodes.flatMap((n) => (inside(n, box) ? [n.id] : []))));
    });
  }, [active, flowStore]);
}

/** Where the step at `before.i` went: the next step of `before.nodes` still in `nodes` (else the
 * last step). */
function survivor(before: { nodes: readonly StepNode[]; i: number }, nodes: readonly StepNode[]) {
  const index = new Map(nodes.map((n, j) => [n.id, j]));
  for (let j = before.i; j < before.nodes.length; j++) {
    const k = index.get(before.nodes[j]!.id);
    if (k !== undefined) return k;
  }
  return nodes.length - 1;
}

/** What a keyboard user hears for a step (the label React Flow gives a node's element). */
const stepName = (n: StepNode) => n.ariaLabel ?? stepAriaLabel(n.data.stepType, n.data.config);

const selectFocusable = (s: ReactFlowState) => s.nodesFocusable;
const selectZoom = (s: ReactFlowState) => s.transform[2];
/** Arrow keys move the selected steps by React Flow's step: 5 px, 20 with Shift. */
const ARROWS: Record<string, { x: number; y: number }> = {
  ArrowUp: { x: 0, y: -1 },
  ArrowDown: { x: 0, y: 1 },
  ArrowLeft: { x: -1, y: 0 },
  ArrowRight: { x: 1, y: 0 },
};
const ARROW_STEP = 5;
/** The focus ring's distance from the box and its width, in screen pixels (as a focused card's
 * outline: canvas.css). */
const RING_OFFSET = 3;
const RING_WIDTH = 3;

/**
 * The keyboard's way to far-drawn steps, which have no element each: one tab stop standing for
 * the step it has reached. Tab and Shift+Tab go to the next and previous step (in the journey's
 * order, as React Flow's nodes are tabbed through) and leave the canvas after the last or before
 * the first; Home and End go to the first and last. The step reached has a focus ring, is
 * brought into view if it is outside it, and is named by the element's label. Enter or Space
 * selects it (which opens it in the panel; Ctrl or Cmd adds it to or takes it out of the
 * selection), Escape unselects it, the arrow keys move the selected steps (as on a focused React
 * Flow node), and Delete removes them (React Flow's delete key, as for its nodes).
 */
export function FarKeyboard({
  nodes,
  canvas,
}: {
  nodes: readonly StepNode[];
  canvas: RefObject<HTMLDivElement | null>;
}) {
  const flow = useReactFlow<StepNode, StepEdge>();
  const flowStore = useStoreApi<StepNode, StepEdge>();
  // Named in full once the journey language has loaded (a moment after the first draw).
  useLanguage();
  const focusable = useStore(selectFocusable);
  const zoom = useStore(selectZoom);
  // The step reached, with the steps as they were then (to find its place if it is deleted).
  const [at, setAt] = useState<{ id: string; nodes: readonly StepNode[]; i: number } | null>(null);
  const [focused, setFocused] = useState(false);
  const [said, setSaid] = useState("");
  const self = useRef<HTMLDivElement>(null);
  const hintId = useId();
  let i = at === null ? (nodes.length > 0 ? 0 : -1) : nodes.findIndex((n) => n.id === at.id);
  // None reached yet: the first step (what Tab reaches, and what the element is named until
  // then). The step reached was deleted: the next one left (else the last).
  if (i < 0 && at !== null && nodes.length > 0) i = survivor(at, nodes);
  const node = i >= 0 ? nodes[i] : undefined;

  // Zooming in takes this layer away: the focus goes to the step's own element, or the canvas.
  useEffect(() => {
    const el = self.current;
    const box = canvas.current;
    return () => {
      if (!el || document.activeElement !== el || !box) return;
      const id = el.dataset.step;
      requestAnimationFrame(() => {
        const card = [...box.querySelectorAll<HTMLElement>(".react-flow__node")].find(
          (c) => c.dataset.id === id,
        );
        (card ?? box).focus({ preventScroll: true });
      });
    };
  }, [canvas]);

  if (!focusable || nodes.length === 0) return null;

  /** Reaches a step: names it and brings it into view (React Flow's `autoPanOnNodeFocus`). */
  const reach = (j: number, announce: boolean) => {
    const n = nodes[j]!;
    setAt({ id: n.id, nodes, i: j });
    if (announce) setSaid(stepName(n));
    const {
      transform: [tx, ty, z],
      width,
      height,
    } = flowStore.getState();
    const size = sizeOf(n);
    const x0 = n.position.x * z + tx;
    const y0 = n.position.y * z + ty;
    const seen = x0 + size.width * z > 0 && y0 + size.height * z > 0 && x0 < width && y0 < height;
    if (!seen)
      void flow.setCenter(n.position.x + size.width / 2, n.position.y + size.height / 2, {
        zoom: z,
      });
  };

  const onFocus = (e: FocusEvent<HTMLDivElement>) => {
    setFocused(true);
    const from = e.relatedTarget;
    // Tabbed into from after the canvas (Shift+Tab): the last step; from before it: the first.
    const backwards =
      from instanceof Node &&
      (e.currentTarget.compareDocumentPosition(from) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    reach(from ? (backwards ? nodes.length - 1 : 0) : Math.max(i, 0), false);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!node) return;
    const editor = useEditorStore.getState();
    const rf = flowStore.getState();
    if (e.key === "Tab" && !e.ctrlKey && !e.metaKey && !e.altKey) {
      const next = i + (e.shiftKey ? -1 : 1);
      if (next < 0 || next >= nodes.length) return; // the focus leaves the canvas
      e.preventDefault();
      reach(next, true);
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      reach(e.key === "Home" ? 0 : nodes.length - 1, true);
    } else if ((e.key === "Enter" || e.key === " ") && rf.elementsSelectable) {
      e.preventDefault();
      if (e.ctrlKey || e.metaKey)
        editor.onNodesChange([{ type: "select", id: node.id, selected: !node.selected }]);
      else editor.selectOnly(node.id);
    } else if (e.key === "Escape" && node.selected) {
      editor.onNodesChange([{ type: "select", id: node.id, selected: false }]);
    } else if (ARROWS[e.key] && node.selected && editor.editable && rf.nodesDraggable) {
      e.preventDefault();
      const d = ARROWS[e.key]!;
      const by = ARROW_STEP * (e.shiftKey ? 4 : 1);
      editor.onNodesChange(
        editor.nodes.flatMap((n) =>
          n.selected
            ? [
                {
                  type: "position" as const,
                  id: n.id,
                  position: { x: n.position.x + d.x * by, y: n.position.y + d.y * by },
                  dragging: false,
                },
              ]
            : [],
        ),
      );
    }
  };

  const ring = focused && node ? sizeOf(node) : null;
  // The stroke is centred on the rectangle's edge (and not scaled with the zoom).
  const pad = (RING_OFFSET + RING_WIDTH / 2) / zoom;
  return (
    <>
      <div
        ref={self}
        className="far-steps__keyboard sr-only"
        tabIndex={0}
        role="group"
        aria-roledescription="step"
        aria-label={node ? stepName(node) : undefined}
        aria-describedby={hintId}
        data-step={node?.id}
        onFocus={onFocus}
        onBlur={() => setFocused(false)}
        onKeyDown={onKeyDown}
      />
      <p id={hintId} className="sr-only">
        Tab and Shift+Tab go from step to step, Enter opens the step, arrow keys move the selected
        steps and Delete removes them. Shift and drag on the canvas selects the steps in a box.
      </p>
      <p className="sr-only" aria-live="polite">
        {said}
      </p>
      {ring && node ? (
        <ViewportPortal>
          <svg className="far-steps far-steps--focus" aria-hidden="true">
            <rect
              className="far-steps__focus"
              strokeWidth={RING_WIDTH}
              data-step={node.id}
              x={node.position.x - pad}
              y={node.position.y - pad}
              width={ring.width + 2 * pad}
              height={ring.height + 2 * pad}
            />
          </svg>
        </ViewportPortal>
      ) : null}
    </>
  );
}
