import {
  Background,
  ControlButton,
  Controls,
  MarkerType,
  MiniMap,
  Panel,
  ReactFlow,
  ReactFlowProvider,
  ViewportPortal,
  getViewportForBounds,
  useReactFlow,
  useStore,
  useStoreApi,
  useUpdateNodeInternals,
} from "@xyflow/react";
import type { InternalNode, OnBeforeDelete, ReactFlowState, Viewport } from "@xyflow/react";
import type { KeyboardEvent as ReactKeyboardEvent, DragEvent } from "react";
import { memo, useEffect, useMemo, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { JourneyDraft } from "./draft.ts";
import { PALETTE_MIME } from "./dnd.ts";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";
import { HEAT_METRICS, type HeatMetric } from "./heat.ts";
import { FarContext, FarOverlayContext, nodeTypes, selectFar } from "./nodes.tsx";
import {
  FAR_LAYER_MIN_NODES,
  FarKeyboard,
  FarSteps,
  hiddenNode,
  useFarDrag,
  useFarPointer,
  useFarSelectionBox,
} from "./farLayer.tsx";
import { languageIfLoaded, loadLanguage, useLanguage } from "./language.ts";
import type { EditorState } from "./store.ts";
import { useEditorStore } from "./store.ts";
import { labelledNode } from "./toFlow.ts";
import { useSegmentDirectory } from "./segmentDirectory.ts";
import type { StepEdge, StepNode } from "./types.ts";
import "./canvas.css";

const selectCanvas = (s: EditorState) => ({
  loadedKey: s.loadedKey,
  nodes: s.nodes,
  edges: s.edges,
  editable: s.editable,
  issuesByEdge: s.issuesByEdge,
  issuesByNode: s.issuesByNode,
  warningsByNode: s.warningsByNode,
  highlight: s.highlight,
  focus: s.focus,
  load: s.load,
  onNodesChange: s.onNodesChange,
  onEdgesChange: s.onEdgesChange,
  connect: s.connect,
  addStep: s.addStep,
});

/**
 * Large journeys start with the minimap hidden (it repaints a rectangle per step on every pan
 * frame: see bench/README.md, `canvas-frames --minimap`); a control shows it.
 */
const MINIMAP_DEFAULT_MAX_NODES = 300;
/**
 * Below this window width (1280 × 800 laptops) the canvas is too narrow for the minimap not to
 * cover steps: it starts hidden there (the control shows it).
 */
const MINIMAP_DEFAULT_MIN_WIDTH = 1440;
const miniMapStyle = { width: 160, height: 110 };

function miniMapByDefault(nodeCount: number): boolean {
  const wide = typeof window === "undefined" || window.innerWidth >= MINIMAP_DEFAULT_MIN_WIDTH;
  return wide && nodeCount <= MINIMAP_DEFAULT_MAX_NODES;
}

/**
 * React Flow deletes a step's connections and then the step, as two document changes (two
 * undos, the first restoring the step without its edges). The store removes both at once.
 */
const removeInOneStep: OnBeforeDelete<StepNode, StepEdge> = ({ nodes, edges }) => {
  useEditorStore.getState().removeElements(
    nodes.map((n) => n.id),
    edges.map((e) => e.id),
  );
  return Promise.resolve(false);
};

// Hidden nodes count: far out a big journey's steps are React Flow nodes only hidden (farLayer.tsx).
const fitViewOptions = { padding: 0.15, maxZoom: 1, includeHiddenNodes: true };
const MIN_ZOOM = 0.05;

/**
 * The viewport `fitView` will settle on, computed from the steps' positions and the cards' fixed
 * size before anything is drawn. React Flow starts at zoom 1 and fits only once every step has
 * been measured, so without this a big journey is first drawn in full detail (every card, handle
 * and edge, mounted at zoom 1 to be measured) and then redrawn far out: most of the opening time.
 * Starting at the fitted viewport, a big journey is drawn once, as far-out boxes.
 */
function fittedViewport(
  nodes: readonly { position: { x: number; y: number } }[],
  canvas: HTMLElement | null,
): Viewport | undefined {
  const box = canvas?.getBoundingClientRect();
  if (!box || box.width === 0 || box.height === 0 || nodes.length === 0) return undefined;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const n of nodes) {
    x0 = Math.min(x0, n.position.x);
    y0 = Math.min(y0, n.position.y);
    x1 = Math.max(x1, n.position.x + NODE_WIDTH);
    y1 = Math.max(y1, n.position.y + NODE_HEIGHT);
  }
  return getViewportForBounds(
    { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
    box.width,
    box.height,
    MIN_ZOOM,
    fitViewOptions.maxZoom,
    fitViewOptions.padding,
  );
}
const deleteKeys = ["Delete", "Backspace"];

const miniMapColors: Record<StepNode["type"], string> = {
  trigger: "#2563eb",
  wait: "#d97706",
  split: "#7c3aed",
  action: "#059669",
  flow: "#475569",
};
// Module scope: a new function per render would re-render every minimap rectangle.
const miniMapNodeColor = (node: StepNode) => (node.type ? miniMapColors[node.type] : "#94a3b8");

const EDGE_INVALID = "edge--invalid";
const EDGE_VISITED = "edge--visited";

/** Far out React Flow gets no edges: `FarEdges` draws them all as a few paths instead. */
const NO_EDGES: StepEdge[] = [];

export interface JourneyCanvasProps {
  draftKey: string;
  draft: JourneyDraft;
  /** Viewers (and tests of the drawing) get a canvas that can be looked at but not changed. */
  editable?: boolean;
}

/** The journey drawn with React Flow; edits go to the editor store. */
export function JourneyCanvas(props: JourneyCanvasProps) {
  return (
    <ReactFlowProvider>
      <Flow {...props} />
    </ReactFlowProvider>
  );
}

function Flow({ draftKey, draft, editable = false }: JourneyCanvasProps) {
  const s = useEditorStore(useShallow(selectCanvas));
  const { load } = s;
  const flow = useReactFlow<StepNode, StepEdge>();
  const [miniMap, setMiniMap] = useState(() => miniMapByDefault(draft.nodes.length));
  // Full cards need the journey language (language.ts), which a big journey's far-out first draw
  // does without: until it has loaded a big journey stays drawn far out whatever the zoom (a
  // moment after its first paint), and a small one shows the placeholder.
  const lang = useLanguage();
  const big = s.nodes.length > FAR_LAYER_MIN_NODES;
  const far = useStore(selectFar) || (!lang && big);
  const canvasRef = useRef<HTMLDivElement>(null);
  // issue 18: far out, a big journey's steps are a few SVG paths, not a React Flow node each.
  const layer = far && big;
  const waiting = !lang && !layer;
  useEffect(() => {
    if (waiting && s.loadedKey === draftKey) void loadLanguage();
  }, [waiting, s.loadedKey, draftKey]);
  // A big journey's steps get their labels when first drawn as nodes (toFlow.ts `later`), and
  // every step again once the workspace's segments arrive (a summary names them).
  const segments = useSegmentDirectory((d) => d.segments);
  const flowNodes = useMemo(
    () => (waiting ? s.nodes : s.nodes.map(layer ? hiddenNode : labelledNode)),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `segments`: labelledNode reads them
    [layer, waiting, s.nodes, segments],
  );
  useFarPointer(layer, canvasRef);
  useFarSelectionBox(layer);
  // Where the journey is first drawn (React Flow reads `defaultViewport` when it mounts).
  const [initial, setInitial] = useState<{ key: string; viewport?: Viewport } | null>(null);
  const updateNodeInternals = useUpdateNodeInternals();
  const wasFar = useRef(far);
  useEffect(() => {
    // Far boxes have no handles: back at full detail, have React Flow measure the drawn steps'
    // handles again (a step first drawn far out has never had them measured).
    if (wasFar.current && !far && canvasRef.current) {
      const drawn = canvasRef.current.querySelectorAll<HTMLElement>(".react-flow__node");
      updateNodeInternals([...drawn].flatMap((el) => (el.dataset.id ? [el.dataset.id] : [])));
    }
    wasFar.current = far;
  }, [far, updateNodeInternals]);

  const flowStore = useStoreApi<StepNode, StepEdge>();
  useEffect(() => {
    // Measured on the placeholder, which is the same element as the canvas (React keeps it).
    const viewport = fittedViewport(draft.nodes, canvasRef.current);
    setInitial({ key: draftKey, viewport });
    // React Flow takes `defaultViewport` in an effect after its first render: until then its
    // zoom is 1, so a big journey's first render would mount every step as a full card and every
    // edge, only to unmount them all a moment later (most of the opening time at 1,000 steps).
    // Given the fitted zoom now, the first render is already far out.
    if (viewport) flowStore.setState({ transform: [viewport.x, viewport.y, viewport.zoom] });
    load(draftKey, draft, { editable });
    // Loads once per key: later refetches of the same journey must not replace the edits.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draftKey, load]);

  // A deleted step took the keyboard focus with it: keep it on the canvas, so Ctrl+Z (handled
  // by the editor around it) and the arrow keys still work.
  const nodeCount = s.nodes.length;
  const lastCount = useRef(nodeCount);
  useEffect(() => {
    const removed = nodeCount < lastCount.current;
    lastCount.current = nodeCount;
    const canvas = canvasRef.current;
    if (!removed || !canvas) return;
    // React Flow unmounts the step's element on its next render: look once that has happened.
    const frame = requestAnimationFrame(() => {
      const active = document.activeElement;
      if (!active || active === document.body || !active.isConnected) canvas.focus();
    });
    return () => cancelAnimationFrame(frame);
  }, [nodeCount]);

  useEffect(() => {
    if (!s.focus) return;
    const node = flow.getNode(s.focus.nodeId);
    if (!node) return;
    const w = node.measured?.width ?? 240;
    const h = node.measured?.height ?? 90;
    void flow.setCenter(node.position.x + w / 2, node.position.y + h / 2, {
      zoom: Math.max(flow.getZoom(), 1),
      duration: 200,
    });
  }, [s.focus, flow]);

  // Edges with problems are drawn red with the problem as their label; a test run's path is animated.
  const edges = useMemo(() => {
    const onPath = new Set<string>();
    const path = s.highlight?.path ?? [];
    for (let i = 1; i < path.length; i++) onPath.add(`${path[i - 1]}>${path[i]}`);
    return s.edges.map((e) => {
      const issues = s.issuesByEdge[e.id];
      const visited = onPath.has(`${e.source}>${e.target}`);
      if (!issues && !visited) return e;
      return {
        ...e,
        className: [issues ? EDGE_INVALID : "", visited ? EDGE_VISITED : ""]
          .filter(Boolean)
          .join(" "),
        animated: visited,
        ...(issues
          ? {
              label: issues[0]?.message,
              markerEnd: { type: MarkerType.ArrowClosed, color: "#b91c1c" },
            }
          : {}),
      };
    });
  }, [s.edges, s.issuesByEdge, s.highlight]);

  const farOverlay = useMemo(
    () => ({
      issuesByNode: s.issuesByNode,
      warningsByNode: s.warningsByNode,
      highlight: s.highlight,
    }),
    [s.issuesByNode, s.warningsByNode, s.highlight],
  );

  if (s.loadedKey !== draftKey || waiting)
    return <div ref={canvasRef} className="canvas" aria-busy="true" />;

  const onDragOver = (event: DragEvent) => {
    if (!s.editable || !event.dataTransfer.types.includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  };
  const onDrop = (event: DragEvent) => {
    const type = event.dataTransfer.getData(PALETTE_MIME);
    // The palette is shown with the language loaded (it lists the step catalogue).
    if (!s.editable || !languageIfLoaded()?.isStepType(type)) return;
    event.preventDefault();
    const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    s.addStep(type, { x: Math.round(position.x - 120), y: Math.round(position.y - 20) });
  };

  return (
    <div
      ref={canvasRef}
      className={far ? "canvas canvas--far" : "canvas"}
      onDragOver={onDragOver}
      onDrop={onDrop}
      data-testid="canvas"
      tabIndex={-1}
    >
      <FarContext value={far}>
        <FarOverlayContext value={farOverlay}>
          <ReactFlow<StepNode, StepEdge>
            nodes={flowNodes}
            edges={far ? NO_EDGES : edges}
            nodeTypes={nodeTypes}
            onNodesChange={s.onNodesChange}
            onEdgesChange={s.onEdgesChange}
            onConnect={s.connect}
            nodesDraggable={s.editable}
            nodesConnectable={s.editable}
            edgesReconnectable={false}
            deleteKeyCode={s.editable ? deleteKeys : null}
            onBeforeDelete={removeInOneStep}
            fitView
            fitViewOptions={fitViewOptions}
            defaultViewport={initial?.key === draftKey ? initial.viewport : undefined}
            minZoom={MIN_ZOOM}
            // Far out every step is one cheap box, and mounting the ones a pan brings into view
            // would cost more than keeping them all. With the far-steps layer every node is hidden:
            // "visible only" then mounts no node wrapper at all (not one store subscription each).
            onlyRenderVisibleElements={!far || layer}
          >
            {/* First: the steps come before the controls in the tab order, as React Flow's nodes. */}
            {layer ? <FarKeyboard nodes={s.nodes} canvas={canvasRef} /> : null}
            {/* Far out the dots are a grey blur that would be repainted on every pan frame. */}
            {far ? <FarEdges edges={edges} /> : <Background />}
            {layer ? <FarSteps nodes={s.nodes} /> : null}
            <Controls showInteractive={false} fitViewOptions={fitViewOptions}>
              <ControlButton
                onClick={() => setMiniMap((on) => !on)}
                aria-label={miniMap ? "Hide minimap" : "Show minimap"}
                title={miniMap ? "Hide minimap" : "Show minimap"}
              >
                ▦
              </ControlButton>
            </Controls>
            <HeatPicker />
            {miniMap ? (
              <MiniMap<StepNode>
                pannable
                zoomable
                nodeColor={miniMapNodeColor}
                style={miniMapStyle}
              />
            ) : null}
          </ReactFlow>
        </FarOverlayContext>
      </FarContext>
    </div>
  );
}

/**
 * issue 17: which figure tints the steps (heat.ts) — shown while the live counts are on the
 * canvas, with a legend saying what the tint means.
 */
function HeatPicker() {
  const hasCounts = useEditorStore((s) => s.counts !== null);
  const heatBy = useEditorStore((s) => s.heatBy);
  const setHeatBy = useEditorStore((s) => s.setHeatBy);
  if (!hasCounts) return null;
  return (
    <Panel position="top-left" className="heat-picker">
      <label>
        Heat map
        <select value={heatBy} onChange={(e) => setHeatBy(e.target.value as HeatMetric)}>
          {HEAT_METRICS.map((m) => (
            <option key={m.value} value={m.value}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
      {heatBy !== "off" ? (
        <span className="heat-picker__legend">
          <span className="heat-picker__scale" aria-hidden="true" /> darker: closer to the busiest
          step
        </span>
      ) : null}
    </Panel>
  );
}

type Point = { x: number; y: number };

/** Where an edge leaves (a source handle's centre) or enters (the target handle's) a step. */
function anchor(node: InternalNode, kind: "source" | "target", handle?: string | null): Point {
  const { x, y } = node.internals.positionAbsolute;
  const bounds = node.internals.handleBounds?.[kind];
  const h = kind === "source" ? bounds?.find((b) => b.id === handle) : bounds?.[0];
  if (h) return { x: x + h.x + h.width / 2, y: y + h.y + h.height / 2 };
  // Never measured with handles (first drawn far out): the middle of the bottom or top side.
  const width = node.measured.width || NODE_WIDTH;
  const height = node.measured.height || NODE_HEIGHT;
  return { x: x + width / 2, y: kind === "source" ? y + height : y };
}

type FarPaths = { still: string; moving: string; invalid: string; visited: string };
const FAR_PATH_KEYS = ["still", "moving", "invalid", "visited"] as const;
type FarPathKey = keyof FarPaths;
/** The far edges as drawn: the paths, and per edge its segment and which path it is in. */
type FarDrawn = { paths: FarPaths; segs: readonly string[]; keys: readonly (FarPathKey | null)[] };

const farPaths = (parts: Record<FarPathKey, string[]>): FarPaths => ({
  still: parts.still.join(""),
  moving: parts.moving.join(""),
  invalid: parts.invalid.join(""),
  visited: parts.visited.join(""),
});
const noParts = (): Record<FarPathKey, string[]> => ({
  still: [],
  moving: [],
  invalid: [],
  visited: [],
});

/**
 * The edges far out: straight lines, no arrowheads or labels, as four `<path>`s (one element each
 * instead of an SVG with two paths per edge). Invalid and test-run edges keep their colour. Edges
 * touching a dragged step go in their own path, so a drag repaints only those. While far-drawn
 * steps are dragged (`useFarDrag`, farLayer.tsx: React Flow's nodes stay where they were until the
 * drop), their edges leave the other paths once and are redrawn, offset, on each frame.
 */
const FarEdges = memo(function FarEdges({ edges }: { edges: StepEdge[] }) {
  const select = useMemo(() => farPathsSelector(edges), [edges]);
  const drawn = useStore(select);
  const flow = useStoreApi();
  const ids = useFarDrag((s) => s.drag?.ids ?? null);
  const dx = useFarDrag((s) => s.drag?.dx ?? 0);
  const dy = useFarDrag((s) => s.drag?.dy ?? 0);
  const split = useMemo(
    () => (ids ? withoutDragged(drawn, edges, ids) : null),
    [drawn, edges, ids],
  );
  const paths = split?.paths ?? drawn.paths;
  const dragged =
    split && ids
      ? draggedEdges(split.touching, edges, drawn.keys, flow.getState().nodeLookup, ids, dx, dy)
      : null;
  return (
    <ViewportPortal>
      <svg className="far-edges" aria-hidden="true">
        {FAR_PATH_KEYS.map((key) =>
          paths[key] ? (
            <path key={key} className={`far-edges__path far-edges__path--${key}`} d={paths[key]} />
          ) : null,
        )}
        {FAR_PATH_KEYS.map((key) =>
          dragged?.[key] ? (
            <path
              key={`dragged ${key}`}
              className={`far-edges__path far-edges__path--${key}`}
              d={dragged[key]}
            />
          ) : null,
        )}
      </svg>
    </ViewportPortal>
  );
});

/** The far edges without those touching the dragged steps (joined once per drag). */
function withoutDragged(
  drawn: FarDrawn,
  edges: readonly StepEdge[],
  ids: ReadonlySet<string>,
): { paths: FarPaths; touching: number[] } {
  const parts = noParts();
  const touching: number[] = [];
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i]!;
    if (ids.has(e.source) || ids.has(e.target)) touching.push(i);
    else {
      const key = drawn.keys[i];
      if (key) parts[key].push(drawn.segs[i]!);
    }
  }
  return { paths: farPaths(parts), touching };
}

/** The dragged steps' edges, their dragged ends moved by (dx, dy); a still edge draws as moving. */
function draggedEdges(
  touching: readonly number[],
  edges: readonly StepEdge[],
  keys: readonly (FarPathKey | null)[],
  lookup: ReactFlowState["nodeLookup"],
  ids: ReadonlySet<string>,
  dx: number,
  dy: number,
): FarPaths {
  const parts = noParts();
  const end = (p: Point, id: string) => (ids.has(id) ? { x: p.x + dx, y: p.y + dy } : p);
  for (const i of touching) {
    const e = edges[i]!;
    const key = keys[i];
    const source = lookup.get(e.source);
    const target = lookup.get(e.target);
    if (!key || !source || !target) continue;
    const a = end(anchor(source, "source", e.sourceHandle), e.source);
    const b = end(anchor(target, "target", e.targetHandle), e.target);
    parts[key === "still" ? "moving" : key].push(
      `M${Math.round(a.x)} ${Math.round(a.y)}L${Math.round(b.x)} ${Math.round(b.y)}`,
    );
  }
  return farPaths(parts);
}

/**
 * A store selector that rebuilds the paths only when an edge's end node changed (moved or was
 * re-measured); on a pan it compares references and returns the same object.
 */
function farPathsSelector(edges: StepEdge[]): (s: ReactFlowState) => FarDrawn {
  // Per edge: its end nodes when last drawn, its segment and which path it went to. A change
  // redraws only the edges whose end nodes changed (a drag: the dragged steps' edges), then joins.
  let ends: (InternalNode | undefined)[] = [];
  const segs: string[] = [];
  const keys: (keyof FarPaths | null)[] = [];
  let last: FarDrawn = {
    paths: { still: "", moving: "", invalid: "", visited: "" },
    segs,
    keys,
  };
  return (s) => {
    const fresh = ends.length !== edges.length * 2;
    if (fresh) ends = new Array<InternalNode | undefined>(edges.length * 2);
    let changed = false;
    for (let i = 0; i < edges.length; i++) {
      const e = edges[i]!;
      const source = s.nodeLookup.get(e.source);
      const target = s.nodeLookup.get(e.target);
      if (!fresh && ends[2 * i] === source && ends[2 * i + 1] === target) continue;
      changed = true;
      ends[2 * i] = source;
      ends[2 * i + 1] = target;
      if (!source || !target) {
        keys[i] = null;
        continue;
      }
      const a = anchor(source, "source", e.sourceHandle);
      const b = anchor(target, "target", e.targetHandle);
      const classes = e.className ?? "";
      keys[i] = classes.includes(EDGE_INVALID)
        ? "invalid"
        : classes.includes(EDGE_VISITED)
          ? "visited"
          : source.dragging || target.dragging
            ? "moving"
            : "still";
      segs[i] = `M${Math.round(a.x)} ${Math.round(a.y)}L${Math.round(b.x)} ${Math.round(b.y)}`;
    }
    if (!changed) return last;
    const parts = noParts();
    for (let i = 0; i < edges.length; i++) {
      const key = keys[i];
      if (key) parts[key].push(segs[i]!);
    }
    last = { paths: farPaths(parts), segs, keys };
    return last;
  };
}

/** Undo/redo, copy/paste and select-all in the editor (form fields keep their own text editing keys). */
export function onEditorShortcut(event: ReactKeyboardEvent) {
  const target = event.target as HTMLElement;
  if (target.closest("input, textarea, select, [contenteditable=true]")) return;
  if (!(event.ctrlKey || event.metaKey)) return;
  const store = useEditorStore.getState();
  const key = event.key.toLowerCase();
  if (key === "z" && !event.shiftKey) store.undo();
  else if ((key === "z" && event.shiftKey) || key === "y") store.redo();
  else if (key === "c") store.copySelection();
  else if (key === "v") store.paste();
  else if (key === "a")
    useEditorStore.setState({ nodes: store.nodes.map((n) => ({ ...n, selected: true })) });
  else return;
  event.preventDefault();
}
