/**
 * How much an issue matters. An **error** blocks publishing (`compile` refuses the draft); a
 * **warning** is shown but does not: it comes from what the workspace has observed so far (customer
 * attributes, event properties), which may be incomplete, or from something that works but is
 * probably a mistake (a variable that is always empty).
 */
export type IssueSeverity = "error" | "warning";

export type ValidationIssue = {
  /** Stable machine code, e.g. "branch.unconnected". */
  code: string;
  /** A sentence a marketer understands. */
  message: string;
  /** Absent means "error" (every issue that predates warnings is an error). */
  severity?: IssueSeverity;
  nodeId?: string;
  edgeId?: string;
  /** The config field (dotted path) the issue is about. */
  field?: string;
  /** The branch (outgoing handle) the issue is about. */
  branch?: string;
  /** A likely intended value, e.g. the known variable closest to a misspelt one ("first_name"). */
  suggestion?: string;
};

export function severityOf(issue: Pick<ValidationIssue, "severity">): IssueSeverity {
  return issue.severity ?? "error";
}

export function isWarning(issue: Pick<ValidationIssue, "severity">): boolean {
  return issue.severity === "warning";
}

/** The issues that block publishing. */
export function errorsOnly<I extends Pick<ValidationIssue, "severity">>(issues: readonly I[]): I[] {
  return issues.filter((i) => !isWarning(i));
}
