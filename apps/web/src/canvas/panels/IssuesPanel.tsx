// Every problem `validate()` finds, as a list; choosing one selects and centres its step. Errors
// (which block publishing) come first; warnings are labelled as such and never block.
import { isWarning } from "@postpath/journey";
import type { ValidationIssue } from "@postpath/journey";
import { useShallow } from "zustand/react/shallow";
import { useEditorStore } from "../store.ts";
import { distinctStepNames } from "../stepNames.ts";
import { stepFieldLabel } from "./StepPanel.tsx";

export function IssuesPanel({ onFocus }: { onFocus: (issue: ValidationIssue) => void }) {
  const { issues, errorCount, checking, edges, nodes } = useEditorStore(
    useShallow((s) => ({
      issues: s.issues,
      errorCount: s.errorCount,
      checking: s.checking,
      edges: s.edges,
      nodes: s.nodes,
    })),
  );
  // issue 18: the step by its name on the canvas and the field by its label, not "purl · page".
  const names = distinctStepNames(nodes);
  if (issues.length === 0 && checking) {
    // issue 18: a big journey is checked a moment after it is drawn.
    return (
      <section className="panel" aria-labelledby="issues-title">
        <h2 id="issues-title">Problems</h2>
        <p role="status" aria-busy="true">
          Checking the journey for problems…
        </p>
      </section>
    );
  }
  if (issues.length === 0) {
    return (
      <section className="panel" aria-labelledby="issues-title">
        <h2 id="issues-title">Problems</h2>
        <p role="status">No problems: this journey can be published.</p>
      </section>
    );
  }
  const warningCount = issues.length - errorCount;
  // Errors first, each group in validate()'s order.
  const ordered = [...issues.filter((i) => !isWarning(i)), ...issues.filter(isWarning)];
  return (
    <section className="panel" aria-labelledby="issues-title">
      <h2 id="issues-title">Problems ({issues.length})</h2>
      {errorCount > 0 ? (
        <p className="muted">
          Fix the errors before publishing
          {warningCount > 0 ? "; warnings don't prevent it" : ""}. Choose one to go to its step.
        </p>
      ) : (
        <p role="status">
          No errors: this journey can be published. Check the{" "}
          {warningCount === 1 ? "warning" : "warnings"} below; choose one to go to its step.
        </p>
      )}
      <ul className="issues">
        {ordered.map((issue, i) => {
          const stepId = issue.nodeId ?? edges.find((e) => e.id === issue.edgeId)?.source;
          const step = stepId === undefined ? undefined : nodes.find((n) => n.id === stepId);
          const warning = isWarning(issue);
          return (
            <li
              key={`${issue.code}-${issue.nodeId ?? ""}-${issue.edgeId ?? ""}-${issue.field ?? ""}-${i}`}
              data-severity={warning ? "warning" : "error"}
            >
              <button
                type="button"
                className={`issues__item${warning ? " issues__item--warning" : ""}`}
                onClick={() => onFocus(issue)}
              >
                <span className="issues__where">
                  <span
                    className={`issues__severity ${warning ? "status status--paused" : "form-error"}`}
                  >
                    {warning ? "Warning" : "Error"}
                  </span>{" "}
                  {stepId
                    ? (names.get(stepId) ?? "A removed step")
                    : issue.field?.startsWith("settings")
                      ? "Settings"
                      : "Journey"}
                  {issue.field && step
                    ? ` · ${stepFieldLabel(step.data.stepType, issue.field)}`
                    : ""}
                </span>
                {issue.message}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
