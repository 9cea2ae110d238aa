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
import { ViewportPortal, useReactFlow } from "@xyflow/react";
import type { RefObject } from "react";
import { memo, useContext, useEffect, useMemo, useState } from "react";
import { create } from "zustand";
import type { StepFamily } from "./draft.ts";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";
import { FarOverlayContext, type FarOverlay } from "./nodes.tsx";
import { useEditorStore } from "./store.ts";
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
  useEffect(() => {
    const el = canvas.current;
    if (!active || !el) return;
    let swallowClick = false;
    /** Ends the drag under way, if any (its drop, or the layer going away mid-drag). */
    let endDrag: (() => void) | null = null;
    const onPointerDown = (e: PointerEvent) => {
      swallowClick = false;
      if (e.button !== 0 || !(e.target as Element | null)?.closest?.(".react-flow__pane")) return;
      const store = useEditorStore.getState();
      const start = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      const hit = hitStep(store.nodes, start);
      if (!hit) return;
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
    // The click that ends a press on a step would reach the pane and clear the selection.
    const onClick = (e: MouseEvent) => {
      if (!swallowClick) return;
      swallowClick = false;
      e.stopPropagation();
    };
    el.addEventListener("pointerdown", onPointerDown, true);
    el.addEventListener("click", onClick, true);
    return () => {
      el.removeEventListener("pointerdown", onPointerDown, true);
      el.removeEventListener("click", onClick, true);
      endDrag?.();
    };
  }, [active, canvas, flow]);
}
