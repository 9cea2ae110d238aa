// The test customer and events the marketer describes in the Test run panel, shared with the
// step panel's message preview (which renders with this customer once one is described). Kept
// apart from the editor store: it is not part of the journey document and has no undo.
import type { CustomerSnapshot } from "@postpath/journey";
import { create } from "zustand";
// Not from @postpath/journey: the editor loads this store before the journey language (issue 18).
import { LIFECYCLE_STAGE_NAMES, LIFECYCLE_STAGES } from "../constants.ts";
import type { SegmentOption } from "../segmentDirectory.ts";
import { SAMPLE_CUSTOMER, SAMPLE_EVENT_PROPERTIES } from "../sampleCustomer.ts";

export const UNITS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
export type Unit = keyof typeof UNITS;

export type TestEvent = { name: string; after: number; unit: Unit; properties: string };

interface TestRunState {
  /** The test customer as typed (JSON); null until edited, meaning the sample customer. */
  customerText: string | null;
  /** The events as edited; null until edited, meaning one trigger event with sample properties. */
  events: TestEvent[] | null;
  setCustomerText: (text: string) => void;
  setEvents: (events: TestEvent[]) => void;
  /** Back to the sample customer (a journey page opening). */
  reset: () => void;
}

export const useTestRunStore = create<TestRunState>()((set) => ({
  customerText: null,
  events: null,
  setCustomerText: (customerText) => set({ customerText }),
  setEvents: (events) => set({ events }),
  reset: () => set({ customerText: null, events: null }),
}));

/** The sample customer as the Test run panel shows it before any edit. */
export const SAMPLE_CUSTOMER_TEXT = JSON.stringify(
  {
    externalId: SAMPLE_CUSTOMER.externalId,
    email: SAMPLE_CUSTOMER.email,
    phone: SAMPLE_CUSTOMER.phone,
    timezone: SAMPLE_CUSTOMER.timezone,
    attributes: SAMPLE_CUSTOMER.attributes,
    // issue 16: the saved segments they are in (by name) and their lifecycle stage.
    segments: [],
    lifecycle_stage: null,
  },
  null,
  2,
);

/** The events before any edit: the trigger's event, at entry, with the sample properties. */
export function defaultEvents(triggerEvent: string): TestEvent[] {
  return [
    {
      name: triggerEvent,
      after: 0,
      unit: "minutes",
      properties: JSON.stringify(SAMPLE_EVENT_PROPERTIES),
    },
  ];
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** A lifecycle stage as typed: its code (`at_risk`) or its name ("At risk"); null: none. */
export function stageOf(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  const typed = typeof value === "string" ? value : JSON.stringify(value);
  const text = typed.trim().toLowerCase();
  const stage = LIFECYCLE_STAGES.find(
    (s) => s === text || LIFECYCLE_STAGE_NAMES[s].toLowerCase() === text,
  );
  if (!stage)
    throw new Error(
      `The customer's lifecycle_stage “${typed}” is not a stage: use one of ${LIFECYCLE_STAGES.map((s) => LIFECYCLE_STAGE_NAMES[s]).join(", ")}, or null.`,
    );
  return stage;
}

/**
 * issue 16: the saved segments a test customer is in, as the engine lists them (ids, their
 * lifecycle stage's segment included), from the names typed under "segments" (an id works too).
 * Without the workspace's segments (not loaded yet) the names are kept as typed.
 */
export function segmentIdsOf(
  names: unknown,
  stage: string | null,
  segments: readonly SegmentOption[] | undefined,
): string[] {
  const typed = Array.isArray(names) ? names.map(String) : [];
  if (!segments) return typed;
  const ids = typed.map((name) => {
    const found =
      segments.find((s) => s.kind !== "lifecycle" && s.name === name) ??
      segments.find((s) => s.id === name);
    if (!found)
      throw new Error(
        `The customer's segments name “${name}”, which is not a saved segment of this workspace.`,
      );
    return found.id;
  });
  const stageSegment = stage
    ? segments.find((s) => s.kind === "lifecycle" && s.stage === stage)
    : undefined;
  return [...new Set([...ids, ...(stageSegment ? [stageSegment.id] : [])])].sort();
}

/** The test customer typed as JSON, over the sample's ids (throws on malformed JSON); with the
 * workspace's segments, "segments" (names) and "lifecycle_stage" become what the engine reads. */
export function parseTestCustomer(
  text: string,
  segments?: readonly SegmentOption[],
): CustomerSnapshot {
  const c = parseJsonObject(text, "The customer");
  const { segments: names, lifecycle_stage: stage, ...rest } = c;
  const lifecycleStage = stageOf(stage);
  return {
    ...SAMPLE_CUSTOMER,
    ...(rest as Partial<CustomerSnapshot>),
    attributes: (c.attributes as Record<string, unknown> | undefined) ?? {},
    tags: Array.isArray(c.tags) ? (c.tags as string[]) : [],
    segments: segmentIdsOf(names, lifecycleStage, segments),
    lifecycleStage,
  };
}

/** A real customer (journeys.testCustomer) as the test customer's JSON: segments by name. */
export function customerText(customer: CustomerSnapshot, segmentNames: readonly string[]): string {
  return JSON.stringify(
    {
      externalId: customer.externalId,
      email: customer.email ?? null,
      phone: customer.phone ?? null,
      timezone: customer.timezone ?? null,
      attributes: customer.attributes,
      tags: customer.tags,
      segments: segmentNames,
      lifecycle_stage: customer.lifecycleStage ?? null,
    },
    null,
    2,
  );
}

export type PreviewSubject = {
  /** "sample customer Ada", "test-run customer Grace". */
  label: string;
  customer: CustomerSnapshot;
  /** The trigger event's properties (the first test event's). */
  event: Record<string, unknown>;
  /** Why the sample is used although a test customer was described. */
  note: string | null;
};

/** First name, else email, else external id. */
function nameOf(c: CustomerSnapshot): string {
  const first = c.attributes.first_name;
  return typeof first === "string" && first.trim() !== "" ? first.trim() : c.email || c.externalId;
}

const SAMPLE: PreviewSubject = {
  label: `sample customer ${nameOf(SAMPLE_CUSTOMER)}`,
  customer: SAMPLE_CUSTOMER,
  event: SAMPLE_EVENT_PROPERTIES,
  note: null,
};

/** Who message previews render for: the test-run customer once described, else the sample. */
export function previewSubject(
  customerText: string | null,
  events: readonly TestEvent[] | null,
): PreviewSubject {
  if (customerText === null && events === null) return SAMPLE;
  try {
    const customer = customerText === null ? SAMPLE_CUSTOMER : parseTestCustomer(customerText);
    const first = events === null ? undefined : events[0];
    const event = first
      ? parseJsonObject(first.properties, "Event 1's properties")
      : events === null
        ? SAMPLE_EVENT_PROPERTIES
        : {};
    return {
      label: customerText === null ? SAMPLE.label : `test-run customer ${nameOf(customer)}`,
      customer,
      event,
      note: null,
    };
  } catch (e) {
    return {
      ...SAMPLE,
      note: `The test run's customer or events are not valid JSON (${e instanceof Error ? e.message : String(e)}), so the sample customer is used.`,
    };
  }
}
