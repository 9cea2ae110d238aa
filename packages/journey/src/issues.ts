export type ValidationIssue = {
  /** Stable machine code, e.g. "branch.unconnected". */
  code: string;
  /** A sentence a marketer understands. */
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** The config field (dotted path) the issue is about. */
  field?: string;
  /** The branch (outgoing handle) the issue is about. */
  branch?: string;
};
