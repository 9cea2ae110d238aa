import { Background, Controls, MiniMap, ReactFlow } from "@xyflow/react";
import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import type { JourneyDraft } from "./draft.ts";
import { nodeTypes } from "./nodes.tsx";
import type { EditorState } from "./store.ts";
import { useEditorStore } from "./store.ts";
import type { StepEdge, StepNode } from "./types.ts";

const selectCanvas = (s: EditorState) => ({
  loadedKey: s.loadedKey,
  nodes: s.nodes,
  edges: s.edges,
  load: s.load,
  onNodesChange: s.onNodesChange,
  onEdgesChange: s.onEdgesChange,
});

const fitViewOptions = { padding: 0.15 };

const miniMapColors: Record<StepNode["type"], string> = {
  trigger: "#2563eb",
  wait: "#d97706",
  split: "#7c3aed",
  action: "#059669",
  flow: "#475569",
};

/** Read-only for now: nodes can be selected and the view panned/zoomed, but not edited. */
export function JourneyCanvas({ draftKey, draft }: { draftKey: string; draft: JourneyDraft }) {
  const { loadedKey, nodes, edges, load, onNodesChange, onEdgesChange } = useEditorStore(useShallow(selectCanvas));

  useEffect(() => {
    load(draftKey, draft);
  }, [draftKey, draft, load]);

  if (loadedKey !== draftKey) return <div className="canvas" aria-busy="true" />;

  return (
    <div className="canvas">
      <ReactFlow<StepNode, StepEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesReconnectable={false}
        deleteKeyCode={null}
        fitView
        fitViewOptions={fitViewOptions}
        minZoom={0.2}
      >
        <Background />
        <Controls showInteractive={false} />
        <MiniMap<StepNode> pannable zoomable nodeColor={(node) => (node.type ? miniMapColors[node.type] : "#94a3b8")} />
      </ReactFlow>
    </div>
  );
}
