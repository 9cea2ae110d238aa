// The journey editor's parts that need the journey language (@postpath/journey: zod schemas of
// every step type, validation, LiquidJS): the palette (the step catalogue), the side panels, the
// publish dialog and the migration's progress. JourneyPage loads them as one chunk after the
// canvas's first paint (issue 18 item 5), so a big journey is drawn without waiting for them.
// Import this module only through `import()`.
export { Palette } from "../canvas/Palette.tsx";
export { IssuesPanel } from "../canvas/panels/IssuesPanel.tsx";
export { OperatePanel } from "../canvas/panels/OperatePanel.tsx";
export { PublishDialog } from "../canvas/panels/PublishDialog.tsx";
export { SettingsPanel } from "../canvas/panels/SettingsPanel.tsx";
export { StepPanel } from "../canvas/panels/StepPanel.tsx";
export { TestRunPanel } from "../canvas/panels/TestRunPanel.tsx";
export { MigrationProgress } from "./MigrationChoice.tsx";
