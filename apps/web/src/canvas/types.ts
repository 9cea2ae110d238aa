// React Flow's view of a journey: one node type per step family (STYLE.md item 13).
import type { Edge, Node } from "@xyflow/react";
import type { StepFamily, StepTypeOf } from "./draft.ts";

/** Node data is plain JSON (it round-trips through JSON.stringify); no callbacks live here. */
export type StepNodeData<F extends StepFamily = StepFamily> = {
  stepType: StepTypeOf<F>;
  /** The step's config exactly as stored in the draft. */
  config: unknown;
  /** Branch ids used by edges that the step's config does not name; drawn so no edge dangles. */
  extraBranches: string[];
};

export type StepNodeOf<F extends StepFamily> = Node<StepNodeData<F>, F>;

export type TriggerStepNode = StepNodeOf<"trigger">;
export type WaitStepNode = StepNodeOf<"wait">;
export type SplitStepNode = StepNodeOf<"split">;
export type ActionStepNode = StepNodeOf<"action">;
export type FlowStepNode = StepNodeOf<"flow">;

export type StepNode =
  TriggerStepNode | WaitStepNode | SplitStepNode | ActionStepNode | FlowStepNode;

export type StepEdge = Edge;
