// Auto-layout with dagre: top-to-bottom layers, branches side by side in handle order.
import dagre from "@dagrejs/dagre";
import type { StepEdge, StepNode } from "./types.ts";

const NODE_WIDTH = 220;
const NODE_HEIGHT = 90;

/** New positions for every node (React Flow positions are the top-left corner). */
export function autoLayout(nodes: StepNode[], edges: StepEdge[]): StepNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    g.setNode(node.id, { width: node.measured?.width ?? NODE_WIDTH, height: node.measured?.height ?? NODE_HEIGHT });
  }
  const ids = new Set(nodes.map((n) => n.id));
  for (const edge of edges) if (ids.has(edge.source) && ids.has(edge.target)) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  return nodes.map((node) => {
    const p = g.node(node.id) as { x: number; y: number; width: number; height: number } | undefined;
    if (!p) return node;
    return { ...node, position: { x: Math.round(p.x - p.width / 2), y: Math.round(p.y - p.height / 2) } };
  });
}
