// Comparisons in the words a marketer reads ("is at least", never `gte` or `≥`): the step forms'
// select, the node summaries, the segment rules and (describeCondition) the trace of a split: one
// table, in the journey package.
export { CONDITION_OP_WORDS as OPERATOR_WORDS } from "@postpath/journey";
