// One custom node component per step family, registered in a module-scope `nodeTypes`
// (a new object per render would make React Flow re-mount every node).
import { Handle, Position } from "@xyflow/react";
import type { NodeProps, NodeTypes } from "@xyflow/react";
import { memo } from "react";
import type { StepFamily } from "./draft.ts";
import { branchesOf, stepLabel, summarizeStep } from "./steps/index.ts";
import type { Branch } from "./steps/index.ts";
import type {
  ActionStepNode,
  FlowStepNode,
  SplitStepNode,
  StepNodeData,
  TriggerStepNode,
  WaitStepNode,
} from "./types.ts";

function outputs(data: StepNodeData): Branch[] {
  return [...branchesOf(data.stepType, data.config), ...data.extraBranches.map((id) => ({ id, label: id, optional: false }))];
}

/** Triggers start runs and goals are reached by their event, so neither takes a connection. */
function acceptsIncoming(data: StepNodeData): boolean {
  return !data.stepType.startsWith("trigger.") && data.stepType !== "flow.goal";
}

function StepCard({ family, data, selected }: { family: StepFamily; data: StepNodeData; selected: boolean }) {
  const label = stepLabel(data.stepType);
  const summary = summarizeStep(data.stepType, data.config);
  const branches = outputs(data);
  return (
    <div className={`step step--${family}${selected ? " step--selected" : ""}`} data-step-type={data.stepType}>
      {acceptsIncoming(data) ? <Handle type="target" position={Position.Top} /> : null}
      <div className="step__type">{label}</div>
      <div className="step__summary" title={summary}>
        {summary}
      </div>
      {branches.length > 0 ? (
        <div className={`step__branches${branches.every((b) => b.label === "") ? " step__branches--bare" : ""}`}>
          {branches.map((branch) => (
            <div className={`step__branch${branch.optional ? " step__branch--optional" : ""}`} key={branch.id}>
              {branch.label ? <span className="step__branch-label">{branch.label}</span> : null}
              <Handle
                type="source"
                position={Position.Bottom}
                id={branch.id}
                aria-label={branch.label ? `${label} branch: ${branch.label}` : `${label} output`}
              />
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

export const TriggerNode = memo(function TriggerNode({ data, selected }: NodeProps<TriggerStepNode>) {
  return <StepCard family="trigger" data={data} selected={selected} />;
});

export const WaitNode = memo(function WaitNode({ data, selected }: NodeProps<WaitStepNode>) {
  return <StepCard family="wait" data={data} selected={selected} />;
});

export const SplitNode = memo(function SplitNode({ data, selected }: NodeProps<SplitStepNode>) {
  return <StepCard family="split" data={data} selected={selected} />;
});

export const ActionNode = memo(function ActionNode({ data, selected }: NodeProps<ActionStepNode>) {
  return <StepCard family="action" data={data} selected={selected} />;
});

export const FlowNode = memo(function FlowNode({ data, selected }: NodeProps<FlowStepNode>) {
  return <StepCard family="flow" data={data} selected={selected} />;
});

export const nodeTypes = {
  trigger: TriggerNode,
  wait: WaitNode,
  split: SplitNode,
  action: ActionNode,
  flow: FlowNode,
} satisfies Record<StepFamily, unknown> & NodeTypes;
