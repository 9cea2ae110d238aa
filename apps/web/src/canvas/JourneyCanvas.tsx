import {
  Background,
  ControlButton,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import type { KeyboardEvent as ReactKeyboardEvent, DragEvent } from "react";
import { useEffect, useMemo, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { JourneyDraft } from "./draft.ts";
import { isStepType } from "./draft.ts";
import { nodeTypes } from "./nodes.tsx";
import { PALETTE_MIME } from "./Palette.tsx";
import type { EditorState } from "./store.ts";
import { useEditorStore } from "./store.ts";
import type { StepEdge, StepNode } from "./types.ts";

const selectCanvas = (s: EditorState) => ({
  loadedKey: s.loadedKey,
  nodes: s.nodes,
  edges: s.edges,
  editable: s.editable,
  issuesByEdge: s.issuesByEdge,
  highlight: s.highlight,
  focus: s.focus,
  load: s.load,
  onNodesChange: s.onNodesChange,
  onEdgesChange: s.onEdgesChange,
  connect: s.connect,
  addStep: s.addStep,
});

/** Large journeys start with the minimap hidden (it redraws every step on each move); a control shows it. */
const MINIMAP_DEFAULT_MAX_NODES = 300;

const fitViewOptions = { padding: 0.15, maxZoom: 1 };
const deleteKeys = ["Delete", "Backspace"];

const miniMapColors: Record<StepNode["type"], string> = {
  trigger: "#2563eb",
  wait: "#d97706",
  split: "#7c3aed",
  action: "#059669",
  flow: "#475569",
};

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
  const [miniMap, setMiniMap] = useState(() => draft.nodes.length <= MINIMAP_DEFAULT_MAX_NODES);

  useEffect(() => {
    load(draftKey, draft, { editable });
    // Loads once per key: later refetches of the same journey must not replace the edits.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draftKey, load]);

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
        className: [issues ? "edge--invalid" : "", visited ? "edge--visited" : ""]
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

  if (s.loadedKey !== draftKey) return <div className="canvas" aria-busy="true" />;

  const onDragOver = (event: DragEvent) => {
    if (!s.editable || !event.dataTransfer.types.includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  };
  const onDrop = (event: DragEvent) => {
    const type = event.dataTransfer.getData(PALETTE_MIME);
    if (!s.editable || !isStepType(type)) return;
    event.preventDefault();
    const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    s.addStep(type, { x: Math.round(position.x - 120), y: Math.round(position.y - 20) });
  };

  return (
    <div className="canvas" onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<StepNode, StepEdge>
        nodes={s.nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={s.onNodesChange}
        onEdgesChange={s.onEdgesChange}
        onConnect={s.connect}
        nodesDraggable={s.editable}
        nodesConnectable={s.editable}
        edgesReconnectable={false}
        deleteKeyCode={s.editable ? deleteKeys : null}
        fitView
        fitViewOptions={fitViewOptions}
        minZoom={0.05}
        onlyRenderVisibleElements
      >
        <Background />
        <Controls showInteractive={false} fitViewOptions={fitViewOptions}>
          <ControlButton
            onClick={() => setMiniMap((on) => !on)}
            aria-label={miniMap ? "Hide minimap" : "Show minimap"}
            title={miniMap ? "Hide minimap" : "Show minimap"}
          >
            ▦
          </ControlButton>
        </Controls>
        {miniMap ? (
          <MiniMap<StepNode>
            pannable
            zoomable
            nodeColor={(node) => (node.type ? miniMapColors[node.type] : "#94a3b8")}
          />
        ) : null}
      </ReactFlow>
    </div>
  );
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
