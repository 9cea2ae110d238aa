// Auto-layout with dagre: top-to-bottom layers, branches side by side in handle order.
import dagre from "@dagrejs/dagre";
import { DEFAULT_BRANCH, branchesOf } from "./steps/index.ts";
import type { StepEdge, StepNode } from "./types.ts";

const NODE_WIDTH = 220;
const NODE_HEIGHT = 90;

/** New positions for every node (React Flow positions are the top-left corner). */
export function autoLayout(nodes: StepNode[], edges: StepEdge[]): StepNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    g.setNode(node.id, {
      width: node.measured?.width ?? NODE_WIDTH,
      height: node.measured?.height ?? NODE_HEIGHT,
    });
  }
  const ids = new Set(nodes.map((n) => n.id));
  for (const edge of edges)
    if (ids.has(edge.source) && ids.has(edge.target)) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  const x = new Map<string, number>();
  for (const node of nodes) {
    const p = g.node(node.id) as { x: number } | undefined;
    if (p) x.set(node.id, p.x);
  }
  orderBranches(nodes, edges, x);
  return nodes.map((node) => {
    const p = g.node(node.id) as
      { x: number; y: number; width: number; height: number } | undefined;
    if (!p) return node;
    return {
      ...node,
      position: {
        x: Math.round((x.get(node.id) ?? p.x) - p.width / 2),
        y: Math.round(p.y - p.height / 2),
      },
    };
  });
}

/**
 * Dagre orders siblings to reduce crossings, not by branch: put the steps a split leads to (when
 * only that split leads to them) left to right in the order of its handles (yes before no,
 * arrived before timed out), so edges leave their handles without crossing.
 */
function orderBranches(nodes: StepNode[], edges: StepEdge[], x: Map<string, number>): void {
  const incoming = new Map<string, number>();
  for (const e of edges) incoming.set(e.target, (incoming.get(e.target) ?? 0) + 1);
  for (const node of nodes) {
    const order = branchesOf(node.data.stepType, node.data.config).map((b) => b.id);
    if (order.length < 2) continue;
    const children = edges
      .filter((e) => e.source === node.id && incoming.get(e.target) === 1 && x.has(e.target))
      .map((e) => ({ target: e.target, rank: order.indexOf(e.sourceHandle ?? DEFAULT_BRANCH) }))
      .filter((c) => c.rank >= 0)
      .sort((a, b) => a.rank - b.rank);
    if (children.length < 2) continue;
    const slots = children.map((c) => x.get(c.target) ?? 0).sort((a, b) => a - b);
    children.forEach((c, i) => x.set(c.target, slots[i] ?? 0));
  }
}
