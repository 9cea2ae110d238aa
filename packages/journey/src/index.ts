// @postpath/journey — the pure journey language: schemas, validation, compiler, interpreter,
// simulator and the template gallery. No I/O, no frameworks.
export {
  SCHEMA_VERSION,
  STEP_TYPES,
  StepType,
  JourneyDraft,
  DraftNode,
  DraftEdge,
  DEFAULT_BRANCH,
  edgeBranch,
  isStepType,
  stepFamily,
} from "./schema.ts";
export type { JourneyDraftInput, StepFamily } from "./schema.ts";
export {
  JourneySettings,
  EntryRules,
  EventCriterion,
  GoalSetting,
  QuietHours,
  FrequencyCap,
  MessageChannel,
  isQuietTime,
  nextAllowedSendTime,
  frequencyCapAllows,
  frequencyCapReleaseAt,
  entryDecision,
  entryKeyOf,
  MAX_ENTRY_KEY_LENGTH,
} from "./settings.ts";
export type { JourneySettingsInput, EntryHistory, EntryDecision, EntryKey } from "./settings.ts";
export {
  Condition,
  ConditionOp,
  MatchMode,
  evaluateCondition,
  evaluateConditions,
  describeCondition,
  CONDITION_OP_WORDS,
  getPath,
} from "./conditions.ts";
export {
  Duration,
  CalendarOffset,
  TimeOfDay,
  Weekday,
  durationMs,
  isValidTimeZone,
  resolveTimeZone,
  localParts,
  zonedToEpoch,
  nextLocalTime,
} from "./time.ts";
export type { ValidationIssue, IssueSeverity } from "./issues.ts";
export { severityOf, isWarning, errorsOnly } from "./issues.ts";
export type { Plan, PlanStep } from "./plan.ts";
export { validate } from "./validate.ts";
export { compile, parsePlan, PlanError } from "./compile.ts";
export type { CompileResult } from "./compile.ts";
export type { Catalog } from "./steps/module.ts";
export {
  CustomerSnapshot,
  RunState,
  JourneyEvent,
  RunStatus,
  RUN_STATUSES,
  CONSUMED_EVENTS_KEPT,
  parseRunState,
  isFinished,
} from "./state.ts";
export type {
  RunInput,
  Effect,
  EffectKind,
  SendChannel,
  Correlation,
  TriggerEventInput,
} from "./state.ts";
export { initialState, advance, MAX_STEPS_PER_ADVANCE } from "./advance.ts";
export { triggerOf, matchesTrigger, dateTriggerDueAt, listenedEvents } from "./trigger.ts";
export {
  templateContext,
  templateCustomer,
  customerScope,
  customerPath,
  matchesCustomer,
  renderTemplate,
  stepTemplateRenderer,
  analyzeTemplate,
  createLiquid,
  toTemplateError,
  templateLimitOf,
  describeLimit,
  renderOptionsFor,
  checkOutput,
  TemplateError,
  TEMPLATE_LIMITS,
  CUSTOMER_FIELDS,
} from "./templating.ts";
export type {
  TemplateLimits,
  TemplateLimit,
  TemplateAnalysis,
  CreateLiquidOptions,
  RenderTemplateOptions,
} from "./templating.ts";
export { closestName } from "./suggest.ts";
export { simulate } from "./simulate.ts";
export type {
  SimulationResult,
  SimulationEvent,
  SimulateOptions,
  TimelineEntry,
  SimulatedMessage,
} from "./simulate.ts";
export { registry, stepModule, branchesFor, stepCatalog } from "./registry.ts";
export { FORM_SUBMITTED_EVENT } from "./steps/trigger-form.ts";
export { fillCouponPattern, CouponSource, CouponValue } from "./steps/action-coupon.ts";
export { OnError, MAX_RETRIES, stepAttempts } from "./steps/action-common.ts";
export { Delivery, defaultDelivery, stepDelivery } from "./steps/action-common.ts"; // issue 13
export { Purpose, stepPurpose } from "./steps/action-common.ts"; // issue 16: marketing or transactional
export { reachable as channelReachable } from "./steps/split-channel.ts";
export { draftFromSteps } from "./builder.ts";
export type { StepSpec } from "./builder.ts";
export { templates } from "./templates/index.ts";
export type { GalleryTemplate, StarterPage } from "./templates/index.ts";
// issue 14: landing-page documents (the pure model; React components live in @postpath/pages)
export {
  PAGE_SCHEMA_VERSION,
  PageSlug,
  PageDocument,
  FORM_FIELD_TYPES,
  FormFieldType,
  FormField,
  FormProps,
  HeadingProps,
  TextProps,
  ImageProps,
  ButtonProps,
  ProductCardProps,
  CouponCardProps,
  ColumnsProps,
  COLUMN_LAYOUTS,
  RootProps as PageRootProps,
  Block as PageBlock,
  BLOCK_PROPS,
  BLOCK_TYPES,
  RESERVED_FIELD_NAMES,
  formsOf,
  walkBlocks,
  validatePageDocument,
  parsePublishedPage,
  selectOptions,
  submissionSchema,
} from "./pages.ts";
export type { BlockType, PageIssue, PublishedPage, LooseBlock } from "./pages.ts";
// issue 17: experiment statistics for random splits (fixed horizon; jstat distributions)
export {
  analyseExperiment,
  wilsonInterval,
  plannedSamplePerArm,
  DEFAULT_EXPERIMENT_OPTIONS,
  SAMPLE_RATIO_ALPHA,
} from "./experiments.ts";
export type {
  ArmFigures,
  ArmReport,
  ExperimentOptions,
  ExperimentReport,
  Verdict,
} from "./experiments.ts";
// issue 18: where customers already inside go when a new version is published
export { previewMigration } from "./migration.ts";
export { stableJson } from "./hash.ts";
export type {
  ChangedWaitRule,
  Destination,
  MigrationChoices,
  MigrationLine,
  MigrationMode,
  MigrationPreview,
  StepPopulation,
  VersionInfo,
} from "./migration.ts";
export { AttributionSetting } from "./settings.ts"; // issue 17
export { pickVariant, randomBucket, SplitRandomConfig } from "./steps/split-random.ts"; // issue 17: rollups per variant
export * from "./segments.ts"; // issue 16: saved segments and lifecycle stages
// issue 18: the move of runs in flight to a new version
export { enterStep } from "./advance.ts";
export { countChanges, destinationOf, moveRunState } from "./migration.ts";
export type { MovedRun, SeenCount } from "./migration.ts";
// issue 16: splits by saved segment and lifecycle stage
export {
  SEGMENTS_PATH,
  LIFECYCLE_STAGE_PATH,
  SEGMENT_OPS,
  LIFECYCLE_OPS,
  isMembershipCondition,
  planReadsMemberships,
} from "./membership.ts";
