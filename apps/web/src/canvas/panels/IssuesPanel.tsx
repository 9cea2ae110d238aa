// Every problem `validate()` finds, as a list; choosing one selects and centres its step.
import type { ValidationIssue } from "@postpath/journey";
import { useShallow } from "zustand/react/shallow";
import { useEditorStore } from "../store.ts";

export function IssuesPanel({ onFocus }: { onFocus: (issue: ValidationIssue) => void }) {
  const { issues, edges } = useEditorStore(
    useShallow((s) => ({ issues: s.issues, edges: s.edges })),
  );
  if (issues.length === 0) {
    return (
      <section className="panel" aria-labelledby="issues-title">
        <h2 id="issues-title">Problems</h2>
        <p role="status">No problems: this journey can be published.</p>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="issues-title">
      <h2 id="issues-title">Problems ({issues.length})</h2>
      <p className="muted">Fix these before publishing. Choose one to go to its step.</p>
      <ul className="issues">
        {issues.map((issue, i) => {
          const stepId = issue.nodeId ?? edges.find((e) => e.id === issue.edgeId)?.source;
          return (
            <li
              key={`${issue.code}-${issue.nodeId ?? ""}-${issue.edgeId ?? ""}-${issue.field ?? ""}-${i}`}
            >
              <button type="button" className="issues__item" onClick={() => onFocus(issue)}>
                <span className="issues__where">
                  {stepId ?? (issue.field?.startsWith("settings") ? "Settings" : "Journey")}
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
