// One custom node component per step family, registered in a module-scope `nodeTypes`
// (a new object per render would make React Flow re-mount every node).
import { Handle, Position, useStore } from "@xyflow/react";
import type { ReactFlowState } from "@xyflow/react";
import type { NodeProps, NodeTypes } from "@xyflow/react";
import { memo } from "react";
import { useShallow } from "zustand/react/shallow";
import { useEditorStore } from "./store.ts";
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
  return [
    ...branchesOf(data.stepType, data.config),
    ...data.extraBranches.map((id) => ({ id, label: id, optional: false })),
  ];
}

/** Triggers start runs and goals are reached by their event, so neither takes a connection. */
function acceptsIncoming(data: StepNodeData): boolean {
  return !data.stepType.startsWith("trigger.") && data.stepType !== "flow.goal";
}

/** What the canvas draws over a step: its validation issues, test-run notes and live counts. */
function useOverlay(id: string) {
  return useEditorStore(
    useShallow((s) => ({
      issues: s.issuesByNode[id],
      notes: s.highlight ? (s.highlight.notes[id] ?? null) : undefined,
      counts: s.counts?.[id],
    })),
  );
}

/** Below this zoom the text is unreadable anyway: steps are drawn as plain coloured cards (cheap
 * to paint when hundreds are on screen), keeping their handles so edges stay attached. */
export const FAR_ZOOM = 0.35;
const isFar = (s: ReactFlowState) => s.transform[2] < FAR_ZOOM;

function StepCard(props: {
  id: string;
  family: StepFamily;
  data: StepNodeData;
  selected: boolean;
}) {
  const far = useStore(isFar);
  return far ? <FarCard {...props} /> : <FullCard {...props} />;
}

function FarCard({
  id,
  family,
  data,
  selected,
}: {
  id: string;
  family: StepFamily;
  data: StepNodeData;
  selected: boolean;
}) {
  const invalid = useEditorStore((s) => s.issuesByNode[id] !== undefined);
  const branches = outputs(data);
  return (
    <div
      className={`step step--far step--${family}${selected ? " step--selected" : ""}${invalid ? " step--invalid" : ""}`}
      data-step-type={data.stepType}
    >
      {acceptsIncoming(data) ? <Handle type="target" position={Position.Top} /> : null}
      <div className="step__far-label">{stepLabel(data.stepType)}</div>
      {branches.length > 0 ? (
        <div className="step__branches">
          {branches.map((branch) => (
            <div className="step__branch" key={branch.id}>
              <Handle type="source" position={Position.Bottom} id={branch.id} />
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function FullCard({
  id,
  family,
  data,
  selected,
}: {
  id: string;
  family: StepFamily;
  data: StepNodeData;
  selected: boolean;
}) {
  const label = stepLabel(data.stepType);
  const summary = summarizeStep(data.stepType, data.config);
  const branches = outputs(data);
  const { issues, notes, counts } = useOverlay(id);
  const classes = [
    "step",
    `step--${family}`,
    selected ? "step--selected" : "",
    issues ? "step--invalid" : "",
    notes ? "step--visited" : notes === null ? "step--skipped" : "",
  ];
  const name =
    typeof (data.config as { label?: unknown } | null)?.label === "string"
      ? (data.config as { label: string }).label
      : "";
  return (
    <div className={classes.filter(Boolean).join(" ")} data-step-type={data.stepType}>
      {acceptsIncoming(data) ? <Handle type="target" position={Position.Top} /> : null}
      <div className="step__type">
        {label}
        {issues ? (
          <span
            className="step__issues"
            title={issues.map((i) => i.message).join("\n")}
            aria-label={`${issues.length} problem(s)`}
          >
            ⚠ {issues.length}
          </span>
        ) : null}
      </div>
      {name ? <div className="step__name">{name}</div> : null}
      <div className="step__summary" title={summary}>
        {summary}
      </div>
      {issues ? <div className="step__issue-text">{issues[0]?.message}</div> : null}
      {notes ? (
        <ol className="step__notes" aria-label="Test run">
          {notes.map((note, i) => (
            <li key={i}>{note}</li>
          ))}
        </ol>
      ) : null}
      {counts ? (
        <dl className="step__counts" aria-label="Live counts">
          <dt>entered</dt>
          <dd>{counts.entered}</dd>
          <dt>waiting</dt>
          <dd>{counts.waiting}</dd>
          {family === "action" ? (
            <>
              <dt>sent</dt>
              <dd>{counts.sent}</dd>
              <dt>failed</dt>
              <dd>{counts.failed}</dd>
            </>
          ) : null}
          <dt>converted</dt>
          <dd>{counts.converted}</dd>
        </dl>
      ) : null}
      {branches.length > 0 ? (
        <div
          className={`step__branches${branches.every((b) => b.label === "") ? " step__branches--bare" : ""}`}
        >
          {branches.map((branch) => (
            <div
              className={`step__branch${branch.optional ? " step__branch--optional" : ""}`}
              key={branch.id}
            >
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

export const TriggerNode = memo(function TriggerNode({
  id,
  data,
  selected,
}: NodeProps<TriggerStepNode>) {
  return <StepCard id={id} family="trigger" data={data} selected={selected} />;
});

export const WaitNode = memo(function WaitNode({ id, data, selected }: NodeProps<WaitStepNode>) {
  return <StepCard id={id} family="wait" data={data} selected={selected} />;
});

export const SplitNode = memo(function SplitNode({ id, data, selected }: NodeProps<SplitStepNode>) {
  return <StepCard id={id} family="split" data={data} selected={selected} />;
});

export const ActionNode = memo(function ActionNode({
  id,
  data,
  selected,
}: NodeProps<ActionStepNode>) {
  return <StepCard id={id} family="action" data={data} selected={selected} />;
});

export const FlowNode = memo(function FlowNode({ id, data, selected }: NodeProps<FlowStepNode>) {
  return <StepCard id={id} family="flow" data={data} selected={selected} />;
});

export const nodeTypes = {
  trigger: TriggerNode,
  wait: WaitNode,
  split: SplitNode,
  action: ActionNode,
  flow: FlowNode,
} satisfies Record<StepFamily, unknown> & NodeTypes;
