// The one editor store (STYLE.md item 14). Components read it through `useShallow` selectors.
import { applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import type { OnEdgesChange, OnNodesChange } from "@xyflow/react";
import { create } from "zustand";
import type { JourneyDraft } from "./draft.ts";
import { draftToFlow } from "./toFlow.ts";
import type { StepEdge, StepNode } from "./types.ts";

export interface EditorState {
  /** Which draft is loaded (journey id and revision), so a canvas never shows another's nodes. */
  loadedKey: string | null;
  nodes: StepNode[];
  edges: StepEdge[];
  load: (key: string, draft: JourneyDraft) => void;
  onNodesChange: OnNodesChange<StepNode>;
  onEdgesChange: OnEdgesChange<StepEdge>;
}

export const useEditorStore = create<EditorState>()((set) => ({
  loadedKey: null,
  nodes: [],
  edges: [],
  load: (key, draft) => {
    const { nodes, edges } = draftToFlow(draft);
    set({ loadedKey: key, nodes, edges });
  },
  onNodesChange: (changes) => set((state) => ({ nodes: applyNodeChanges(changes, state.nodes) })),
  onEdgesChange: (changes) => set((state) => ({ edges: applyEdgeChanges(changes, state.edges) })),
}));
