// issue 16 (item 2): segments as first-class objects. A definition is a list of rules matched
// all or any: customer attributes (the condition model of triggers and splits), behaviour (how
// many times / how much / when last a customer did an event within a window, with filters on the
// event's properties), membership of another saved segment, and consent per channel. The engine
// compiles a definition to one SQL query (packages/engine/src/segments.ts); the web app's editor
// shares this schema and the words.
import { z } from "zod";
import { Condition, ConditionOp, describeCondition, MatchMode } from "./conditions.ts";

/** Days a window may span (ten years). */
export const MAX_WINDOW_DAYS = 3650;
/** Rules in one definition; filters on one behavioural rule. */
export const MAX_RULES = 30;
export const MAX_FILTERS = 10;
/** How deep segments may refer to segments that refer to segments. */
export const MAX_SEGMENT_DEPTH = 5;

const Days = (what: string) =>
  z
    .number({ error: `Enter the number of days ${what}.` })
    .int({ error: `Enter a whole number of days ${what}.` })
    .min(1, { error: `Enter at least 1 day ${what}.` })
    .max(MAX_WINDOW_DAYS, { error: `Enter at most ${MAX_WINDOW_DAYS} days ${what}.` });

/** An attribute condition: the same as a segment trigger's (`total_spent`, `customer.tags`). */
export const AttributeRule = z.object({
  kind: z.literal("attribute"),
  property: z.string().trim().min(1, { error: "Choose an attribute." }).max(200),
  op: ConditionOp,
  value: z.unknown().optional(),
});

export const CountOp = z.enum(["gte", "gt", "lte", "lt", "eq"]);
export type CountOp = z.infer<typeof CountOp>;

/**
 * Behaviour: `count` (has done the event at least / at most … times), `sum` (of a numeric
 * property), or `last` (did it in the last N days / has not done it for N days / did it, but not in
 * the last N days). The window is the last `withinDays` days (none: all the events kept), and
 * `olderThanDays` moves its end back ("between 90 and 180 days ago").
 */
export const EventRule = z
  .object({
    kind: z.literal("event"),
    event: z.string().trim().min(1, { error: "Choose an event." }).max(200),
    measure: z.enum(["count", "sum", "last"]).default("count"),
    /** sum: the numeric event property to add up (`revenue`). */
    property: z.string().trim().max(200).optional(),
    /** count / sum: how the total compares with `value`. */
    op: CountOp.default("gte"),
    value: z
      .number({ error: "Enter a number." })
      .finite({ error: "Enter a number." })
      .min(-1e15)
      .max(1e15)
      .default(1),
    /** last: within (did it in the last `withinDays`), notWithin (not in the last `withinDays`,
     * or never), before (did it, but not in the last `withinDays`). */
    last: z.enum(["within", "notWithin", "before"]).default("within"),
    withinDays: Days("in the window").optional(),
    olderThanDays: z
      .number({ error: "Enter a number of days." })
      .int({ error: "Enter a whole number of days." })
      .min(0, { error: "Enter 0 or more days." })
      .max(MAX_WINDOW_DAYS)
      .optional(),
    /** Filters on the event's properties (`product.tier equals premium`). */
    where: z
      .array(Condition)
      .max(MAX_FILTERS, { error: `At most ${MAX_FILTERS} filters.` })
      .default([]),
  })
  .superRefine((r, ctx) => {
    if (r.measure === "sum" && !r.property)
      ctx.addIssue({
        code: "custom",
        path: ["property"],
        message: "Choose the property to add up.",
      });
    if (r.measure === "last" && r.withinDays === undefined)
      ctx.addIssue({ code: "custom", path: ["withinDays"], message: "Enter a number of days." });
    if (r.measure === "count" && r.value < 0)
      ctx.addIssue({ code: "custom", path: ["value"], message: "A count is 0 or more." });
    if (
      r.withinDays !== undefined &&
      r.olderThanDays !== undefined &&
      r.olderThanDays >= r.withinDays
    )
      ctx.addIssue({
        code: "custom",
        path: ["olderThanDays"],
        message: "The window must end after it starts: fewer days ago than its start.",
      });
  });

/** Membership of another saved segment (`inside: false`: not a member). */
export const SegmentRefRule = z.object({
  kind: z.literal("segment"),
  segmentId: z.string().trim().min(1, { error: "Choose a segment." }).max(100),
  inside: z.boolean().default(true),
});

export const ConsentChannelSchema = z.enum(["email", "sms", "push"]);
/** Consent on a channel: subscribed, unsubscribed, or never asked (no record). */
export const ConsentRule = z.object({
  kind: z.literal("consent"),
  channel: ConsentChannelSchema,
  status: z.enum(["subscribed", "unsubscribed", "never_asked"]),
});

export const SegmentRule = z.discriminatedUnion("kind", [
  AttributeRule,
  EventRule,
  SegmentRefRule,
  ConsentRule,
]);
export type SegmentRule = z.infer<typeof SegmentRule>;
export type SegmentRuleInput = z.input<typeof SegmentRule>;
export type AttributeRule = z.infer<typeof AttributeRule>;
export type EventRule = z.infer<typeof EventRule>;

export const SegmentDefinition = z
  .object({
    match: MatchMode.default("all"),
    rules: z
      .array(SegmentRule)
      .min(1, { error: "Add at least one rule." })
      .max(MAX_RULES, { error: `At most ${MAX_RULES} rules.` }),
  })
  .superRefine((d, ctx) => {
    d.rules.forEach((r, i) => {
      if (r.kind !== "attribute") return;
      const c = Condition.safeParse({ property: r.property, op: r.op, value: r.value });
      if (!c.success)
        for (const issue of c.error.issues)
          ctx.addIssue({
            code: "custom",
            path: ["rules", i, ...issue.path],
            message: issue.message,
          });
    });
  });
export type SegmentDefinition = z.infer<typeof SegmentDefinition>;
export type SegmentDefinitionInput = z.input<typeof SegmentDefinition>;

/** The saved segments a definition names directly. */
export function referencedSegments(d: SegmentDefinition): string[] {
  return [...new Set(d.rules.flatMap((r) => (r.kind === "segment" ? [r.segmentId] : [])))];
}

/**
 * Why saving `definition` as segment `id` (null: a new one) would make a cycle or a chain too
 * deep, given the other segments' definitions; null when fine. Unknown ids are the caller's check.
 */
export function segmentGraphProblem(
  id: string | null,
  definition: SegmentDefinition,
  others: ReadonlyMap<string, { name: string; definition: SegmentDefinition }>,
): string | null {
  const refsOf = (sid: string): string[] => {
    if (sid === id) return referencedSegments(definition);
    const other = others.get(sid);
    return other ? referencedSegments(other.definition) : [];
  };
  const walk = (sid: string, path: string[]): string | null => {
    if (path.length > MAX_SEGMENT_DEPTH)
      return `Segments refer to segments more than ${MAX_SEGMENT_DEPTH} deep.`;
    for (const next of refsOf(sid)) {
      if (next === id || path.includes(next)) {
        const name = others.get(next)?.name ?? "this segment";
        return `A segment cannot include itself: "${name}" refers back to it.`;
      }
      const p = walk(next, [...path, next]);
      if (p) return p;
    }
    return null;
  };
  return walk(id ?? "\u0000new", []);
}

/** Which changes can move a customer in or out: event names, attributes, consent, time. */
export interface SegmentDependencies {
  events: string[];
  /** Any attribute rule (identify or an attribute step may change it). */
  attributes: boolean;
  consent: boolean;
  /** A window that moves with the clock (the sweep re-evaluates such segments). */
  time: boolean;
  segments: string[];
}

export function dependenciesOf(d: SegmentDefinition): SegmentDependencies {
  const deps: SegmentDependencies = {
    events: [],
    attributes: false,
    consent: false,
    time: false,
    segments: [],
  };
  for (const r of d.rules) {
    if (r.kind === "attribute") deps.attributes = true;
    else if (r.kind === "consent") deps.consent = true;
    else if (r.kind === "segment") deps.segments.push(r.segmentId);
    else {
      deps.events.push(r.event);
      if (r.withinDays !== undefined || r.olderThanDays !== undefined) deps.time = true;
    }
  }
  deps.events = [...new Set(deps.events)].sort();
  return deps;
}

const COUNT_WORDS: Record<CountOp, string> = {
  gte: "at least",
  gt: "more than",
  lte: "at most",
  lt: "fewer than",
  eq: "exactly",
};

function windowWords(r: EventRule): string {
  if (r.withinDays === undefined && !r.olderThanDays) return "ever";
  if (r.withinDays === undefined) return `more than ${r.olderThanDays} days ago`;
  if (r.olderThanDays) return `between ${r.olderThanDays} and ${r.withinDays} days ago`;
  return `in the last ${r.withinDays} days`;
}

/** A rule in a marketer's words ("has done purchase at least 2 times in the last 90 days"). */
export function describeRule(r: SegmentRule, segmentName?: (id: string) => string): string {
  switch (r.kind) {
    case "attribute":
      return describeCondition({ property: r.property, op: r.op, value: r.value });
    case "segment":
      return `${r.inside ? "is in" : "is not in"} segment "${segmentName?.(r.segmentId) ?? r.segmentId}"`;
    case "consent":
      return r.status === "never_asked"
        ? `was never asked about ${r.channel}`
        : `is ${r.status} to ${r.channel}`;
    case "event": {
      const filters = r.where.length
        ? ` where ${r.where.map((c) => describeCondition(c)).join(" and ")}`
        : "";
      if (r.measure === "last") {
        const d = r.withinDays ?? 0;
        return r.last === "within"
          ? `did ${r.event}${filters} in the last ${d} days`
          : r.last === "notWithin"
            ? `has not done ${r.event}${filters} for ${d} days`
            : `did ${r.event}${filters}, but not in the last ${d} days`;
      }
      if (r.measure === "sum")
        return `total ${r.property} of ${r.event}${filters} is ${COUNT_WORDS[r.op]} ${r.value} ${windowWords(r)}`;
      return `has done ${r.event}${filters} ${COUNT_WORDS[r.op]} ${r.value} ${r.value === 1 ? "time" : "times"} ${windowWords(r)}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle stages (RFM-style): one per customer, from the workspace's purchase event.

export const LIFECYCLE_STAGES = ["new", "repeat", "active", "at_risk", "lapsed"] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

export const LIFECYCLE_STAGE_NAMES: Record<LifecycleStage, string> = {
  new: "New",
  repeat: "Repeat",
  active: "Active",
  at_risk: "At risk",
  lapsed: "Lapsed",
};

export const LifecycleSettings = z
  .object({
    /** The event that counts as a purchase. */
    event: z
      .string()
      .trim()
      .min(1, { error: "Choose the purchase event." })
      .max(200)
      .default("purchase"),
    /** New: the first purchase was within this many days. */
    newDays: Days("for new customers").default(30),
    /** Repeat: at least `repeatCount` purchases in `repeatDays` (and active). */
    repeatCount: z
      .number({ error: "Enter a number of purchases." })
      .int({ error: "Enter a whole number of purchases." })
      .min(2, { error: "A repeat customer has at least 2 purchases." })
      .max(1000)
      .default(2),
    repeatDays: Days("for repeat customers").default(365),
    /** Active: purchased in the last `activeDays`. */
    activeDays: Days("for active customers").default(90),
    /** At risk: the last purchase between `activeDays` and `lapsedDays` ago; lapsed: longer. */
    lapsedDays: Days("before a customer is lapsed").default(180),
  })
  .superRefine((s, ctx) => {
    if (s.newDays > s.activeDays)
      ctx.addIssue({
        code: "custom",
        path: ["newDays"],
        message: "New customers are also active: use at most the active days.",
      });
    if (s.lapsedDays <= s.activeDays)
      ctx.addIssue({
        code: "custom",
        path: ["lapsedDays"],
        message: "Lapsed must start after the active window ends.",
      });
  });
export type LifecycleSettings = z.infer<typeof LifecycleSettings>;
export const DEFAULT_LIFECYCLE: LifecycleSettings = LifecycleSettings.parse({});

/** The rule of each stage in words, as the settings page states it. */
export function lifecycleRuleWords(s: LifecycleSettings): Record<LifecycleStage, string> {
  return {
    new: `first ${s.event} within the last ${s.newDays} days`,
    repeat: `not new, at least ${s.repeatCount} ${s.event} events in the last ${s.repeatDays} days, the last one within ${s.activeDays} days`,
    active: `not new or repeat, a ${s.event} within the last ${s.activeDays} days`,
    at_risk: `the last ${s.event} was between ${s.activeDays} and ${s.lapsedDays} days ago`,
    lapsed: `no ${s.event} for ${s.lapsedDays} days (but at least one before)`,
  };
}

/**
 * Each stage as a self-contained definition; the stages exclude each other (checked in the
 * order new, repeat, active, at risk, lapsed), so a customer is in at most one.
 */
export function lifecycleDefinitions(
  s: LifecycleSettings,
): Record<LifecycleStage, SegmentDefinition> {
  const ev = (rule: Partial<EventRule>): SegmentRule =>
    EventRule.parse({ kind: "event", event: s.event, ...rule });
  const isNew = [
    ev({ measure: "count", op: "gte", value: 1, withinDays: s.newDays }),
    ev({ measure: "count", op: "eq", value: 0, olderThanDays: s.newDays }),
  ];
  const within = (days: number) => ev({ measure: "last", last: "within", withinDays: days });
  const notNew = ev({ measure: "count", op: "gte", value: 1, olderThanDays: s.newDays });
  const repeatCount = ev({
    measure: "count",
    op: "gte",
    value: s.repeatCount,
    withinDays: s.repeatDays,
  });
  const fewer = ev({ measure: "count", op: "lt", value: s.repeatCount, withinDays: s.repeatDays });
  return {
    new: { match: "all", rules: isNew },
    repeat: { match: "all", rules: [notNew, repeatCount, within(s.activeDays)] },
    active: { match: "all", rules: [notNew, fewer, within(s.activeDays)] },
    at_risk: {
      match: "all",
      rules: [
        ev({ measure: "last", last: "before", withinDays: s.activeDays }),
        within(s.lapsedDays),
      ],
    },
    lapsed: {
      match: "all",
      rules: [ev({ measure: "last", last: "before", withinDays: s.lapsedDays })],
    },
  };
}
