// One custom node component per step family, registered in a module-scope `nodeTypes`
// (a new object per render would make React Flow re-mount every node).
import { Handle, Position } from "@xyflow/react";
import type { ReactFlowState } from "@xyflow/react";
import type { NodeProps, NodeTypes } from "@xyflow/react";
import { createContext, memo, useContext } from "react";
import { useShallow } from "zustand/react/shallow";
import { countOf, formatCount } from "../format.ts";
import type { EditorState, NodeCounts } from "./store.ts";
import { useEditorStore } from "./store.ts";
import type { StepFamily } from "./draft.ts";
// Full cards are drawn only once the journey language has loaded (language.ts; the canvas waits).
import { language } from "./language.ts";
import { useSegmentDirectory } from "./segmentDirectory.ts";
import type { Branch } from "./steps/index.ts";
import type { StepNodeData } from "./types.ts";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";

/**
 * Every full card has exactly this size, whatever it shows (issues, live counts, a test run's
 * path): overlays never change the layout or cover a neighbour. Detail is in tooltips and panels.
 */
const CARD_SIZE = { width: NODE_WIDTH, height: NODE_HEIGHT } as const;

function outputs(data: StepNodeData): Branch[] {
  return [
    ...language().branchesOf(data.stepType, data.config),
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
      warnings: s.warningsByNode[id],
      notes: s.highlight ? (s.highlight.notes[id] ?? null) : undefined,
      counts: s.counts?.[id],
      heat: s.heat?.[id], // issue 17: the heat overlay
    })),
  );
}

/**
 * Level of detail: below this zoom a card's text is a few pixels high and unreadable, and with
 * hundreds of steps in view the labels, badges and handles are most of what the browser lays out,
 * hit-tests and paints on every frame. So far out each step is drawn as one plain box in its
 * family's colour (red when invalid, green/faded on a test run's path, dark when selected) and the
 * canvas draws the edges as straight lines in a few paths (`FarEdges` in JourneyCanvas.tsx).
 * Nobody connects handles at this zoom, so the far box has none.
 */
export const FAR_ZOOM = 0.35;
/** Read with `useStore(selectFar)`: a boolean, so a pan re-renders nothing unless it crosses the threshold. */
export const selectFar = (s: ReactFlowState) => s.transform[2] < FAR_ZOOM;
/**
 * Whether the canvas is far out, given to the steps by the canvas (which reads `selectFar` once):
 * one store subscription per step would run thousands of selectors on every pan frame.
 */
export const FarContext = createContext(false);

type CardProps = {
  id: string;
  family: StepFamily;
  data: StepNodeData;
  selected: boolean;
  /** The node's measured size (0 before React Flow has measured it). */
  width: number;
  height: number;
};

function StepCard(props: CardProps) {
  const far = useContext(FarContext);
  return far ? <FarCard {...props} /> : <FullCard {...props} />;
}

/** What a far box shows of the overlays, given by the canvas (see `FarContext`). */
export type FarOverlay = Pick<EditorState, "issuesByNode" | "warningsByNode" | "highlight">;
export const FarOverlayContext = createContext<FarOverlay>({
  issuesByNode: {},
  warningsByNode: {},
  highlight: null,
});

/** The overlay classes a far box keeps: whether it is invalid, visited or skipped by a test run. */
function farOverlay(s: FarOverlay, id: string): string {
  let classes = s.issuesByNode[id] ? " step--invalid" : s.warningsByNode[id] ? " step--warned" : "";
  if (s.highlight) classes += s.highlight.notes[id] ? " step--visited" : " step--skipped";
  return classes;
}

function FarCard({ id, family, data, selected, width, height }: CardProps) {
  // From context, not a store subscription per box: a drag changes the store on every frame.
  const overlay = farOverlay(useContext(FarOverlayContext), id);
  // Keeps the size the full card was measured at, so switching detail does not move the edges
  // or make React Flow re-measure every node; a step first drawn far out (a big journey opens
  // fitted, far out) gets the full card's fixed size.
  const size = width > 0 && height > 0 ? { width, height } : CARD_SIZE;
  return (
    <div
      className={`step step--far step--${family}${selected ? " step--selected" : ""}${overlay}`}
      data-step-type={data.stepType}
      style={size}
    />
  );
}

function FullCard({ id, family, data, selected }: CardProps) {
  // A summary can name a saved segment ("If is in segment "VIP""): the workspace's segments
  // usually arrive after the first draw, and the card (memoised on its config) must follow them.
  useSegmentDirectory((s) => s.segments);
  const { stepLabel, summarizeStep } = language();
  const label = stepLabel(data.stepType);
  const summary = summarizeStep(data.stepType, data.config);
  const branches = outputs(data);
  const { issues, warnings, notes, counts, heat } = useOverlay(id);
  const classes = [
    "step",
    `step--${family}`,
    selected ? "step--selected" : "",
    issues ? "step--invalid" : warnings ? "step--warned" : "",
    notes ? "step--visited" : notes === null ? "step--skipped" : "",
    heat ? "step--heat" : "",
  ];
  const name =
    typeof (data.config as { label?: unknown } | null)?.label === "string"
      ? (data.config as { label: string }).label
      : "";
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      data-step-type={data.stepType}
      style={heat ? { ...CARD_SIZE, ["--heat" as string]: heat.share.toFixed(3) } : CARD_SIZE}
      data-heat={heat?.text}
    >
      {acceptsIncoming(data) ? (
        // Only a drop target: dragging from the top of a card moves the card.
        <Handle type="target" position={Position.Top} isConnectableStart={false} />
      ) : null}
      <div className="step__type">
        <span className="step__type-label">{label}</span>
        {notes ? (
          <span className="step__visited-badge" title={notes.join("\n")}>
            ✓<span className="sr-only"> Test run came here: {notes.join("; ")}</span>
          </span>
        ) : null}
        {heat ? <span className="sr-only"> Heat: {heat.text}</span> : null}
        {issues ? (
          <span className="step__issues" title={issues.map((i) => i.message).join("\n")}>
            ⚠ {issues.length}
            <span className="sr-only"> {plural(issues.length, "problem")}</span>
          </span>
        ) : warnings ? (
          <span className="step__warnings" title={warnings.map((w) => w.message).join("\n")}>
            ⚠ {warnings.length}
            <span className="sr-only"> {plural(warnings.length, "warning")}</span>
          </span>
        ) : null}
      </div>
      {name ? <div className="step__name">{name}</div> : null}
      <div className="step__summary" title={summary}>
        {summary}
      </div>
      {issues ? (
        <div className="step__issue-text" title={issues[0]?.message}>
          {issues[0]?.message}
        </div>
      ) : null}
      {counts ? (
        <dl className="step__counts" title={countsDetail(family, counts)}>
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
              {counts.uncertain ? (
                <>
                  <dt title="Sending was interrupted and not repeated: these may or may not have arrived. See Admin → Dead letters.">
                    unconfirmed
                  </dt>
                  <dd>{counts.uncertain}</dd>
                </>
              ) : null}
            </>
          ) : null}
          <dt>converted</dt>
          <dd>{counts.converted}</dd>
        </dl>
      ) : null}
      {counts?.page ? (
        <p
          className="step__page-counts"
          title={`Of ${formatCount(counts.page.links)} personal links: ${formatCount(counts.page.visited)} opened at least once, ${formatCount(counts.page.visits)} visits in all (reloads included), ${formatCount(counts.page.submitted)} with a form sent.`}
        >
          {countOf(counts.page.visits, "visit")} · {countOf(counts.page.submitted, "form")}
        </p>
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
                title={branch.label ? `${label} branch: ${branch.label}` : `${label} output`}
              />
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function plural(n: number, word: string): string {
  return `${word}${n === 1 ? "" : "s"}`;
}

/** The live counts in full, for the tooltip (the card shows them in one short line). */
function countsDetail(family: StepFamily, c: NodeCounts): string {
  const lines = [`${c.entered} entered`, `${c.waiting} waiting here now`];
  if (family === "action") {
    lines.push(`${c.sent} sent`, `${c.failed} failed`);
    if (c.uncertain)
      lines.push(
        `${c.uncertain} unconfirmed (sending was interrupted and not repeated: these may or may not have arrived; see Admin → Dead letters)`,
      );
  }
  lines.push(`${c.converted} converted`);
  return `Live counts\n${lines.join("\n")}`;
}

/** What a step node reads of React Flow's `NodeProps`. */
type StepNodeProps = Pick<NodeProps, "id" | "selected" | "width" | "height"> & {
  data: StepNodeData;
};

/**
 * A node re-renders only when what it draws changes: not while it is dragged (position props)
 * and not when the store rebuilds every node's `data` wrapper around the same config (after an edit).
 */
function sameCard(prev: StepNodeProps, next: StepNodeProps): boolean {
  return (
    prev.id === next.id &&
    prev.selected === next.selected &&
    prev.width === next.width &&
    prev.height === next.height &&
    (prev.data === next.data ||
      (prev.data.stepType === next.data.stepType &&
        prev.data.config === next.data.config &&
        sameStrings(prev.data.extraBranches, next.data.extraBranches)))
  );
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The memoised node component of one step family. */
function stepNode(family: StepFamily, displayName: string) {
  const component = memo(function StepNode({ id, data, selected, width, height }: StepNodeProps) {
    return (
      <StepCard
        id={id}
        family={family}
        data={data}
        selected={selected}
        width={width ?? 0}
        height={height ?? 0}
      />
    );
  }, sameCard);
  component.displayName = displayName;
  return component;
}

export const TriggerNode = stepNode("trigger", "TriggerNode");
export const WaitNode = stepNode("wait", "WaitNode");
export const SplitNode = stepNode("split", "SplitNode");
export const ActionNode = stepNode("action", "ActionNode");
export const FlowNode = stepNode("flow", "FlowNode");

export const nodeTypes = {
  trigger: TriggerNode,
  wait: WaitNode,
  split: SplitNode,
  action: ActionNode,
  flow: FlowNode,
} satisfies Record<StepFamily, unknown> & NodeTypes;
