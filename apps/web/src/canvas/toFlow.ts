// Draft document → React Flow nodes and edges. Pure: no React, no store.
import { MarkerType } from "@xyflow/react";
import type {
  DraftEdge,
  DraftNode,
  JourneyDraft,
  StepFamily,
  StepType,
  StepTypeOf,
} from "./draft.ts";
import { DEFAULT_BRANCH, branchesOf, stepLabel, summarizeStep } from "./steps/index.ts";
import type { StepEdge, StepNode } from "./types.ts";

function isFamily<F extends StepFamily>(type: StepType, family: F): type is StepTypeOf<F> {
  return type.startsWith(`${family}.`);
}

export function toStepNode(node: DraftNode, extraBranches: string[] = []): StepNode {
  const base = {
    id: node.id,
    position: { x: node.position.x, y: node.position.y },
    ariaLabel: `${stepLabel(node.type)} step, ${summarizeStep(node.type, node.data)}`,
  };
  const type = node.type;
  const config = node.data;
  if (isFamily(type, "trigger"))
    return { ...base, type: "trigger", data: { stepType: type, config, extraBranches } };
  if (isFamily(type, "wait"))
    return { ...base, type: "wait", data: { stepType: type, config, extraBranches } };
  if (isFamily(type, "split"))
    return { ...base, type: "split", data: { stepType: type, config, extraBranches } };
  if (isFamily(type, "action"))
    return { ...base, type: "action", data: { stepType: type, config, extraBranches } };
  if (isFamily(type, "flow"))
    return { ...base, type: "flow", data: { stepType: type, config, extraBranches } };
  return assertNever(type);
}

export function toStepEdge(edge: DraftEdge): StepEdge {
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: edge.sourceHandle ?? DEFAULT_BRANCH,
    markerEnd: { type: MarkerType.ArrowClosed },
  };
}

export function draftToFlow(draft: JourneyDraft): { nodes: StepNode[]; edges: StepEdge[] } {
  const usedHandles = new Map<string, Set<string>>();
  for (const edge of draft.edges) {
    const handles = usedHandles.get(edge.source) ?? new Set<string>();
    handles.add(edge.sourceHandle ?? DEFAULT_BRANCH);
    usedHandles.set(edge.source, handles);
  }
  const nodes = draft.nodes.map((node) => {
    const known = new Set(branchesOf(node.type, node.data).map((b) => b.id));
    const extra = [...(usedHandles.get(node.id) ?? [])].filter((h) => !known.has(h));
    return toStepNode(node, extra);
  });
  return { nodes, edges: draft.edges.map(toStepEdge) };
}

function assertNever(value: never): never {
  throw new Error(`Unknown step type ${JSON.stringify(value)}`);
}
