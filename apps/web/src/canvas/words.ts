// Comparisons in the words a marketer reads ("is at least", never `gte` or `≥`): the step forms'
// select, the node summaries and (through the journey package's describeCondition, which words
// them the same — issue-016-operator-words.test.tsx checks both) the trace of a split.
import type { ConditionOp } from "@postpath/journey";

export const OPERATOR_WORDS: Readonly<Record<ConditionOp, string>> = {
  eq: "equals",
  neq: "does not equal",
  gt: "is greater than",
  gte: "is at least",
  lt: "is less than",
  lte: "is at most",
  contains: "contains",
  notContains: "does not contain",
  startsWith: "starts with",
  endsWith: "ends with",
  in: "is one of",
  notIn: "is not one of",
  exists: "is set",
  notExists: "is not set",
};
