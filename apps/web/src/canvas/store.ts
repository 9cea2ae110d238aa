// The one editor store (STYLE.md item 14). Components read it through `useShallow` selectors.
// It holds the document being edited (nodes, edges, settings), its undo/redo history, the
// clipboard, and view-only overlays (test-run path, live counts) that never enter the draft.
import { addEdge, applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import type {
  Connection,
  EdgeChange,
  NodeChange,
  OnEdgesChange,
  OnNodesChange,
  XYPosition,
} from "@xyflow/react";
import type { Catalog, ValidationIssue } from "@postpath/journey";
import { create } from "zustand";
import { DEFAULT_BRANCH } from "./branches.ts";
import type { DraftNode, JourneyDraft, StepFamily, StepType } from "./draft.ts";
import { heatOf, type Heat, type HeatMetric } from "./heat.ts";
// Validation and the step catalogue come from the journey language, loaded apart from the canvas
// (language.ts): the store validates once it is loaded.
import { language, languageIfLoaded, loadLanguage } from "./language.ts";
import { layoutPositions } from "./layout.ts";
import { validateOffThread } from "./validateOffThread.ts";
import { draftToFlow, toStepEdge, toStepNode, withExtraBranches } from "./toFlow.ts";
import type { StepEdge, StepNode } from "./types.ts";

/** The journey settings exactly as the draft stores them (may be partial; zod fills defaults). */
export type DraftSettings = Record<string, unknown>;

interface Doc {
  nodes: StepNode[];
  edges: StepEdge[];
  settings: DraftSettings;
}

/** Per-step figures from the live journey (operate.nodeCounts). */
export type NodeCounts = {
  entered: number;
  waiting: number;
  completed: number;
  sent: number;
  failed: number;
  converted: number;
  /** Sends interrupted mid-way and not repeated: may or may not have arrived (see Dead letters). */
  uncertain?: number;
  /** On the trigger step: entries the journey refused, by reason (issue 13; see OperatePanel). */
  refused?: Record<string, number>;
  /** On a PURL step (issue 14): its links made, opened (unique, total) and with a form sent. */
  page?: { links: number; visited: number; visits: number; submitted: number };
};

/** A test run drawn on the canvas: the path taken and what each step decided, when. */
export type Highlight = { path: string[]; notes: Record<string, string[]> };

const HISTORY_LIMIT = 100;

export interface EditorState extends Doc {
  /** Which draft is loaded, so a canvas never shows another journey's nodes. */
  loadedKey: string | null;
  /** Bumped on every change that should be saved (not on selection or mid-drag moves). */
  docRev: number;
  past: Doc[];
  future: Doc[];
  clipboard: { nodes: DraftNode[]; edges: StepEdge[] } | null;
  /** Whether the document can be edited (false for viewers). */
  editable: boolean;
  highlight: Highlight | null;
  /** What the workspace has observed (`journeys.catalog`): template variables are checked
   * against it, as warnings. `{}` until it arrives. */
  catalog: Catalog;
  setCatalog: (catalog: Catalog) => void;
  /** `validate()` of the current document with the catalogue, recomputed on every document
   * change: errors and warnings (`severity: "warning"`). */
  issues: ValidationIssue[];
  /** The errors among `issues`: what blocks publishing. */
  errorCount: number;
  /**
   * Whether a check of the document is still to come (issue 18): a big journey is checked a moment
   * after its first draw (in a worker), and any journey once the language has loaded. Until then
   * `issues` is empty because nothing was checked, not because nothing is wrong: publishing waits.
   */
  checking: boolean;
  /** Errors per node / edge (what marks a step or a connection invalid). */
  issuesByNode: Record<string, ValidationIssue[]>;
  issuesByEdge: Record<string, ValidationIssue[]>;
  /** Warnings per node: shown, but never block publishing. */
  warningsByNode: Record<string, ValidationIssue[]>;
  counts: Record<string, NodeCounts> | null;
  /** issue 17: which figure tints the cards (heat.ts), and each step's share of it. */
  heatBy: HeatMetric;
  heat: Record<string, Heat> | null;
  /** A step the canvas should centre on (bumped `seq` re-centres on the same step). */
  focus: { nodeId: string; seq: number } | null;
  focusNode: (nodeId: string) => void;
  load: (key: string, draft: JourneyDraft, opts?: { editable?: boolean }) => void;
  onNodesChange: OnNodesChange<StepNode>;
  onEdgesChange: OnEdgesChange<StepEdge>;
  connect: (connection: Connection) => void;
  /** Removes the edge leaving `source` by `branch` (keyboard alternative to deleting an edge). */
  disconnect: (source: string, branch: string) => void;
  /** Adds a step (selected); with `from`, connected from that step's branch, in the same undo step. */
  addStep: (
    type: StepType,
    position: XYPosition,
    config?: Record<string, unknown>,
    from?: { source: string; branch: string },
  ) => string;
  updateConfig: (nodeId: string, config: Record<string, unknown>) => void;
  updateSettings: (settings: DraftSettings) => void;
  deleteSelection: () => void;
  /** Removes these steps and connections, and every connection to a removed step: one undo step. */
  removeElements: (nodeIds: readonly string[], edgeIds: readonly string[]) => void;
  selectOnly: (nodeId: string | null) => void;
  copySelection: () => void;
  paste: () => void;
  undo: () => void;
  redo: () => void;
  /** Auto-layout (ELK, loaded on first use): one undo step; steps removed meanwhile stay removed. */
  layout: () => Promise<void>;
  setHighlight: (highlight: Highlight | null) => void;
  setCounts: (counts: Record<string, NodeCounts> | null) => void;
  setHeatBy: (metric: HeatMetric) => void;
}

/** The draft document the store holds (what autosave sends and validation reads). */
export function toDraft(state: Doc): JourneyDraft {
  return {
    schemaVersion: 1,
    settings: state.settings,
    nodes: state.nodes.map((n) => ({
      id: n.id,
      type: n.data.stepType,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      data: n.data.config as Record<string, unknown>,
    })),
    edges: state.edges.map((e) => ({
      id: e.id,
      source: e.source,
      sourceHandle: e.sourceHandle ?? DEFAULT_BRANCH,
      target: e.target,
    })),
  } as JourneyDraft;
}

/** A readable id not used yet: "email", "email-2", … */
export function freshId(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** "email", "sms", "wait", "wait-event", "split-random", "exit"…: readable in traces and URLs. */
export function baseIdFor(type: StepType): string {
  // @postpath/journey's `stepFamily` (the language is not needed for this).
  const family = type.slice(0, type.indexOf(".")) as StepFamily;
  const name = type.slice(type.indexOf(".") + 1).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  switch (family) {
    case "trigger":
      return "trigger";
    case "action":
    case "flow":
      return name;
    case "wait":
      return name === "duration" ? "wait" : `wait-${name}`;
    case "split":
      return `split-${name}`;
  }
}

/** Rebuilds the flow nodes from a document (keeps selection), so extra branch handles stay right. */
function rebuild(nodes: StepNode[], edges: StepEdge[]): StepNode[] {
  const draft = toDraft({ nodes, edges, settings: {} });
  const fresh = draftToFlow(draft).nodes;
  return fresh.map((n, i) => {
    const old = nodes[i];
    return old?.selected ? { ...n, selected: true } : n;
  });
}

const snapshot = (s: Doc): Doc => ({ nodes: s.nodes, edges: s.edges, settings: s.settings });

/** Node changes that alter the document (moves count once the drag ends). */
function changesDoc(changes: NodeChange<StepNode>[] | EdgeChange<StepEdge>[]): boolean {
  return changes.some(
    (c) =>
      c.type === "remove" || c.type === "add" || (c.type === "position" && c.dragging === false),
  );
}

export const useEditorStore = create<EditorState>()((set, get) => {
  /** Applies a document change, recording the previous document for undo. */
  const commit = (next: Partial<Doc>) =>
    set((state) => ({
      ...next,
      past: [...state.past.slice(-(HISTORY_LIMIT - 1)), snapshot(state)],
      future: [],
      docRev: state.docRev + 1,
    }));

  return {
    loadedKey: null,
    nodes: [],
    edges: [],
    settings: {},
    docRev: 0,
    past: [],
    future: [],
    clipboard: null,
    editable: true,
    highlight: null,
    catalog: {},
    setCatalog: (catalog) => {
      set({ catalog });
      // Without the language yet, validation runs (with this catalogue) once it has loaded
      // (`validateAfterPaint`).
      const state = get();
      if (!languageIfLoaded() || state.loadedKey === null) return;
      // A big journey in the worker, as its first check: the catalogue usually arrives a moment
      // after the first draw, and checking 1,000 steps here would hold the page up then.
      if (state.nodes.length > VALIDATE_LATER_OVER) {
        set({ checking: true });
        checkOffThread(state.loadedKey);
      } else set(checkDoc(state, catalog));
    },
    issues: [],
    errorCount: 0,
    checking: false,
    issuesByNode: {},
    issuesByEdge: {},
    warningsByNode: {},
    counts: null,
    heatBy: "off",
    heat: null,
    focus: null,

    focusNode: (nodeId) => {
      get().selectOnly(nodeId);
      set((state) => ({ focus: { nodeId, seq: (state.focus?.seq ?? 0) + 1 } }));
    },

    load: (key, draft, opts) => {
      // A big journey is drawn first (far out) and completed after the first paint; without the
      // journey language yet, any journey is completed once it has loaded.
      const later = draft.nodes.length > VALIDATE_LATER_OVER || !languageIfLoaded();
      // A small journey is drawn only with the language (full cards): ask for it now.
      if (draft.nodes.length <= VALIDATE_LATER_OVER) void loadLanguage();
      const { nodes, edges } = draftToFlow(draft, { later });
      set({
        loadedKey: key,
        nodes,
        edges,
        settings: draft.settings,
        docRev: 0,
        past: [],
        future: [],
        editable: opts?.editable ?? true,
        // Checked by the subscriber below, at once or after the first paint.
        checking: true,
        highlight: null,
        counts: null,
        heat: null,
      });
    },

    onNodesChange: (changes) => {
      const state = get();
      const allowed = state.editable
        ? changes
        : changes.filter((c) => c.type === "select" || c.type === "dimensions");
      if (allowed.length === 0) return;
      const nodes = applyNodeChanges(allowed, state.nodes);
      if (!changesDoc(allowed)) {
        set({ nodes });
        return;
      }
      const removed = new Set(allowed.flatMap((c) => (c.type === "remove" ? [c.id] : [])));
      const edges = removed.size
        ? state.edges.filter((e) => !removed.has(e.source) && !removed.has(e.target))
        : state.edges;
      // A drag's start position is the document before it: record that for undo.
      const dragStart = allowed.some((c) => c.type === "position" && c.dragging === false);
      if (dragStart && removed.size === 0) {
        const origin = dragOrigin ?? snapshot(state);
        dragOrigin = null;
        set((s) => ({
          nodes,
          past: [...s.past.slice(-(HISTORY_LIMIT - 1)), origin],
          future: [],
          docRev: s.docRev + 1,
        }));
        return;
      }
      commit({ nodes, edges });
    },

    onEdgesChange: (changes) => {
      const state = get();
      const allowed = state.editable ? changes : changes.filter((c) => c.type === "select");
      if (allowed.length === 0) return;
      const edges = applyEdgeChanges(allowed, state.edges);
      if (changesDoc(allowed)) commit({ edges });
      else set({ edges });
    },

    connect: (connection) => {
      const state = get();
      if (!state.editable || connection.source === connection.target) return;
      const branch = connection.sourceHandle ?? DEFAULT_BRANCH;
      // One edge per branch: connecting a branch again moves it.
      const kept = state.edges.filter(
        (e) => !(e.source === connection.source && (e.sourceHandle ?? DEFAULT_BRANCH) === branch),
      );
      const id = freshId(`e-${connection.source}-${branch}`, new Set(state.edges.map((e) => e.id)));
      const edge = toStepEdge({
        id,
        source: connection.source,
        sourceHandle: branch,
        target: connection.target,
      });
      commit({ edges: addEdge(edge, kept) });
    },

    disconnect: (source, branch) => {
      const state = get();
      if (!state.editable) return;
      const kept = state.edges.filter(
        (e) => !(e.source === source && (e.sourceHandle ?? DEFAULT_BRANCH) === branch),
      );
      if (kept.length !== state.edges.length) commit({ edges: kept });
    },

    addStep: (type, position, config, from) => {
      const state = get();
      const id = freshId(baseIdFor(type), new Set(state.nodes.map((n) => n.id)));
      const data =
        config ?? (JSON.parse(JSON.stringify(stepDefaults(type))) as Record<string, unknown>);
      const node = { ...toStepNode({ id, type, position, data }), selected: true };
      const nodes = [...state.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
      if (!from || !state.nodes.some((n) => n.id === from.source)) {
        commit({ nodes });
        return id;
      }
      const kept = state.edges.filter(
        (e) => !(e.source === from.source && (e.sourceHandle ?? DEFAULT_BRANCH) === from.branch),
      );
      const edgeId = freshId(
        `e-${from.source}-${from.branch}`,
        new Set(state.edges.map((e) => e.id)),
      );
      const edge = toStepEdge({
        id: edgeId,
        source: from.source,
        sourceHandle: from.branch,
        target: id,
      });
      commit({ nodes, edges: [...kept, edge] });
      return id;
    },

    updateConfig: (nodeId, config) => {
      const state = get();
      if (!state.editable) return;
      const nodes = state.nodes.map((n) =>
        n.id === nodeId ? ({ ...n, data: { ...n.data, config } } as StepNode) : n,
      );
      commit({ nodes: rebuild(nodes, state.edges) });
    },

    updateSettings: (settings) => {
      if (!get().editable) return;
      commit({ settings });
    },

    deleteSelection: () => {
      const state = get();
      get().removeElements(
        state.nodes.filter((n) => n.selected).map((n) => n.id),
        state.edges.filter((e) => e.selected).map((e) => e.id),
      );
    },

    removeElements: (nodeIds, edgeIds) => {
      const state = get();
      if (!state.editable) return;
      const gone = new Set(nodeIds);
      const goneEdges = new Set(edgeIds);
      const nodes = state.nodes.filter((n) => !gone.has(n.id));
      const edges = state.edges.filter(
        (e) => !goneEdges.has(e.id) && !gone.has(e.source) && !gone.has(e.target),
      );
      if (nodes.length === state.nodes.length && edges.length === state.edges.length) return;
      commit({ nodes: rebuild(nodes, edges), edges });
    },

    selectOnly: (nodeId) =>
      set((state) => ({
        nodes: state.nodes.map((n) =>
          n.selected === (n.id === nodeId) ? n : { ...n, selected: n.id === nodeId },
        ),
        edges: state.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      })),

    copySelection: () => {
      const state = get();
      const picked = state.nodes.filter((n) => n.selected);
      if (picked.length === 0) return;
      const ids = new Set(picked.map((n) => n.id));
      const draft = toDraft({ nodes: picked, edges: [], settings: {} });
      set({
        clipboard: {
          nodes: draft.nodes,
          edges: state.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
        },
      });
    },

    paste: () => {
      const state = get();
      if (!state.editable || !state.clipboard) return;
      const taken = new Set(state.nodes.map((n) => n.id));
      const rename = new Map<string, string>();
      const pasted: StepNode[] = [];
      for (const node of state.clipboard.nodes) {
        const id = freshId(node.id.replace(/-\d+$/, ""), taken);
        taken.add(id);
        rename.set(node.id, id);
        const position = { x: node.position.x + 40, y: node.position.y + 40 };
        pasted.push({
          ...toStepNode({ ...node, id, position, data: structuredClone(node.data) }),
          selected: true,
        });
      }
      const edgeIds = new Set(state.edges.map((e) => e.id));
      const edges = state.clipboard.edges.map((e) => {
        const source = rename.get(e.source) ?? e.source;
        const branch = e.sourceHandle ?? DEFAULT_BRANCH;
        const id = freshId(`e-${source}-${branch}`, edgeIds);
        edgeIds.add(id);
        return toStepEdge({
          id,
          source,
          sourceHandle: branch,
          target: rename.get(e.target) ?? e.target,
        });
      });
      // The copies (shifted) become the selection, so a second paste lands further along.
      set({
        clipboard: { nodes: toDraft({ nodes: pasted, edges: [], settings: {} }).nodes, edges },
      });
      commit({
        nodes: [...state.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted],
        edges: [...state.edges, ...edges],
      });
    },

    undo: () =>
      set((state) => {
        const previous = state.past[state.past.length - 1];
        if (!previous || !state.editable) return state;
        return {
          ...previous,
          past: state.past.slice(0, -1),
          future: [snapshot(state), ...state.future],
          docRev: state.docRev + 1,
        };
      }),

    redo: () =>
      set((state) => {
        const next = state.future[0];
        if (!next || !state.editable) return state;
        return {
          ...next,
          past: [...state.past, snapshot(state)],
          future: state.future.slice(1),
          docRev: state.docRev + 1,
        };
      }),

    layout: async () => {
      const before = get();
      if (!before.editable) return;
      const positions = await layoutPositions(before.nodes, before.edges);
      // Edits made while ELK worked are kept: only the nodes it placed move.
      const state = get();
      if (state.loadedKey !== before.loadedKey) return;
      commit({
        nodes: state.nodes.map((n) => {
          const p = positions.get(n.id);
          return p ? { ...n, position: p } : n;
        }),
      });
    },

    setHighlight: (highlight) => set({ highlight }),
    setCounts: (counts) => set({ counts, heat: heatOf(counts, get().heatBy) }),
    setHeatBy: (heatBy) => set({ heatBy, heat: heatOf(get().counts, heatBy) }),
  };
});

// The document as it was when the current drag began (React Flow reports moves continuously;
// one undo step per drag).
let dragOrigin: Doc | null = null;
useEditorStore.subscribe((state, previous) => {
  if (dragOrigin === null && state.nodes !== previous.nodes && state.nodes.some((n) => n.dragging))
    dragOrigin = snapshot(previous);
  const loaded = state.loadedKey !== previous.loadedKey;
  if (loaded && (state.nodes.length > VALIDATE_LATER_OVER || !languageIfLoaded())) {
    useEditorStore.setState(NO_ISSUES);
    validateAfterPaint(state.loadedKey, state.docRev);
  } else if (loaded || (state.docRev !== previous.docRev && !onlyMoved(state, previous))) {
    // An edit before the language has loaded (a moment after a big journey's first draw) is
    // checked once it has.
    if (languageIfLoaded()) useEditorStore.setState(checkDoc(state, state.catalog));
    else {
      if (!state.checking) useEditorStore.setState({ checking: true });
      validateAfterPaint(state.loadedKey, state.docRev);
    }
  }
});

/**
 * Whether a change only moved steps (a drop, or its undo): validation reads no position, so the
 * issues found still hold. Checking 5,000 steps again made every drop a long frame (issue 18).
 */
function onlyMoved(state: Doc, previous: Doc): boolean {
  if (state.edges !== previous.edges || state.settings !== previous.settings) return false;
  if (state.nodes.length !== previous.nodes.length) return false;
  return state.nodes.every((n, i) => {
    const p = previous.nodes[i];
    return p !== undefined && n.id === p.id && n.type === p.type && n.data === p.data;
  });
}

/**
 * A big journey is drawn before it is checked: validating 1,000 steps takes longer than drawing
 * them far out, and nothing on the first screen needs the result (problems show as the marks
 * appear a moment later). Smaller journeys are checked at once, as before. The same goes for the
 * handles of branches an edge uses but its step does not name (`draftToFlow`'s `later`): only a
 * full card draws them. After the first paint the journey language is loaded (language.ts: the
 * first draw did not need it), then the handles are added and the journey is checked.
 */
export const VALIDATE_LATER_OVER = 300;
const NO_ISSUES = {
  issues: [],
  errorCount: 0,
  checking: true,
  issuesByNode: {},
  issuesByEdge: {},
  warningsByNode: {},
} satisfies Partial<EditorState>;

function validateAfterPaint(key: string | null, docRev: number): void {
  const run = () => {
    let state = useEditorStore.getState();
    if (state.loadedKey !== key) return; // a new journey completes and checks itself
    // Not a change of the document: no history, nothing to save.
    const nodes = withExtraBranches(state.nodes, state.edges);
    if (nodes) useEditorStore.setState({ nodes });
    state = useEditorStore.getState();
    // A change since then has been checked already.
    if (state.docRev !== docRev) return;
    // A small journey (checked here only because the language was not loaded yet) at once.
    if (state.nodes.length <= VALIDATE_LATER_OVER) {
      useEditorStore.setState(checkDoc(state, state.catalog));
      return;
    }
    // In a worker: validating 1,000 steps would hold the page up for a moment right after its
    // first draw.
    checkOffThread(key);
  };
  // After the next frame has been painted (a timeout queued from an animation frame), load the
  // language; then check, in a task of its own.
  const next = () => void loadLanguage().then(() => setTimeout(run, 0));
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => setTimeout(next, 0));
  else setTimeout(next, 0);
}

/**
 * The current document checked in a worker (validateOffThread.ts); without one, on the main
 * thread. The answer is applied unless a check was started since (an edit checked here, the
 * catalogue arriving): that one is newer.
 */
function checkOffThread(key: string | null): void {
  const state = useEditorStore.getState();
  const mine = ++checks;
  void validateOffThread(toDraft(state), state.catalog).then((issues) => {
    const now = useEditorStore.getState();
    if (now.loadedKey !== key || checks !== mine) return;
    useEditorStore.setState(issues ? groupIssues(issues) : checkDoc(now, now.catalog));
  });
}

/** Validation of the document, grouped by the node or edge each issue concerns. */
export function checkDoc(doc: Doc, catalog: Catalog = {}): Checked {
  checks++;
  return groupIssues(language().validate(toDraft(doc), catalog));
}

type Checked = Pick<
  EditorState,
  "issues" | "errorCount" | "checking" | "issuesByNode" | "issuesByEdge" | "warningsByNode"
>;
/** Checks started, here or in the worker (a worker's answer older than the last one is dropped). */
let checks = 0;

function groupIssues(issues: ValidationIssue[]): Checked {
  const { isWarning } = language();
  let errorCount = 0;
  const issuesByNode: Record<string, ValidationIssue[]> = {};
  const issuesByEdge: Record<string, ValidationIssue[]> = {};
  const warningsByNode: Record<string, ValidationIssue[]> = {};
  for (const issue of issues) {
    if (isWarning(issue)) {
      if (issue.nodeId) (warningsByNode[issue.nodeId] ??= []).push(issue);
      continue;
    }
    errorCount++;
    if (issue.nodeId) (issuesByNode[issue.nodeId] ??= []).push(issue);
    if (issue.edgeId) (issuesByEdge[issue.edgeId] ??= []).push(issue);
  }
  return { issues, errorCount, checking: false, issuesByNode, issuesByEdge, warningsByNode };
}

function stepDefaults(type: StepType): Record<string, unknown> {
  return language().stepCatalog.find((s) => s.type === type)?.defaults ?? {};
}
