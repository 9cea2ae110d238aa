// What the canvas needs of the journey language beyond its first far-out draw: the step registry
// (labels, branches, defaults), validation, and the canvas's step views (the one-line summaries).
// Loaded as its own chunk through `language.ts`: with zod's schemas for every step type and
// LiquidJS it is about a third of the canvas's JavaScript, and none of it is needed to draw a big
// journey far out (issue 18 item 5). Import it only through `loadLanguage()`.
export { isStepType, isWarning, stepCatalog, validate } from "@postpath/journey";
export { branchesOf, stepLabel, summarizeStep } from "./steps/index.ts";
