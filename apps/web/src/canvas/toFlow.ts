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
import { DEFAULT_BRANCH } from "./branches.ts";
import { language, languageIfLoaded } from "./language.ts";
import { useSegmentDirectory, type SegmentOption } from "./segmentDirectory.ts";
import type { StepEdge, StepNode } from "./types.ts";

function isFamily<F extends StepFamily>(type: StepType, family: F): type is StepTypeOf<F> {
  return type.startsWith(`${family}.`);
}

/**
 * What assistive technology says for a step: its name and one-line summary. Before the journey
 * language has loaded (language.ts: the moment after a big journey's first draw) only its kind.
 */
export function stepAriaLabel(type: StepType, config: unknown): string {
  const lang = languageIfLoaded();
  if (!lang) return `${type.slice(0, type.indexOf("."))} step`;
  return `${lang.stepLabel(type)} step, ${lang.summarizeStep(type, config)}`;
}

export function toStepNode(
  node: DraftNode,
  extraBranches: string[] = [],
  labelled = true,
): StepNode {
  // Without the language yet, `labelledNode` adds the label when the step is drawn as a node.
  if (!labelled || !languageIfLoaded()) return stepNodeOf(node, extraBranches, {});
  const segments = useSegmentDirectory.getState().segments;
  const made = stepNodeOf(node, extraBranches, { ariaLabel: stepAriaLabel(node.type, node.data) });
  // Its label holds until the workspace's segments change (`labelledNode`).
  labelledCopies.set(made, { segments, node: made });
  return made;
}

function stepNodeOf(
  node: DraftNode,
  extraBranches: string[],
  label: { ariaLabel?: string },
): StepNode {
  const base = { id: node.id, position: { x: node.position.x, y: node.position.y }, ...label };
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

/**
 * The draft as React Flow nodes and edges. `later`: leave out what only a full card or a drawn
 * node needs, to be added after the first paint (a big journey opens far out, where neither is
 * drawn; working them out for 1,000 steps parses every step's config): the handles for branches
 * an edge uses but the step does not name (`withExtraBranches`) and the nodes' `ariaLabel`
 * (`labelledNode`, when drawn). The same happens while the journey language is not loaded yet
 * (language.ts), whatever the size: the store adds the handles once it is.
 */
export function draftToFlow(
  draft: JourneyDraft,
  { later = false }: { later?: boolean } = {},
): { nodes: StepNode[]; edges: StepEdge[] } {
  const edges = draft.edges.map(toStepEdge);
  if (later || !languageIfLoaded())
    return { nodes: draft.nodes.map((node) => toStepNode(node, [], false)), edges };
  const used = usedHandles(edges);
  const nodes = draft.nodes.map((node) =>
    toStepNode(node, extraBranchesOf(node.id, node.type, node.data, used)),
  );
  return { nodes, edges };
}

function usedHandles(edges: readonly StepEdge[]): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  for (const edge of edges) {
    const handles = used.get(edge.source) ?? new Set<string>();
    handles.add(edge.sourceHandle ?? DEFAULT_BRANCH);
    used.set(edge.source, handles);
  }
  return used;
}

/** The branches an edge leaves this step by that the step does not name. */
function extraBranchesOf(
  id: string,
  type: StepType,
  config: unknown,
  used: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const handles = used.get(id);
  if (!handles) return [];
  const known = new Set(
    language()
      .branchesOf(type, config)
      .map((b) => b.id),
  );
  return [...handles].filter((h) => !known.has(h));
}

/**
 * The nodes with the extra branch handles `draftToFlow(…, { later: true })` left out, or null
 * when no step needs one (the usual case: only an edge from a branch a step no longer has).
 */
export function withExtraBranches(
  nodes: readonly StepNode[],
  edges: readonly StepEdge[],
): StepNode[] | null {
  const used = usedHandles(edges);
  let changed = false;
  const next = nodes.map((n) => {
    const extra = extraBranchesOf(n.id, n.data.stepType, n.data.config, used);
    const had = n.data.extraBranches;
    if (extra.length === had.length && extra.every((h, i) => h === had[i])) return n;
    changed = true;
    return { ...n, data: { ...n.data, extraBranches: extra } } as StepNode;
  });
  return changed ? next : null;
}

/** Per node: its labelled copy, and the workspace's segments its label was worked out with. */
const labelledCopies = new WeakMap<
  StepNode,
  { segments: readonly SegmentOption[] | undefined; node: StepNode }
>();
/**
 * The node with its `ariaLabel` (React Flow's label for the node's element), added if left out,
 * and worked out again once the workspace's segments have arrived (a summary names them: "If is
 * in segment "VIP"", not "If is in a saved segment"; issue 18).
 */
export function labelledNode(n: StepNode): StepNode {
  if (!languageIfLoaded()) return n;
  const segments = useSegmentDirectory.getState().segments;
  const cached = labelledCopies.get(n);
  if (cached && cached.segments === segments) return cached.node;
  const ariaLabel = stepAriaLabel(n.data.stepType, n.data.config);
  const node = ariaLabel === n.ariaLabel ? n : { ...n, ariaLabel };
  labelledCopies.set(n, { segments, node });
  return node;
}

function assertNever(value: never): never {
  throw new Error(`Unknown step type ${JSON.stringify(value)}`);
}
