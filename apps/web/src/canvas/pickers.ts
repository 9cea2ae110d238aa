// Which fields of a step (or of the journey settings) name an event, an event property, a
// customer attribute or a value the run reads (`event.total`, `purl.url`), and what the
// workspace has seen for each (issue 16: pickers, not free text). SchemaForm draws a NamePicker
// for a field this answers for; everything else stays as the schema says.
import { getPath, LIFECYCLE_STAGE_PATH, SEGMENTS_PATH, stepModule } from "@postpath/journey";
import type { Catalog, StepType } from "@postpath/journey";
import type { FieldDetail, WorkspaceCatalog } from "../api/contract.ts";
import type { PageListItem } from "../pages-area/contract.ts";
import type { NameOption, NamePickerProps } from "../components/NamePicker.tsx";
import { formatCount } from "../format.ts";
import { asConfig } from "./config.ts";
import type { StepNode } from "./types.ts";

/** A name a step adds for later steps, as its module's `provides` says (`purl`: url, qrUrl…). */
export type Provided = {
  name: string;
  on: readonly string[];
  attribute?: boolean;
  fields?: readonly string[];
};

/** What SchemaForm needs to draw a name field as a picker. */
export type PickerSource = Pick<
  NamePickerProps,
  "options" | "noun" | "observed" | "unknownWarning" | "newNote" | "emptyText" | "labelOf"
>;

/** A landing page as `pages.list` gives it (the PURL step's page picker). */
export type PageChoice = Pick<PageListItem, "name" | "slug" | "publishedVersion">;

/** A coupon pool as `journeys.couponPools` gives it (the coupon step's pool picker). */
export interface CouponPoolChoice {
  id: string;
  name: string;
  codes: number;
  unclaimed: number;
}

/** The editor's knowledge around one form: the workspace's catalogue and the journey. */
export interface PickerContext {
  /** `journeys.catalog` (undefined until it arrives: nothing is flagged then). */
  workspace: WorkspaceCatalog | undefined;
  /** The event that starts the journey, if it starts from one. */
  triggerEvent: string | null;
  /** What the journey's steps add for later steps (`purl` with url, qrUrl…). */
  provided: readonly Provided[];
  /** The workspace's landing pages (undefined until they arrive: nothing is flagged then). */
  pages?: readonly PageChoice[] | undefined;
  /** The workspace's coupon pools (undefined until they arrive). */
  couponPools?: readonly CouponPoolChoice[] | undefined;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: "text",
  number: "number",
  boolean: "yes/no",
  date: "date",
  array: "list",
  object: "group of values",
  null: "empty",
};

/** "number", "text or number". */
export function typeWords(types: readonly string[]): string | undefined {
  const words = [...new Set(types.map((t) => TYPE_WORDS[t] ?? t))];
  return words.length > 0 ? words.join(" or ") : undefined;
}

function described(name: string, detail: FieldDetail | undefined): NameOption {
  const type = detail ? typeWords(detail.types) : undefined;
  return {
    name,
    ...(type ? { type } : {}),
    ...(detail && detail.examples.length > 0 ? { examples: detail.examples } : {}),
  };
}

/** Event names the workspace has seen, the most frequent in the sample first. */
export function eventOptions(workspace: WorkspaceCatalog | undefined): PickerSource {
  const details = workspace?.eventDetails;
  const names = Object.keys(details ?? workspace?.eventProperties ?? {});
  const sample = workspace?.eventSample;
  const options = names
    .map((name): NameOption & { sampled: number } => {
      const sampled = details?.[name]?.sampled ?? 0;
      return {
        name,
        sampled,
        ...(sampled > 0 && sample
          ? { detail: `${formatCount(sampled)} of ${formatCount(sample)} sampled events` }
          : {}),
      };
    })
    .sort((a, b) => b.sampled - a.sampled || a.name.localeCompare(b.name))
    .map(({ sampled: _sampled, ...o }) => o);
  return { options, noun: "event", observed: names.length > 0 };
}

/** The events a journey listens for: its trigger, awaited events, goals and exit criteria. */
export function journeyEvents(nodes: readonly StepNode[], settings: unknown): string[] {
  const out = new Set<string>();
  for (const n of nodes) {
    const event = asConfig(n.data.config).event;
    if (
      (n.data.stepType === "trigger.event" ||
        n.data.stepType === "wait.event" ||
        n.data.stepType === "flow.goal") &&
      typeof event === "string" &&
      event !== ""
    )
      out.add(event);
  }
  const s = asConfig(settings);
  for (const c of Array.isArray(s.exitCriteria) ? (s.exitCriteria as unknown[]) : []) {
    const event = asConfig(c).event;
    if (typeof event === "string" && event !== "") out.add(event);
  }
  const goal = asConfig(s.goal).event;
  if (typeof goal === "string" && goal !== "") out.add(goal);
  return [...out];
}

/** A test run's events: those the journey listens for first, then what the workspace has seen. */
export function testEventOptions(
  listened: readonly string[],
  workspace: WorkspaceCatalog | undefined,
): PickerSource {
  const seen = eventOptions(workspace);
  const options: NameOption[] = [
    ...listened.map((name) => ({ name, detail: "this journey listens for it" })),
    ...seen.options.filter((o) => !listened.includes(o.name)),
  ];
  return { options, noun: "event", observed: seen.observed ?? false };
}

/** Properties seen on `event`; not flagged when the event itself was never seen. */
export function eventPropertyOptions(
  workspace: WorkspaceCatalog | undefined,
  event: string | null | undefined,
): PickerSource {
  const names = event ? workspace?.eventProperties?.[event] : undefined;
  const details = event ? workspace?.eventDetails?.[event]?.properties : undefined;
  return {
    options: (names ?? []).map((n) => described(n, details?.[n])),
    noun: "property",
    observed: names !== undefined,
  };
}

/** Attributes seen on the workspace's customers. */
export function attributeOptions(workspace: WorkspaceCatalog | undefined): PickerSource {
  const names = workspace?.attributes;
  return {
    options: (names ?? []).map((n) => described(n, workspace?.attributeDetails?.[n])),
    noun: "attribute",
    observed: names !== undefined,
  };
}

/** The customer's own fields a condition may read (not the `attributes` object itself). */
const CUSTOMER_PATHS = ["customer.email", "customer.phone", "customer.timezone", "customer.tags"];

/** issue 18: what the picker shows for the customer's own fields (the stored path stays). */
const CUSTOMER_WORDS: Readonly<Record<string, string>> = {
  "customer.email": "Email address",
  "customer.phone": "Phone number",
  "customer.timezone": "Time zone",
  "customer.tags": "Tags",
  [SEGMENTS_PATH]: "Segments they are in",
  [LIFECYCLE_STAGE_PATH]: "Lifecycle stage",
};

/** "product.tier" → "Product tier", "first_name" → "First name". */
function pathWords(path: string): string {
  const words = path
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[._-]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * issue 18: a value a condition reads, in words ("event.product.tier" → "Product tier (purchase
 * event)"), for the picker's list and field; undefined: shown as stored (attributes keep the
 * names the workspace gave them, earlier steps' values the names templates use).
 */
export function valuePathLabel(path: string, triggerEvent: string | null): string | undefined {
  const customer = CUSTOMER_WORDS[path];
  if (customer) return customer;
  if (path.startsWith("event.") && path.length > "event.".length) {
    const words = pathWords(path.slice("event.".length));
    return triggerEvent ? `${words} (${triggerEvent} event)` : `${words} (trigger event)`;
  }
  return undefined;
}

/**
 * Everything a split or a date wait may read: attributes, the customer's fields, the trigger
 * event's properties (`event.total`) and what earlier steps give (`purl.url`). Flagged "never seen
 * yet" only when attributes have been observed (a new attribute may still arrive).
 */
export function valuePathOptions(ctx: PickerContext, withEvent = true): PickerSource {
  const attrs = attributeOptions(ctx.workspace);
  const event = withEvent ? eventPropertyOptions(ctx.workspace, ctx.triggerEvent) : null;
  const options: NameOption[] = [
    ...attrs.options,
    ...CUSTOMER_PATHS.map((name) => ({ name, detail: "the customer's own field" })),
    ...(event?.options ?? []).map((o) => ({
      ...o,
      name: `event.${o.name}`,
      detail: `of the trigger event "${ctx.triggerEvent ?? ""}"`,
    })),
    ...(withEvent ? ctx.provided : [])
      .filter((p) => !p.attribute)
      .flatMap((p) =>
        (p.fields ?? []).map((f) => ({ name: `${p.name}.${f}`, detail: "from an earlier step" })),
      ),
  ];
  const unique = new Map(options.map((o) => [o.name, withLabel(o, ctx.triggerEvent)]));
  return {
    options: [...unique.values()],
    noun: "value",
    observed: attrs.observed ?? false,
    // A path typed before anything carried it is shown in words too.
    labelOf: (name) => valuePathLabel(name, ctx.triggerEvent),
  };
}

function withLabel(option: NameOption, triggerEvent: string | null): NameOption {
  if (option.label !== undefined) return option;
  const label = valuePathLabel(option.name, triggerEvent);
  return label === undefined ? option : { ...option, label };
}

/** issue 16: a split may also branch on the saved segments a customer is in and their
 * lifecycle stage (the form then offers segment and stage pickers for the value). */
export function withMemberships(source: PickerSource): PickerSource {
  return {
    ...source,
    options: [
      {
        name: SEGMENTS_PATH,
        label: "Segments they are in",
        detail: "the saved segments they are in (is in / is not in)",
      },
      {
        name: LIFECYCLE_STAGE_PATH,
        label: "Lifecycle stage",
        detail: "New, Repeat, Active, At risk or Lapsed",
      },
      ...source.options,
    ],
  };
}

/** What a personal link to a page that is missing or not published opens (apps/server purl.ts). */
const LINK_FALLBACK = "a personal link to it opens “This link has expired”";

/**
 * issue 16: the PURL step's page, chosen by the page's name among the workspace's landing pages
 * (the step stores the page's address, its slug). Published pages first; a draft is listed with a
 * warning, and an address no page has is kept with one (the page may be made later).
 */
export function pageOptions(pages: readonly PageChoice[] | undefined): PickerSource {
  const sorted = [...(pages ?? [])].sort(
    (a, b) =>
      Number(b.publishedVersion !== null) - Number(a.publishedVersion !== null) ||
      a.name.localeCompare(b.name),
  );
  return {
    options: sorted.map((p) => ({
      name: p.slug,
      label: p.name,
      detail:
        p.publishedVersion === null
          ? `/${p.slug} · draft, not published yet`
          : `/${p.slug} · published (version ${p.publishedVersion})`,
      ...(p.publishedVersion === null
        ? {
            warning: `“${p.name}” is not published yet: until it is, ${LINK_FALLBACK}. Publish it in Pages.`,
          }
        : {}),
    })),
    noun: "page",
    observed: pages !== undefined,
    unknownWarning: (slug) =>
      `No page at the address “${slug}” in this workspace: ${LINK_FALLBACK}. Create and publish it in Pages, or choose another page.`,
    newNote: "no page at this address yet",
    emptyText:
      pages && pages.length > 0 ? "No page matches." : "No landing page yet: create one in Pages.",
  };
}

/**
 * issue 16: the coupon step's pool, chosen by name among the workspace's coupon pools with how many
 * codes are left (the step stores the name; the engine also takes a pool's id).
 * A pool with no code left, or a name no pool has, is kept with a warning: the step would fail.
 */
export function couponPoolOptions(
  pools: readonly CouponPoolChoice[] | undefined,
  current: unknown,
): PickerSource {
  const option = (p: CouponPoolChoice, name: string): NameOption => ({
    name,
    ...(name === p.name ? {} : { label: p.name }),
    detail:
      p.codes === 0
        ? "no codes"
        : `${formatCount(p.unclaimed)} of ${formatCount(p.codes)} codes left`,
    ...(p.unclaimed === 0
      ? {
          warning: `“${p.name}” has no codes left: the step fails (as “If it still fails” says) until codes are added to the pool.`,
        }
      : {}),
  });
  return {
    // A step that names its pool by id (made through the API) keeps the id, shown by name.
    options: (pools ?? []).map((p) => option(p, p.id === current ? p.id : p.name)),
    noun: "coupon pool",
    observed: pools !== undefined,
    unknownWarning: (name) =>
      `No coupon pool called “${name}” in this workspace: the step fails (as “If it still fails” says) until one exists.`,
    newNote: "no pool of this name yet",
    emptyText:
      pools && pools.length > 0
        ? "No coupon pool matches."
        : "This workspace has no coupon pool yet.",
  };
}

/** What the journey's steps add for later steps (from each step's config as drawn; with the
 * catalogue, an awaited event's output lists the properties seen on it). */
export function providedBy(nodes: readonly StepNode[], catalog?: Catalog): Provided[] {
  const out: Provided[] = [];
  for (const node of nodes) {
    const m = stepModule(node.data.stepType);
    const parsed = m.schema.safeParse(node.data.config);
    if (m.provides && parsed.success) out.push(...m.provides(parsed.data, catalog));
  }
  return out;
}

/** The event the journey starts from, if its trigger is an event. */
export function triggerEventOf(nodes: readonly StepNode[]): string | null {
  const trigger = nodes.find((n) => n.data.stepType === "trigger.event");
  const event = trigger ? asConfig(trigger.data.config).event : undefined;
  return typeof event === "string" && event !== "" ? event : null;
}

const FILTER_PROPERTY = /^(?:(.*)\.)?filters\.\d+\.property$/;

/** `filters.N.property` reads the event named beside the filters (`event`). */
function filterEvent(value: unknown, path: string): string | null {
  const m = FILTER_PROPERTY.exec(path);
  if (!m) return null;
  const event = getPath(value, m[1] ? `${m[1]}.event` : "event");
  return typeof event === "string" ? event : null;
}

/** The picker for a field of a step's form, by the field's dotted path; undefined: a plain field. */
export function stepPicker(
  type: StepType,
  config: unknown,
  path: string,
  ctx: PickerContext,
): PickerSource | undefined {
  switch (type) {
    case "trigger.event":
    case "flow.goal":
    case "wait.event":
      if (path === "event") return eventOptions(ctx.workspace);
      if (FILTER_PROPERTY.test(path))
        return eventPropertyOptions(ctx.workspace, filterEvent(config, path));
      if (type === "wait.event" && path === "correlate.property")
        return eventPropertyOptions(ctx.workspace, asConfig(config).event as string | undefined);
      if (type === "wait.event" && path === "correlate.triggerProperty")
        return eventPropertyOptions(ctx.workspace, ctx.triggerEvent);
      return undefined;
    case "trigger.date":
      return path === "attribute" ? attributeOptions(ctx.workspace) : undefined;
    case "split.channel":
      return path === "preferenceAttribute" ? attributeOptions(ctx.workspace) : undefined;
    case "trigger.segment":
      // The customer's attributes and fields (a segment has no trigger event).
      return /^conditions\.\d+\.property$/.test(path) ? valuePathOptions(ctx, false) : undefined;
    case "split.condition":
      return /^conditions\.\d+\.property$/.test(path)
        ? withMemberships(valuePathOptions(ctx))
        : undefined;
    case "split.multi":
      return /^branches\.\d+\.conditions\.\d+\.property$/.test(path)
        ? withMemberships(valuePathOptions(ctx))
        : undefined;
    case "action.coupon":
      if (path === "source.pool")
        return couponPoolOptions(ctx.couponPools, getPath(config, "source.pool"));
      // issue 16: a coupon's value may depend on the customer's segments and stage too.
      return /^rules\.\d+\.when\.\d+\.property$/.test(path)
        ? withMemberships(valuePathOptions(ctx))
        : undefined;
    case "wait.dateProperty":
      return path === "property" ? valuePathOptions(ctx) : undefined;
    // No field of these names an event, a property or an attribute (a webhook's or a message's
    // text is a template).
    case "trigger.form":
    case "trigger.manual":
    case "wait.duration":
    case "wait.timeOfDay":
    case "wait.until":
    case "split.random":
    case "action.email":
    case "action.sms":
    case "action.push":
    case "action.notify":
    case "action.webhook":
    case "action.attribute":
      // The names of `set` (one row per attribute and its new value) and of `unset`.
      return path === "set" || path === "unset" ? attributeOptions(ctx.workspace) : undefined;
    case "action.purl":
      return path === "page" ? pageOptions(ctx.pages) : undefined;
    case "action.tag":
    case "flow.exit":
      return undefined;
    default: {
      const never: never = type;
      return never;
    }
  }
}

/** The picker for a field of the journey settings' form. */
export function settingsPicker(
  settings: unknown,
  path: string,
  ctx: PickerContext,
): PickerSource | undefined {
  if (path === "entry.perValueOf") return eventPropertyOptions(ctx.workspace, ctx.triggerEvent);
  if (/^exitCriteria\.\d+\.event$/.test(path) || path === "goal.event")
    return eventOptions(ctx.workspace);
  if (path === "attribution.event") return eventOptions(ctx.workspace);
  if (FILTER_PROPERTY.test(path))
    return eventPropertyOptions(ctx.workspace, filterEvent(settings, path));
  return undefined;
}

/**
 * "Seen: gold, silver, bronze" under a condition's value, from the examples of the property it
 * compares (`conditions.0.value` reads `conditions.0.property`'s picker); undefined otherwise.
 */
export function valueHint(
  picker: (path: string) => PickerSource | undefined,
  value: unknown,
  path: string,
): string | undefined {
  const m = /^(?:(.*)\.)?value$/.exec(path);
  if (!m) return undefined;
  const propertyPath = m[1] ? `${m[1]}.property` : "property";
  const property = getPath(value, propertyPath);
  if (typeof property !== "string" || property === "") return undefined;
  const option = picker(propertyPath)?.options.find((o) => o.name === property);
  return option?.examples && option.examples.length > 0
    ? `Seen: ${option.examples.join(", ")}`
    : undefined;
}
