// Auto-layout with ELK's layered algorithm: top-to-bottom layers, a split's branches left to right
// in handle order (yes before no, arrived before timed out). ELK places every node in its own
// box, so no two steps overlap however branches converge (issue 18). ELK is loaded on the first
// layout only, so it stays out of the main bundle.
import type { ElkExtendedEdge, ElkNode, ElkPort } from "elkjs/lib/elk-api";
import { DEFAULT_BRANCH } from "./branches.ts";
import { language, loadLanguage } from "./language.ts";
import type { StepEdge, StepNode } from "./types.ts";

/** A step card's fixed size on the canvas (nodes.tsx draws every card at exactly this size). */
export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 124;

type Elk = { layout: (graph: ElkNode) => Promise<ElkNode> };
let elk: Promise<Elk> | null = null;

function loadElk(): Promise<Elk> {
  elk ??= import("elkjs/lib/elk.bundled.js").then(({ default: ELK }) => new ELK());
  return elk;
}

const LAYOUT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.spacing.nodeNode": "40",
  "elk.layered.spacing.nodeNodeBetweenLayers": "70",
  "elk.spacing.componentComponent": "60",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.crossingMinimization.forceNodeModelOrder": "false",
  "elk.separateConnectedComponents": "true",
  "elk.padding": "[top=20,left=20,bottom=20,right=20]",
};

/** A node's box for layout: never smaller than the card's fixed size. */
export function boxOf(node: StepNode): { width: number; height: number } {
  return {
    width: Math.max(node.measured?.width ?? 0, NODE_WIDTH),
    height: Math.max(node.measured?.height ?? 0, NODE_HEIGHT),
  };
}

/** The ELK graph of a journey: one port per source handle, in handle order on the bottom side. */
export function toElkGraph(nodes: StepNode[], edges: StepEdge[]): ElkNode {
  const ids = new Set(nodes.map((n) => n.id));
  const usedHandles = new Map<string, Set<string>>();
  for (const e of edges) {
    const set = usedHandles.get(e.source) ?? new Set<string>();
    set.add(e.sourceHandle ?? DEFAULT_BRANCH);
    usedHandles.set(e.source, set);
  }
  const children: ElkNode[] = nodes.map((node) => {
    const { width, height } = boxOf(node);
    const order = [
      ...language()
        .branchesOf(node.data.stepType, node.data.config)
        .map((b) => b.id),
      ...node.data.extraBranches,
    ];
    for (const used of usedHandles.get(node.id) ?? []) if (!order.includes(used)) order.push(used);
    const ports: ElkPort[] = [
      { id: `${node.id}::in`, width: 1, height: 1, layoutOptions: { "elk.port.side": "NORTH" } },
      ...order.map((branch, i) => ({
        id: portId(node.id, branch),
        width: 1,
        height: 1,
        // Bottom-side ports are numbered right to left (clockwise), so the first branch gets the highest.
        layoutOptions: { "elk.port.side": "SOUTH", "elk.port.index": String(order.length - i) },
      })),
    ];
    return {
      id: node.id,
      width,
      height,
      ports,
      layoutOptions: { "elk.portConstraints": "FIXED_ORDER" },
    };
  });
  const elkEdges: ElkExtendedEdge[] = edges
    .filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target)
    .map((e) => ({
      id: e.id,
      sources: [portId(e.source, e.sourceHandle ?? DEFAULT_BRANCH)],
      targets: [`${e.target}::in`],
    }));
  return { id: "root", layoutOptions: LAYOUT_OPTIONS, children, edges: elkEdges };
}

function portId(node: string, branch: string): string {
  return `${node}::out::${branch}`;
}

/** New top-left positions for every node, by id (React Flow positions are the top-left corner). */
export async function layoutPositions(
  nodes: StepNode[],
  edges: StepEdge[],
): Promise<Map<string, { x: number; y: number }>> {
  const positions = new Map<string, { x: number; y: number }>();
  if (nodes.length === 0) return positions;
  const [layered] = await Promise.all([loadElk(), loadLanguage()]);
  const result = await layered.layout(toElkGraph(nodes, edges));
  for (const child of result.children ?? [])
    positions.set(child.id, { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) });
  return positions;
}

/** The nodes moved to their laid-out positions. */
export async function autoLayout(nodes: StepNode[], edges: StepEdge[]): Promise<StepNode[]> {
  const positions = await layoutPositions(nodes, edges);
  return nodes.map((node) => {
    const p = positions.get(node.id);
    return p ? { ...node, position: p } : node;
  });
}
