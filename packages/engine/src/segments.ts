// issue 16 (item 2): saved segments on the database. A definition (packages/journey/src/segments.ts)
// compiles to ONE parameterised SQL query over "Customer" (user values are always parameters,
// never spliced into the text): the size preview, the sample, and membership are all computed by
// Postgres. Membership ("SegmentMembership") is kept incrementally — after each batch of events,
// for the segments those event names can affect, and after an identify for segments on attributes
// — and by a scheduled sweep for windows that expire with the clock. Entering and leaving a
// segment start the journeys whose segment trigger names it.
import {
  DEFAULT_LIFECYCLE,
  dependenciesOf,
  LIFECYCLE_STAGE_NAMES,
  LIFECYCLE_STAGES,
  lifecycleDefinitions,
  lifecycleRuleWords,
  LifecycleSettings,
  SegmentDefinition,
  triggerOf,
  type Condition,
  type EventRule,
  type LifecycleStage,
  type Plan,
  type SegmentRule,
} from "@postpath/journey";
import { createHash } from "node:crypto";
import type { Prisma, SqlSession } from "@postpath/db";
import type { EngineContext } from "./context.ts";
import { toSnapshot, type CustomerRow } from "./customer.ts";
import { enrolEntries, type EntryInput } from "./enrol.ts";
import { rangeParams, type ReceivedRange } from "./event-months.ts";
import { loadPlan } from "./plans.ts";

const DAY_MS = 86_400_000;

/** A saved segment as the engine uses it. */
export interface SavedSegment {
  id: string;
  workspaceId: string;
  name: string;
  definition: SegmentDefinition;
}

/** Thrown when a definition cannot be compiled (an unknown segment, a cycle). Its message is for people. */
export class SegmentDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SegmentDefinitionError";
  }
}

// ---------------------------------------------------------------------------------------------
// The compiler

/**
 * `all`: every customer of the workspace (per-event aggregates joined once); `some`: a few (a
 * correlated aggregate per rule); `batch`: a few, every event rule of every segment being
 * evaluated read from ONE scan of those customers' events (`aggs`, grouped by customer as `a`).
 */
type Mode = "all" | "some" | "batch";

class Builder {
  readonly params: unknown[] = [];
  readonly ctes: string[] = [];
  readonly joins: string[] = [];
  /** `batch` mode: the aggregates over the customers' events, by what they compute. */
  readonly aggs = new Map<string, { column: string; sql: string }>();
  readonly aggEvents = new Set<string>();
  constructor(
    readonly mode: Mode,
    readonly now: number,
    readonly resolve: (id: string) => SegmentDefinition | undefined,
  ) {}
  p(value: unknown, cast: string): string {
    this.params.push(value);
    return `$${this.params.length}::${cast}`;
  }
}

const NUMERIC = String.raw`^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*$`;

function isPrimitive(v: unknown): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** The text of a scalar JSON value (null for objects, arrays, JSON null and missing). */
const txt = (v: string) =>
  `(CASE WHEN jsonb_typeof(${v}) IN ('string','number','boolean') THEN ${v} #>> '{}' END)`;
/** A number or a numeric string as numeric (null otherwise). */
const num = (v: string) =>
  `(CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v} #>> '{}')::numeric WHEN jsonb_typeof(${v}) = 'string' AND (${v} #>> '{}') ~ '${NUMERIC}' THEN (${v} #>> '{}')::numeric END)`;

/** looseEquals(actual, expected) of conditions.ts, in SQL. */
function eqSql(v: string, expected: unknown, b: Builder): string {
  if (expected === null) return `(jsonb_typeof(${v}) = 'null')`;
  if (!isPrimitive(expected)) return "false";
  if (typeof expected === "number" && Number.isFinite(expected))
    return `(CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v} #>> '{}')::numeric = ${b.p(String(expected), "numeric")} ELSE ${txt(v)} = ${b.p(String(expected), "text")} END)`;
  return `(${txt(v)} = ${b.p(String(expected), "text")})`;
}

const SQL_OP = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

/** compare() of conditions.ts: numbers (and numeric strings) by value, strings by code point. */
function compareSql(v: string, op: keyof typeof SQL_OP, expected: unknown, b: Builder): string {
  const o = SQL_OP[op];
  const nb =
    typeof expected === "number"
      ? expected
      : typeof expected === "string" && expected.trim() !== ""
        ? Number(expected)
        : NaN;
  const str = typeof expected === "string";
  const lexical = str
    ? `WHEN jsonb_typeof(${v}) = 'string' THEN (${v} #>> '{}') COLLATE "C" ${o} ${b.p(expected, "text")} COLLATE "C"`
    : "";
  if (Number.isFinite(nb))
    return `(CASE WHEN ${num(v)} IS NOT NULL THEN ${num(v)} ${o} ${b.p(String(nb), "numeric")} ${lexical} ELSE false END)`;
  return str ? `(CASE ${lexical} ELSE false END)` : "false";
}

/** One condition on the JSON value `v` (SQL NULL: missing), with testCondition's meaning. */
/** Whether a condition is false whatever the value (an expected value it can never meet). */
function alwaysFalse(c: Condition): boolean {
  const e = c.value;
  switch (c.op) {
    case "eq":
      return e !== null && !isPrimitive(e);
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return typeof e !== "string" && !(typeof e === "number" && Number.isFinite(e));
    case "startsWith":
    case "endsWith":
      return !isPrimitive(e);
    case "in":
      return !Array.isArray(e) || !e.some((x) => x === null || isPrimitive(x));
    case "neq":
    case "contains":
    case "notContains":
    case "notIn":
    case "exists":
    case "notExists":
      return false;
  }
}

/**
 * One condition on a JSON value (SQL NULL: missing), with testCondition's meaning. `value` makes
 * the value's expression (its parameters are added only when the expression is used).
 */
function conditionSql(value: () => string, c: Condition, b: Builder): string {
  if (alwaysFalse(c)) return "false";
  if (c.op === "neq" && alwaysFalse({ ...c, op: "eq" })) return "true";
  if (c.op === "notIn" && alwaysFalse({ ...c, op: "in" })) return "true";
  const v = value();
  const e = c.value;
  switch (c.op) {
    case "eq":
      return `COALESCE(${eqSql(v, e, b)}, false)`;
    case "neq":
      return `NOT COALESCE(${eqSql(v, e, b)}, false)`;
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return `COALESCE(${compareSql(v, c.op, e, b)}, false)`;
    case "contains":
    case "notContains": {
      const inArray = `EXISTS (SELECT 1 FROM jsonb_array_elements(${v}) AS x(e) WHERE COALESCE(${eqSql("x.e", e, b)}, false))`;
      const inString = isPrimitive(e)
        ? `strpos(${v} #>> '{}', ${b.p(String(e), "text")}) > 0`
        : "false";
      const sql = `COALESCE(CASE jsonb_typeof(${v}) WHEN 'array' THEN ${inArray} WHEN 'string' THEN ${inString} ELSE false END, false)`;
      return c.op === "contains" ? sql : `NOT ${sql}`;
    }
    case "startsWith":
    case "endsWith": {
      if (!isPrimitive(e)) return "false";
      const s = b.p(String(e), "text");
      const test =
        c.op === "startsWith"
          ? `starts_with(${v} #>> '{}', ${s})`
          : `right(${v} #>> '{}', length(${s})) = ${s}`;
      return `COALESCE(jsonb_typeof(${v}) = 'string' AND ${test}, false)`;
    }
    case "in":
    case "notIn": {
      const list = Array.isArray(e) ? e.filter((x) => x === null || isPrimitive(x)) : null;
      const any = list
        ? list.length === 0
          ? "false"
          : `(${list.map((x) => `COALESCE(${eqSql(v, x, b)}, false)`).join(" OR ")})`
        : "false";
      return c.op === "in" ? any : `NOT ${any}`;
    }
    case "exists":
    case "notExists": {
      const set = `COALESCE(jsonb_typeof(${v}) <> 'null' AND ${v} <> '""'::jsonb, false)`;
      return c.op === "exists" ? set : `NOT ${set}`;
    }
  }
}

/** getPath() of conditions.ts over the JSON `source`: an exact key (dots and all) wins. */
function pathSql(source: string, path: string, b: Builder): string {
  const keys = path.split(".");
  if (keys.length === 1) return `(${source} -> ${b.p(path, "text")})`;
  return `(CASE WHEN jsonb_typeof(${source}) = 'object' AND jsonb_exists(${source}, ${b.p(path, "text")}) THEN ${source} -> ${b.p(path, "text")} ELSE ${source} #> ${b.p(keys, "text[]")} END)`;
}

/** templateCustomer() of templating.ts: attributes at the top level plus the columns. */
const CUSTOMER_JSON = `(c.attributes || jsonb_build_object('id', c.id, 'externalId', c."externalId", 'email', c.email, 'phone', c.phone, 'timezone', c.timezone, 'attributes', c.attributes, 'tags', to_jsonb(c.tags)))`;

/** customerPath() of templating.ts: what segment conditions read on a customer. */
function customerPathSql(path: string, b: Builder): string {
  if (path === "customer") return CUSTOMER_JSON;
  const keys = path.split(".");
  if (keys.length === 1) return `(c.attributes -> ${b.p(path, "text")})`;
  const exact = `jsonb_exists(c.attributes, ${b.p(path, "text")})`;
  const rest = b.p(keys.slice(1), "text[]");
  const walk =
    keys[0] === "customer"
      ? `${CUSTOMER_JSON} #> ${rest}`
      : `(c.attributes -> ${b.p(keys[0], "text")}) #> ${rest}`;
  return `(CASE WHEN ${exact} THEN c.attributes -> ${b.p(path, "text")} ELSE ${walk} END)`;
}

function eventRuleSql(r: EventRule, b: Builder): string {
  if (b.mode === "all" && r.measure === "last" && r.last !== "before") {
    // Over the whole workspace (size preview, sweep), "did it in the last N days" is "did it at
    // least once in that window": only the window's events are read (an index range on name and
    // time) instead of every customer's last event ever. "Has not done it for N days" is its
    // negation. (One customer at a time, the last event is one index probe, so it stays as is.)
    const inWindow = eventRuleSql(
      {
        ...r,
        measure: "count",
        op: "gte",
        value: 1,
        withinDays: r.withinDays,
        olderThanDays: undefined,
      },
      b,
    );
    return r.last === "within" ? inWindow : `NOT ${inWindow}`;
  }
  const now = b.now;
  const ts = (ms: number) => b.p(new Date(ms).toISOString().slice(0, -1), "timestamp");
  // Made when used (their parameters are added then; `batch` mode makes a shared one once).
  const where = () => {
    const w = [`e.name = ${b.p(r.event, "text")}`];
    if (r.measure !== "last") {
      if (r.withinDays !== undefined) w.push(`e.timestamp >= ${ts(now - r.withinDays * DAY_MS)}`);
      if (r.olderThanDays !== undefined)
        w.push(`e.timestamp < ${ts(now - r.olderThanDays * DAY_MS)}`);
    }
    for (const f of r.where)
      w.push(conditionSql(() => pathSql("e.properties", f.property, b), f, b));
    return w;
  };
  const aggOf = () =>
    r.measure === "count"
      ? "count(*)"
      : r.measure === "sum"
        ? `sum(${num(pathSql("e.properties", r.property ?? "", b))})`
        : "max(e.timestamp)";
  let value: string;
  if (b.mode === "batch") {
    // Same aggregate, same window and filters (within one statement `now` is fixed): one column.
    const key = JSON.stringify([
      r.event,
      r.measure,
      r.measure === "sum" ? (r.property ?? "") : null,
      r.measure !== "last" ? (r.withinDays ?? null) : null,
      r.measure !== "last" ? (r.olderThanDays ?? null) : null,
      r.where,
    ]);
    let agg = b.aggs.get(key);
    if (!agg) {
      agg = { column: `v${b.aggs.size}`, sql: "" };
      b.aggs.set(key, agg);
      b.aggEvents.add(r.event);
      agg.sql = `${aggOf()} FILTER (WHERE ${where().join(" AND ")})`;
    }
    value = `a.${agg.column}`;
  } else if (b.mode === "all") {
    const name = `b${b.ctes.length}`;
    const agg = aggOf();
    b.ctes.push(
      `${name} AS (SELECT e."customerId" AS cid, ${agg} AS v FROM "Event" e WHERE e."workspaceId" = $1 AND ${where().join(" AND ")} GROUP BY e."customerId")`,
    );
    b.joins.push(`LEFT JOIN ${name} ON ${name}.cid = c.id`);
    value = `${name}.v`;
  } else {
    const agg = aggOf();
    value = `(SELECT ${agg} FROM "Event" e WHERE e."workspaceId" = c."workspaceId" AND e."customerId" = c.id AND ${where().join(" AND ")})`;
  }
  if (r.measure === "last") {
    const since = ts(now - (r.withinDays ?? 0) * DAY_MS);
    if (r.last === "within") return `COALESCE(${value} >= ${since}, false)`;
    if (r.last === "notWithin") return `COALESCE(${value} < ${since}, true)`;
    return `COALESCE(${value} < ${since}, false)`;
  }
  const op = r.op === "eq" ? "=" : SQL_OP[r.op];
  return `(COALESCE(${value}, 0) ${op} ${b.p(String(r.value), "numeric")})`;
}

function ruleSql(r: SegmentRule, b: Builder, depth: number, seen: readonly string[]): string {
  switch (r.kind) {
    case "attribute":
      return conditionSql(
        () => customerPathSql(r.property, b),
        { property: r.property, op: r.op, value: r.value },
        b,
      );
    case "event":
      return eventRuleSql(r, b);
    case "consent": {
      const ch = b.p(r.channel, "text");
      if (r.status === "never_asked")
        return `NOT EXISTS (SELECT 1 FROM "Subscription" s WHERE s."customerId" = c.id AND s.channel = ${ch})`;
      return `EXISTS (SELECT 1 FROM "Subscription" s WHERE s."customerId" = c.id AND s.channel = ${ch} AND s.status = ${b.p(r.status, "text")})`;
    }
    case "segment": {
      if (seen.includes(r.segmentId))
        throw new SegmentDefinitionError("A segment cannot include itself.");
      const def = b.resolve(r.segmentId);
      if (!def) throw new SegmentDefinitionError(`The segment "${r.segmentId}" no longer exists.`);
      const inner = definitionSql(def, b, depth + 1, [...seen, r.segmentId]);
      return r.inside ? inner : `NOT ${inner}`;
    }
  }
}

function definitionSql(
  d: SegmentDefinition,
  b: Builder,
  depth: number,
  seen: readonly string[],
): string {
  if (depth > 6) throw new SegmentDefinitionError("Segments refer to segments too deeply.");
  const parts = d.rules.map((r) => `(${ruleSql(r, b, depth, seen)})`);
  return `(${parts.join(d.match === "all" ? " AND " : " OR ")})`;
}

export interface CompiledSegment {
  /** `SELECT c.id FROM "Customer" c ... WHERE c."workspaceId" = $1 [AND c.id = ANY($2)] AND …`. */
  sql: string;
  /** The same query in parts: its CTEs (if any) and the SELECT after them. */
  ctes: string[];
  select: string;
  params: unknown[];
}

/**
 * The customers of `workspaceId` who meet `definition` at `now`, as one query. `customerIds`
 * limits it to those customers (incremental membership); without it, every customer (preview,
 * sweep). `self` is the segment's own id, if saved (a reference back to it is a cycle).
 */
export function compileSegment(
  definition: SegmentDefinition,
  opts: {
    workspaceId: string;
    now: number;
    resolve: (id: string) => SegmentDefinition | undefined;
    customerIds?: readonly string[];
    self?: string;
  },
): CompiledSegment {
  const b = new Builder(opts.customerIds ? "some" : "all", opts.now, opts.resolve);
  b.params.push(opts.workspaceId);
  if (opts.customerIds) b.params.push([...opts.customerIds]);
  const where = definitionSql(definition, b, 0, opts.self ? [opts.self] : []);
  const select = `SELECT c.id FROM "Customer" c ${b.joins.join(" ")} WHERE c."workspaceId" = $1${opts.customerIds ? ` AND c.id = ANY($2::text[])` : ""} AND ${where}`;
  const sql = `${b.ctes.length ? `WITH ${b.ctes.join(", ")} ` : ""}${select}`;
  return { sql, ctes: b.ctes, select, params: b.params };
}

// ---------------------------------------------------------------------------------------------
// Reading saved segments

const CACHE_MS = 2_000;
const segmentCache = new Map<string, { at: number; segments: SavedSegment[] }>();

/** Has a saved segment's membership computed (after it was created or changed), in the background. */
export async function queueSegmentRefresh(
  ctx: Pick<EngineContext, "queues">,
  workspaceId: string,
  segmentId: string,
): Promise<void> {
  forgetSegments(workspaceId);
  await ctx.queues.jobs.add(
    "segments",
    { kind: "segments", workspaceId, segmentId },
    { jobId: `segment-${segmentId}-${Date.now()}` },
  );
}

/** Forget a workspace's cached segments (after a change through the API in this process). */
export function forgetSegments(workspaceId: string): void {
  segmentCache.delete(workspaceId);
}

/** A workspace's saved segments (definitions parsed; unreadable ones left out), cached 2 s. */
export async function loadSegments(
  ctx: Pick<EngineContext, "db" | "log">,
  workspaceId: string,
  fresh = false,
): Promise<SavedSegment[]> {
  const hit = segmentCache.get(workspaceId);
  if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.segments;
  const rows = await ctx.db.query<{ id: string; name: string; definition: unknown }>(
    `SELECT id, name, definition FROM "Segment" WHERE "workspaceId" = $1 ORDER BY id`,
    [workspaceId],
    { prepare: "engine.segments" },
  );
  const segments: SavedSegment[] = [];
  for (const r of rows) {
    const parsed = SegmentDefinition.safeParse(r.definition);
    if (parsed.success)
      segments.push({ id: r.id, workspaceId, name: r.name, definition: parsed.data });
    else ctx.log.warn({ segmentId: r.id }, "segment definition unreadable; skipping it");
  }
  segmentCache.set(workspaceId, { at: Date.now(), segments });
  return segments;
}

/** The segments (with those that include them, transitively) a kind of change can affect. */
export function affectedSegments(
  segments: readonly SavedSegment[],
  direct: (s: SavedSegment) => boolean,
): SavedSegment[] {
  const hit = new Set(segments.filter(direct).map((s) => s.id));
  for (let grew = true; grew;) {
    grew = false;
    for (const s of segments)
      if (!hit.has(s.id) && dependenciesOf(s.definition).segments.some((id) => hit.has(id))) {
        hit.add(s.id);
        grew = true;
      }
  }
  return segments.filter((s) => hit.has(s.id));
}

// ---------------------------------------------------------------------------------------------
// Preview

export interface SegmentPreview {
  /** Customers in the segment (estimated when `estimate` is set). */
  count: number;
  sample: { id: string; externalId: string; email: string | null }[];
  /**
   * Set when counting every customer took longer than the exact count's time: the count was
   * estimated from customers picked at random, with a 95 % range.
   */
  estimate?: { sampled: number; customers: number; low: number; high: number };
}

/** Preview statements may run this long before Postgres cancels them (the API answers "too slow"). */
export const PREVIEW_TIMEOUT_MS = 10_000;
/** The exact count may take this long; after it the preview estimates from a random sample. */
export const EXACT_PREVIEW_MS = 3_000;
/** Customers the estimate evaluates (about; drawn at random, each with the same chance). */
export const ESTIMATE_SAMPLE = 20_000;

/**
 * Size and a sample of 20 of a definition, on the database, within a statement timeout. Over a
 * big workspace an exact count can take long (a sum over a property reads every matching event's
 * row): when it has not finished within `exactMs`, the size is estimated instead from about
 * ESTIMATE_SAMPLE customers drawn at random (Bernoulli, each customer with the same chance; the
 * rules evaluated for each of them, as membership does one customer at a time), with a 95 %
 * (Wilson) range. `estimate: "always"` skips the exact count; `seed` makes the draw repeatable.
 */
export async function previewSegment(
  ctx: Pick<EngineContext, "db" | "now">,
  workspaceId: string,
  definition: SegmentDefinition,
  resolve: (id: string) => SegmentDefinition | undefined,
  opts: {
    self?: string;
    sample?: number;
    timeoutMs?: number;
    exactMs?: number;
    estimate?: "always";
    sampleSize?: number;
    seed?: number;
  } = {},
): Promise<SegmentPreview> {
  const timeoutMs = Math.max(1, Math.floor(opts.timeoutMs ?? PREVIEW_TIMEOUT_MS));
  const exactMs = Math.min(timeoutMs, Math.max(1, Math.floor(opts.exactMs ?? EXACT_PREVIEW_MS)));
  const started = Date.now();
  const request: PreviewRequest = { ctx, workspaceId, definition, resolve, opts };
  if (opts.estimate !== "always") {
    try {
      return await exactPreview(request, exactMs);
    } catch (err) {
      if (!isStatementTimeout(err) || exactMs >= timeoutMs) throw err;
    }
  }
  const left = Math.max(1, timeoutMs - (Date.now() - started));
  return estimatePreview(request, left);
}

/** One statement (and its statement timeout) in its own transaction. */
async function withTimeout<T>(
  ctx: Pick<EngineContext, "db">,
  timeoutMs: number,
  fn: (s: SqlSession) => Promise<T>,
): Promise<T> {
  return ctx.db.withSession(async (s: SqlSession) => {
    await s.exec("BEGIN");
    try {
      await s.exec(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
      const out = await fn(s);
      await s.exec("COMMIT");
      return out;
    } catch (err) {
      await s.exec("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}

type PreviewOpts = { self?: string; sample?: number; sampleSize?: number; seed?: number };

/** What a preview counts: a definition over a workspace, at the context's clock. */
interface PreviewRequest {
  ctx: Pick<EngineContext, "db" | "now">;
  workspaceId: string;
  definition: SegmentDefinition;
  resolve: (id: string) => SegmentDefinition | undefined;
  opts: PreviewOpts;
}

/** The request's query over every customer, or over `customerIds` only. */
function compilePreview(r: PreviewRequest, customerIds?: readonly string[]): CompiledSegment {
  return compileSegment(r.definition, {
    workspaceId: r.workspaceId,
    now: r.ctx.now(),
    resolve: r.resolve,
    ...(customerIds ? { customerIds } : {}),
    ...(r.opts.self ? { self: r.opts.self } : {}),
  });
}

async function exactPreview(r: PreviewRequest, timeoutMs: number): Promise<SegmentPreview> {
  const q = compilePreview(r);
  const n = q.params.length;
  const sql = `WITH m AS MATERIALIZED (${q.sql})
    SELECT (SELECT count(*) FROM m)::int AS count,
      (SELECT COALESCE(json_agg(json_build_object('id', x.id, 'externalId', x."externalId", 'email', x.email) ORDER BY x.id), '[]')
       FROM (SELECT c.id, c."externalId", c.email FROM "Customer" c JOIN (SELECT id FROM m ORDER BY id LIMIT $${n + 1}) s ON s.id = c.id) x) AS sample`;
  return withTimeout(r.ctx, timeoutMs, async (s) => {
    const [row] = await s.query<{ count: number; sample: SegmentPreview["sample"] }>(sql, [
      ...q.params,
      r.opts.sample ?? 20,
    ]);
    return { count: row?.count ?? 0, sample: row?.sample ?? [] };
  });
}

async function estimatePreview(r: PreviewRequest, timeoutMs: number): Promise<SegmentPreview> {
  return withTimeout(r.ctx, timeoutMs, async (s) => {
    const [total] = await s.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Customer" WHERE "workspaceId" = $1`,
      [r.workspaceId],
    );
    const customers = total?.n ?? 0;
    if (customers === 0) return { count: 0, sample: [] };
    const percent = Math.min(100, ((r.opts.sampleSize ?? ESTIMATE_SAMPLE) / customers) * 100);
    const drawn = await s.query<{ id: string }>(
      `SELECT id FROM "Customer" TABLESAMPLE BERNOULLI ($2::float8) REPEATABLE ($3::float8)
       WHERE "workspaceId" = $1`,
      [r.workspaceId, percent, r.opts.seed ?? Math.floor(Math.random() * 2 ** 31)],
    );
    const ids = drawn.map((r) => r.id);
    if (ids.length === 0) return { count: 0, sample: [], estimate: range(0, 0, customers) };
    const q = compilePreview(r, ids);
    const matched = await s.query<{ id: string; externalId: string; email: string | null }>(
      `SELECT c.id, c."externalId", c.email FROM "Customer" c
       JOIN (${q.sql}) m ON m.id = c.id ORDER BY c.id`,
      q.params,
    );
    const estimate = range(matched.length, ids.length, customers);
    return {
      count: Math.round((matched.length / ids.length) * customers),
      sample: matched.slice(0, r.opts.sample ?? 20),
      estimate,
    };
  });
}

/** The 95 % Wilson score range for `hits` of `n` drawn from `customers`, in customers. */
function range(
  hits: number,
  n: number,
  customers: number,
): NonNullable<SegmentPreview["estimate"]> {
  if (n === 0) return { sampled: 0, customers, low: 0, high: customers };
  const z = 1.96;
  const p = hits / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  // Drawn without replacement from a finite workspace: the range narrows as the draw nears all.
  const fpc = Math.sqrt(Math.max(0, (customers - n) / Math.max(1, customers - 1)));
  const mid = p + (centre - p) * fpc;
  // The customers seen to match are in it for sure, those seen not to match are out.
  const low = Math.max(hits, Math.floor((mid - half * fpc) * customers));
  const high = Math.min(customers - (n - hits), Math.ceil((mid + half * fpc) * customers));
  return { sampled: n, customers, low, high: Math.max(low, high) };
}

/** Whether an error is Postgres cancelling a statement for its timeout. */
export function isStatementTimeout(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "57014";
}

// ---------------------------------------------------------------------------------------------
// Membership

export interface MembershipChange {
  segmentId: string;
  customerId: string;
  change: "entered" | "left";
  /** When it happened (the membership's `since` for an entry). */
  at: number;
}

/**
 * Brings one segment's membership up to date for `customerIds` (null: every customer of the
 * workspace) in one statement: members who no longer match leave, customers who now match enter.
 * Returns the changes (each made by exactly one statement, however many run at once).
 */
export async function refreshSegment(
  ctx: Pick<EngineContext, "db" | "now">,
  segment: SavedSegment,
  resolve: (id: string) => SegmentDefinition | undefined,
  customerIds: readonly string[] | null,
): Promise<MembershipChange[]> {
  const now = ctx.now();
  const q = compileSegment(segment.definition, {
    workspaceId: segment.workspaceId,
    now,
    resolve,
    self: segment.id,
    ...(customerIds ? { customerIds } : {}),
  });
  const n = q.params.length;
  const seg = `$${n + 1}::text`;
  const at = `$${n + 2}::timestamp`;
  const ws = `$${n + 3}::text`;
  const scope = customerIds ? ` AND m."customerId" = ANY($2::text[])` : "";
  const changes = `SELECT 'entered' AS change, "customerId" FROM ins UNION ALL SELECT 'left', "customerId" FROM del`;
  const sql = `WITH ${[...q.ctes, `target AS (${q.select})`].join(", ")},
    ins AS (INSERT INTO "SegmentMembership" ("segmentId", "customerId", since)
            SELECT ${seg}, id, ${at} FROM target ON CONFLICT DO NOTHING RETURNING "customerId"),
    del AS (DELETE FROM "SegmentMembership" m WHERE m."segmentId" = ${seg}${scope}
            AND NOT EXISTS (SELECT 1 FROM target t WHERE t.id = m."customerId") RETURNING "customerId"),
    edges AS (INSERT INTO "SegmentEdge" ("segmentId", "customerId", change, at, "workspaceId")
            SELECT ${seg}, ch."customerId", ch.change, ${at}, ${ws} FROM (${changes}) ch
            WHERE EXISTS (${LIVE_SEGMENT_TRIGGERED.replace("$1", ws)}) ON CONFLICT DO NOTHING)
    ${changes}`;
  // Named per statement text: each connection parses and plans a segment's refresh once (the
  // clock and the customers are parameters, so the text only changes with the definition).
  const rows = await ctx.db.query<{ change: "entered" | "left"; customerId: string }>(
    sql,
    [...q.params, segment.id, new Date(now).toISOString().slice(0, -1), segment.workspaceId],
    { prepare: `seg_${createHash("sha256").update(sql).digest("base64url").slice(0, 24)}` },
  );
  return rows.map((r) => ({
    segmentId: segment.id,
    customerId: r.customerId,
    change: r.change,
    at: now,
  }));
}

/** One segment of a batch refresh, for the customers whose events it reads. */
interface RefreshPart {
  segment: SavedSegment;
  customers: readonly string[];
}

/** What a batch refresh statement returns besides the membership changes. */
interface BatchRefreshResult {
  changes: MembershipChange[];
  /** The workspace's live segment-triggered versions (read by the same statement), if asked for. */
  versions: { id: string; journeyId: string }[] | null;
}

/**
 * Several segments, each for a few customers, in ONE statement (a refresh per segment would cost
 * a round trip and a commit each, on every batch of events). Set-based: the customers' events are
 * read once (`a`: one row per customer with every aggregate any of the segments' event rules
 * needs — count, sum or last time, per window and filter — instead of a correlated aggregate per
 * rule, segment and customer; the five lifecycle stages and the bench's three custom segments
 * share six columns); `target` is every (segment, customer) that matches; one INSERT adds the
 * entries for all the segments, and a DELETE per segment removes its exits. A segment whose
 * customers are fewer than all of them is tested (and its exits looked for) only for its own.
 *
 * Optionally the same statement also reads the workspace's live segment-triggered versions (so
 * starting the journeys on the edges costs no further round trip) and marks a batch's events
 * processed (so the batch commits once: membership changes and `processedAt` together).
 */
function batchRefreshStatement(
  workspaceId: string,
  parts: readonly RefreshPart[],
  resolve: (id: string) => SegmentDefinition | undefined,
  now: number,
  opts: { versions: boolean; processed: readonly string[]; received?: ReceivedRange },
): { sql: string; params: unknown[] } {
  const b = new Builder("batch", now, resolve);
  const all = [...new Set(parts.flatMap((p) => p.customers))].sort();
  b.params.push(workspaceId, all);
  const segIds = parts.map((p) => b.p(p.segment.id, "text"));
  // Each part's customers: $2 (all of the batch's) or its own array.
  const custs = parts.map((p) =>
    p.customers.length === all.length ? "$2::text[]" : b.p([...p.customers].sort(), "text[]"),
  );
  const tests = parts.map((p, i) => {
    const def = definitionSql(p.segment.definition, b, 0, [p.segment.id]);
    return `(${segIds[i]}, ${custs[i] === "$2::text[]" ? def : `(c.id = ANY(${custs[i]}) AND ${def})`})`;
  });
  const at = b.p(new Date(now).toISOString().slice(0, -1), "timestamp");
  const ctes: string[] = [];
  let join = "";
  if (b.aggs.size > 0) {
    const names = b.p([...b.aggEvents], "text[]");
    const cols = [...b.aggs.values()].map((x) => `${x.sql} AS ${x.column}`).join(", ");
    ctes.push(
      `a AS (SELECT e."customerId" AS cid, ${cols} FROM "Event" e WHERE e."workspaceId" = $1 AND e."customerId" = ANY($2::text[]) AND e.name = ANY(${names}) GROUP BY e."customerId")`,
    );
    join = " LEFT JOIN a ON a.cid = c.id";
  }
  ctes.push(
    `target AS MATERIALIZED (SELECT s.seg, c.id FROM "Customer" c${join} CROSS JOIN LATERAL (VALUES ${tests.join(", ")}) AS s(seg, ok) WHERE c."workspaceId" = $1 AND c.id = ANY($2::text[]) AND s.ok)`,
    `ins AS (INSERT INTO "SegmentMembership" ("segmentId", "customerId", since) SELECT seg, id, ${at} FROM target ON CONFLICT DO NOTHING RETURNING "segmentId", "customerId")`,
    // Exits per segment: `segmentId = $x AND customerId = ANY(…)` is one primary-key range
    // whatever the statistics (a single DELETE over all the segments' ids reads every member of
    // them, tens of thousands of rows, while "SegmentMembership" has no statistics yet).
    ...parts.map(
      (_, i) =>
        `d${i} AS (DELETE FROM "SegmentMembership" m WHERE m."segmentId" = ${segIds[i]} AND m."customerId" = ANY(${custs[i]}) AND NOT EXISTS (SELECT 1 FROM target t WHERE t.seg = m."segmentId" AND t.id = m."customerId") RETURNING "segmentId", "customerId")`,
    ),
  );
  const selects = [
    `SELECT 'entered' AS kind, "segmentId" AS x, "customerId" AS y FROM ins`,
    ...parts.map((_, i) => `SELECT 'left', "segmentId", "customerId" FROM d${i}`),
  ];
  if (opts.versions) {
    ctes.push(
      `trig AS (${LIVE_SEGMENT_TRIGGERED})`,
      // The edges, kept until the journeys they trigger were started (see SegmentEdge).
      `edges AS (INSERT INTO "SegmentEdge" ("segmentId", "customerId", change, at, "workspaceId") SELECT x, y, kind, ${at}, $1 FROM (${selects.join(" UNION ALL ")}) ch WHERE EXISTS (SELECT 1 FROM trig) ON CONFLICT DO NOTHING)`,
    );
    selects.push(`SELECT 'version', id, "journeyId" FROM trig`);
  }
  if (opts.processed.length > 0)
    // Not read by the SELECT: Postgres runs a data-modifying WITH to completion regardless.
    ctes.push(
      `done AS (UPDATE "Event" SET "processedAt" = now() AT TIME ZONE 'UTC' WHERE id = ANY(${b.p([...opts.processed], "text[]")}) AND "processedAt" IS NULL${
        // issue 15: only the months the events were received in (event-months.ts).
        opts.received
          ? ` AND "receivedAt" BETWEEN ${rangeParams(opts.received)
              .map((t) => b.p(t, "timestamp"))
              .join(" AND ")}`
          : ""
      } RETURNING 1)`,
    );
  return { sql: `WITH ${ctes.join(", ")} ${selects.join(" UNION ALL ")}`, params: b.params };
}

/** Runs a batch refresh statement (on `session`, or the pool) and sorts its rows. */
async function runBatchRefresh(
  q: Pick<SqlSession, "query">,
  statement: { sql: string; params: unknown[] },
  parts: readonly RefreshPart[],
  now: number,
  versions: boolean,
): Promise<BatchRefreshResult> {
  type Row = { kind: "entered" | "left" | "version"; x: string; y: string };
  // Named per statement text: each connection parses and plans it once (customers, clock and
  // events are parameters, so the text only changes with the definitions and the parts' shape).
  const prepare = `segs_${createHash("sha256").update(statement.sql).digest("base64url").slice(0, 24)}`;
  const rows = await q.query<Row>(statement.sql, statement.params, { prepare });
  const out: BatchRefreshResult = { changes: [], versions: versions ? [] : null };
  for (const r of rows)
    if (r.kind === "version") out.versions!.push({ id: r.x, journeyId: r.y });
    else out.changes.push({ segmentId: r.x, customerId: r.y, change: r.kind, at: now });
  // In the order of the segments, entries before exits (as one statement per segment gave them).
  const order = new Map(parts.map((p, i) => [p.segment.id, i]));
  out.changes.sort(
    (x, y) =>
      order.get(x.segmentId)! - order.get(y.segmentId)! ||
      (x.change === y.change ? 0 : x.change === "entered" ? -1 : 1) ||
      (x.customerId < y.customerId ? -1 : x.customerId > y.customerId ? 1 : 0),
  );
  return out;
}

/** Several segments for the same few customers in one statement (see batchRefreshStatement). */
export async function refreshSegmentsFor(
  ctx: Pick<EngineContext, "db" | "now">,
  workspaceId: string,
  segments: readonly SavedSegment[],
  resolve: (id: string) => SegmentDefinition | undefined,
  customerIds: readonly string[],
): Promise<MembershipChange[]> {
  return (await refreshPartsFor(ctx, workspaceId, segments, resolve, customerIds, false)).changes;
}

async function refreshPartsFor(
  ctx: Pick<EngineContext, "db" | "now">,
  workspaceId: string,
  segments: readonly SavedSegment[],
  resolve: (id: string) => SegmentDefinition | undefined,
  customerIds: readonly string[],
  versions: boolean,
): Promise<BatchRefreshResult> {
  if (segments.length === 0 || customerIds.length === 0) return { changes: [], versions: null };
  const now = ctx.now();
  const parts = segments.map((segment) => ({ segment, customers: customerIds }));
  const statement = batchRefreshStatement(workspaceId, parts, resolve, now, {
    versions,
    processed: [],
  });
  return runBatchRefresh(ctx.db, statement, parts, now, versions);
}

/** A workspace's saved segments by id, to resolve the segments a definition includes. */
function resolverOf(all: readonly SavedSegment[]): (id: string) => SegmentDefinition | undefined {
  const byId = new Map(all.map((s) => [s.id, s.definition]));
  return (id) => byId.get(id);
}

/** The segments that compile (a segment naming a deleted one is skipped, with a warning). */
function compilable(
  ctx: Pick<EngineContext, "log">,
  workspaceId: string,
  segments: readonly SavedSegment[],
  resolve: (id: string) => SegmentDefinition | undefined,
): SavedSegment[] {
  return segments.filter((s) => {
    try {
      compileSegment(s.definition, { workspaceId, now: 0, resolve, customerIds: [], self: s.id });
      return true;
    } catch (err) {
      if (!(err instanceof SegmentDefinitionError)) throw err;
      ctx.log.warn({ segmentId: s.id, err: err.message }, "segment cannot be evaluated");
      return false;
    }
  });
}

/** Refreshes the given segments for some customers (or all) and starts the journeys it triggers. */
export async function refreshSegments(
  ctx: EngineContext,
  workspaceId: string,
  segments: readonly SavedSegment[],
  customerIds: readonly string[] | null,
): Promise<MembershipChange[]> {
  if (segments.length === 0 || (customerIds && customerIds.length === 0)) return [];
  const resolve = resolverOf(await loadSegments(ctx, workspaceId));
  const changes: MembershipChange[] = [];
  if (customerIds) {
    // Those that compile, in one statement (which also reads the segment-triggered versions).
    const ok = compilable(ctx, workspaceId, segments, resolve);
    const res = await refreshPartsFor(ctx, workspaceId, ok, resolve, customerIds, true);
    if (res.changes.length > 0)
      await startSegmentJourneys(ctx, workspaceId, res.changes, res.versions ?? undefined);
    return res.changes;
  }
  for (const s of segments) {
    try {
      // One by one: a whole-workspace refresh can change hundreds of thousands of memberships,
      // past what a spread call's arguments may hold (RangeError at 1 M customers).
      for (const c of await refreshSegment(ctx, s, resolve, customerIds)) changes.push(c);
    } catch (err) {
      if (err instanceof SegmentDefinitionError) {
        ctx.log.warn({ segmentId: s.id, err: err.message }, "segment cannot be evaluated");
        continue;
      }
      throw err;
    }
  }
  if (changes.length > 0) await startSegmentJourneys(ctx, workspaceId, changes);
  return changes;
}

/** After a batch of processed events: the segments their names can affect, for their customers. */
export async function refreshSegmentsForEvents(
  ctx: EngineContext,
  events: readonly { workspaceId: string; customerId: string; name: string }[],
): Promise<number> {
  return (await refreshSegmentsForEventBatch(ctx, events, [])).changed;
}

/**
 * After a batch of events (events.ts): per workspace, ONE statement refreshes every segment the
 * batch's event names can affect, each for the customers whose events it (or a segment it
 * includes) reads — a page view does not re-evaluate the purchase segments of its customer — and
 * reads the segment-triggered versions. Given `processed` (the batch's event ids), the same
 * statement marks them processed, so membership changes and `processedAt` commit together (one
 * commit per batch instead of two; a batch over several workspaces runs its statements in one
 * transaction). `marked` says whether it did: when no segment is affected, no statement runs and
 * the caller marks the events itself. Then the journeys on the edges start, as before.
 */
export async function refreshSegmentsForEventBatch(
  ctx: EngineContext,
  events: readonly { workspaceId: string; customerId: string; name: string }[],
  processed: readonly string[],
  received?: ReceivedRange,
): Promise<{ changed: number; marked: boolean }> {
  const customersOf = new Map<string, Map<string, Set<string>>>();
  for (const e of events) {
    const byName = customersOf.get(e.workspaceId) ?? new Map<string, Set<string>>();
    byName.set(e.name, (byName.get(e.name) ?? new Set()).add(e.customerId));
    customersOf.set(e.workspaceId, byName);
  }
  const now = ctx.now();
  const found: {
    workspaceId: string;
    parts: RefreshPart[];
    resolve: (id: string) => SegmentDefinition | undefined;
  }[] = [];
  for (const [workspaceId, byName] of customersOf) {
    const segments = await loadSegments(ctx, workspaceId);
    if (segments.length === 0) continue;
    const { names, resolve, ok } = batchInputsOf(ctx, workspaceId, segments);
    const parts: RefreshPart[] = [];
    for (const s of ok) {
      const ids = new Set<string>();
      for (const n of names.get(s.id) ?? []) for (const c of byName.get(n) ?? []) ids.add(c);
      if (ids.size > 0) parts.push({ segment: s, customers: [...ids].sort() });
    }
    if (parts.length > 0) found.push({ workspaceId, parts, resolve });
  }
  if (found.length === 0) return { changed: 0, marked: false };
  // The events are marked processed by the last statement (of the same transaction).
  const work = found.map((f, i) => ({
    ...f,
    statement: batchRefreshStatement(f.workspaceId, f.parts, f.resolve, now, {
      versions: true,
      processed: i === found.length - 1 ? processed : [],
      received,
    }),
  }));
  const results =
    work.length === 1
      ? [await runBatchRefresh(ctx.db, work[0]!.statement, work[0]!.parts, now, true)]
      : await ctx.db.withSession(async (s) => {
          await s.exec("BEGIN");
          try {
            const out: BatchRefreshResult[] = [];
            for (const w of work)
              out.push(await runBatchRefresh(s, w.statement, w.parts, now, true));
            await s.exec("COMMIT");
            return out;
          } catch (err) {
            await s.exec("ROLLBACK").catch(() => undefined);
            throw err;
          }
        });
  let changed = 0;
  for (const [i, w] of work.entries()) {
    const res = results[i]!;
    changed += res.changes.length;
    if (res.changes.length > 0)
      await startSegmentJourneys(ctx, w.workspaceId, res.changes, res.versions ?? undefined);
  }
  return { changed, marked: processed.length > 0 };
}

/**
 * What every batch would otherwise work out again from a workspace's segments, once per list
 * loadSegments returns (it keeps one for 2 s): the event names each segment reads, the resolver,
 * and the segments that compile (one naming a deleted segment is left out, with a warning).
 */
const batchInputs = new WeakMap<
  readonly SavedSegment[],
  {
    names: Map<string, Set<string>>;
    resolve: (id: string) => SegmentDefinition | undefined;
    ok: SavedSegment[];
  }
>();

function batchInputsOf(
  ctx: Pick<EngineContext, "log">,
  workspaceId: string,
  segments: readonly SavedSegment[],
): {
  names: Map<string, Set<string>>;
  resolve: (id: string) => SegmentDefinition | undefined;
  ok: SavedSegment[];
} {
  let inputs = batchInputs.get(segments);
  if (!inputs) {
    const resolve = resolverOf(segments);
    inputs = {
      names: eventNamesOf(segments),
      resolve,
      ok: compilable(ctx, workspaceId, segments, resolve),
    };
    batchInputs.set(segments, inputs);
  }
  return inputs;
}

/** The event names each segment reads, with those of the segments it includes (transitively). */
function eventNamesOf(segments: readonly SavedSegment[]): Map<string, Set<string>> {
  const byId = new Map(segments.map((s) => [s.id, s]));
  const out = new Map<string, Set<string>>();
  const visit = (id: string, seen: Set<string>): Set<string> => {
    const done = out.get(id);
    if (done) return done;
    const s = byId.get(id);
    const names = new Set<string>();
    if (!s || seen.has(id)) return names;
    seen.add(id);
    const d = dependenciesOf(s.definition);
    for (const n of d.events) names.add(n);
    for (const ref of d.segments) for (const n of visit(ref, seen)) names.add(n);
    out.set(id, names);
    return names;
  };
  for (const s of segments) visit(s.id, new Set());
  return out;
}

/**
 * After identifies (or attribute steps) of customers of one workspace (issue 15: many at once): the
 * segments on attributes or consent, for all of them in ONE statement (batchRefreshStatement),
 * then the journeys on their edges start. That statement also reads the workspace's live
 * segment-triggered versions; they are returned (null when no statement ran) so the caller need
 * not read them again.
 */
export async function refreshSegmentsForCustomers(
  ctx: EngineContext,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<{ changed: number; versions: { id: string; journeyId: string }[] | null }> {
  const segments = await loadSegments(ctx, workspaceId);
  if (segments.length === 0 || customerIds.length === 0) return { changed: 0, versions: null };
  const hit = affectedSegments(segments, (s) => {
    const d = dependenciesOf(s.definition);
    return d.attributes || d.consent;
  });
  // Those that compile (batchInputsOf keeps the list per segment list loadSegments returns).
  const { ok, resolve } = batchInputsOf(ctx, workspaceId, segments);
  const compiles = new Set(ok);
  const parts = hit.filter((s) => compiles.has(s));
  const res = await refreshPartsFor(ctx, workspaceId, parts, resolve, customerIds, true);
  if (res.changes.length > 0)
    await startSegmentJourneys(ctx, workspaceId, res.changes, res.versions ?? undefined);
  return { changed: res.changes.length, versions: res.versions };
}

/**
 * The scheduled sweep: every segment whose windows move with the clock (or that reads consent,
 * which changes outside events) is re-evaluated for the whole workspace, so a customer leaves
 * "purchased in the last 30 days" on day 31 without a new event.
 */
export async function sweepSegments(
  ctx: EngineContext,
  workspaceId?: string,
  segmentId?: string,
): Promise<{ segments: number; entered: number; left: number }> {
  const workspaces = workspaceId
    ? [workspaceId]
    : (
        await ctx.db.query<{ workspaceId: string }>(`SELECT DISTINCT "workspaceId" FROM "Segment"`)
      ).map((r) => r.workspaceId);
  let count = 0;
  let entered = 0;
  let left = 0;
  for (const ws of workspaces) {
    const segments = await loadSegments(ctx, ws, true);
    const hit = affectedSegments(segments, (s) => {
      if (segmentId) return s.id === segmentId;
      const d = dependenciesOf(s.definition);
      return d.time || d.consent;
    });
    count += hit.length;
    for (const c of await refreshSegments(ctx, ws, hit, null))
      if (c.change === "entered") entered++;
      else left++;
  }
  return { segments: count, entered, left };
}

// ---------------------------------------------------------------------------------------------
// Entry and exit as triggers

/** The saved segment and edge a segment trigger listens to (null: the inline-conditions form). */
export function savedSegmentTrigger(
  plan: Plan,
): { segmentId: string; on: "enter" | "leave" } | null {
  const t = triggerOf(plan);
  if (t.type !== "trigger.segment") return null;
  const c = t.config as { segmentId?: unknown; on?: unknown };
  if (typeof c.segmentId !== "string" || !c.segmentId) return null;
  return { segmentId: c.segmentId, on: c.on === "leave" ? "leave" : "enter" };
}

/** The workspace's ($1) live segment-triggered versions. */
const LIVE_SEGMENT_TRIGGERED = `SELECT v.id, v."journeyId" FROM "JourneyVersion" v JOIN "Journey" j ON j.id = v."journeyId"
     WHERE v."workspaceId" = $1 AND v.status = 'LIVE' AND j.status = 'LIVE' AND v."triggerType" = 'trigger.segment'`;

/**
 * Starts the live journeys whose trigger names one of these segments, for the customers that
 * moved, then forgets the edges (SegmentEdge): the refresh wrote them with the membership change
 * when the workspace had such a journey, so a crash before this point leaves them for the
 * sweeper (replaySegmentEdges), and the entry's trigger id (segment, change, moment) makes a
 * journey start once however often an edge is handed over.
 */
async function startSegmentJourneys(
  ctx: EngineContext,
  workspaceId: string,
  changes: readonly MembershipChange[],
  /** The live segment-triggered versions, when the refresh's statement read them already. */
  known?: readonly { id: string; journeyId: string }[],
  /** A replay: forget the edges even when no journey listens any more. */
  replay = false,
): Promise<number> {
  const versions =
    known ??
    (await ctx.db.query<{ id: string; journeyId: string }>(LIVE_SEGMENT_TRIGGERED, [workspaceId], {
      prepare: "engine.segmentTriggeredVersions",
    }));
  // No live segment-triggered journey when the refresh ran: it wrote no edge either.
  if (versions.length === 0 && !replay) return 0;
  const enrolled = await enrolOnEdges(ctx, workspaceId, changes, versions);
  await forgetEdges(ctx, changes);
  return enrolled;
}

/** Deletes the edges of these changes (handed over). */
async function forgetEdges(
  ctx: Pick<EngineContext, "db">,
  changes: readonly MembershipChange[],
): Promise<void> {
  if (changes.length === 0) return;
  await ctx.db.query(
    `DELETE FROM "SegmentEdge" e USING unnest($1::text[], $2::text[], $3::text[], $4::timestamp[]) AS x(s, c, k, t)
     WHERE e."segmentId" = x.s AND e."customerId" = x.c AND e.change = x.k AND e.at = x.t`,
    [
      changes.map((c) => c.segmentId),
      changes.map((c) => c.customerId),
      changes.map((c) => c.change),
      changes.map((c) => new Date(c.at).toISOString().slice(0, -1)),
    ],
    { prepare: "engine.forgetSegmentEdges" },
  );
}

/**
 * The sweeper's part: edges older than `before` that no refresh handed over (its worker died
 * between the membership change and starting the journeys) are handed over now, oldest first.
 */
export async function replaySegmentEdges(
  ctx: EngineContext,
  before: number,
  limit: number,
): Promise<number> {
  const rows = await ctx.db.query<{
    workspaceId: string;
    segmentId: string;
    customerId: string;
    change: "entered" | "left";
    at: number;
  }>(
    // The moment as ms since the epoch (a timestamp column would be read in the process's zone).
    `SELECT "workspaceId", "segmentId", "customerId", change,
            (extract(epoch FROM at) * 1000)::float8 AS at FROM "SegmentEdge"
     WHERE at < $1::timestamp ORDER BY at LIMIT $2`,
    [new Date(before).toISOString().slice(0, -1), limit],
    { prepare: "engine.staleSegmentEdges" },
  );
  const byWorkspace = new Map<string, MembershipChange[]>();
  for (const r of rows) {
    const list = byWorkspace.get(r.workspaceId) ?? [];
    list.push({
      segmentId: r.segmentId,
      customerId: r.customerId,
      change: r.change,
      at: Math.round(r.at),
    });
    byWorkspace.set(r.workspaceId, list);
  }
  for (const [workspaceId, changes] of byWorkspace)
    await startSegmentJourneys(ctx, workspaceId, changes, undefined, true);
  return rows.length;
}

/** Enrols the customers that moved in the journeys listening to their segments' edges. */
async function enrolOnEdges(
  ctx: EngineContext,
  workspaceId: string,
  changes: readonly MembershipChange[],
  versions: readonly { id: string; journeyId: string }[],
): Promise<number> {
  if (versions.length === 0) return 0;
  const listening: { id: string; journeyId: string; segmentId: string; on: "enter" | "leave" }[] =
    [];
  for (const v of versions) {
    try {
      const t = savedSegmentTrigger(await loadPlan(ctx, v.id));
      if (t) listening.push({ ...v, ...t });
    } catch (err) {
      ctx.log.warn({ versionId: v.id, err: (err as Error).message }, "unreadable plan");
    }
  }
  const relevant = changes.filter((c) =>
    listening.some(
      (l) => l.segmentId === c.segmentId && (l.on === "enter") === (c.change === "entered"),
    ),
  );
  if (relevant.length === 0) return 0;
  const customers = await ctx.db.query<CustomerRow>(
    `SELECT id, "externalId", email, phone, timezone, attributes, tags FROM "Customer" WHERE id = ANY($1::text[])`,
    [[...new Set(relevant.map((c) => c.customerId))]],
  );
  const byId = new Map(customers.map((c) => [c.id, toSnapshot(c)]));
  const entries: EntryInput[] = [];
  for (const c of relevant) {
    const customer = byId.get(c.customerId);
    if (!customer) continue;
    for (const l of listening) {
      if (l.segmentId !== c.segmentId || (l.on === "enter") !== (c.change === "entered")) continue;
      const name = c.change === "entered" ? "segment_entered" : "segment_left";
      // One entry per edge: the trigger id names the segment and the moment it happened.
      entries.push({
        workspaceId,
        journeyId: l.journeyId,
        versionId: l.id,
        customer,
        trigger: {
          eventId: `segment-${c.segmentId}-${c.change}-${c.at}`,
          name,
          properties: { segmentId: c.segmentId },
          timestamp: c.at,
        },
      });
    }
  }
  // All at once, each with enrol()'s outcome (a customer's edges for one journey in their order).
  if (entries.length === 0) return 0;
  return (await enrolEntries(ctx, entries)).filter((r) => r.runId && !r.skipped).length;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle stages: five saved segments of kind "lifecycle", generated from the workspace's rules.

/** The workspace's lifecycle rules (defaults until someone tunes them). */
export async function lifecycleSettingsOf(
  ctx: Pick<EngineContext, "db">,
  workspaceId: string,
): Promise<LifecycleSettings> {
  const row = await ctx.db.prisma.lifecycleSettings.findUnique({ where: { workspaceId } });
  const parsed = LifecycleSettings.safeParse(row?.settings ?? {});
  return parsed.success ? parsed.data : DEFAULT_LIFECYCLE;
}

/**
 * Saves the rules and (re)writes the five stage segments from them; returns their ids by stage.
 * Their membership is computed by the `segments` job (queued by the caller).
 */
export async function saveLifecycle(
  ctx: Pick<EngineContext, "db">,
  workspaceId: string,
  settings: LifecycleSettings,
): Promise<Record<LifecycleStage, string>> {
  const defs = lifecycleDefinitions(settings);
  const words = lifecycleRuleWords(settings);
  return ctx.db.prisma.$transaction(async (tx) => {
    await tx.lifecycleSettings.upsert({
      where: { workspaceId },
      create: { workspaceId, settings },
      update: { settings },
    });
    const ids = {} as Record<LifecycleStage, string>;
    for (const stage of LIFECYCLE_STAGES) {
      const data = {
        name: `Lifecycle: ${LIFECYCLE_STAGE_NAMES[stage]}`,
        description: `Built-in lifecycle stage: ${words[stage]}.`,
        definition: defs[stage] as unknown as Prisma.InputJsonValue,
      };
      const existing = await tx.segment.findFirst({
        where: { workspaceId, kind: "lifecycle", stage },
        select: { id: true },
      });
      ids[stage] = existing
        ? (await tx.segment.update({ where: { id: existing.id }, data, select: { id: true } })).id
        : (
            await tx.segment.create({
              data: { ...data, workspaceId, kind: "lifecycle", stage },
              select: { id: true },
            })
          ).id;
    }
    return ids;
  });
}

/** The saved segments a customer is in (lifecycle stage first), with when they entered. */
export async function segmentsOfCustomer(
  ctx: Pick<EngineContext, "db">,
  workspaceId: string,
  customerId: string,
): Promise<{
  stage: LifecycleStage | null;
  segments: { id: string; name: string; kind: string; stage: string | null; since: Date }[];
}> {
  const rows = await ctx.db.query<{
    id: string;
    name: string;
    kind: string;
    stage: string | null;
    since: Date;
  }>(
    `SELECT s.id, s.name, s.kind, s.stage, m.since FROM "SegmentMembership" m
     JOIN "Segment" s ON s.id = m."segmentId"
     WHERE m."customerId" = $1 AND s."workspaceId" = $2
     ORDER BY (s.kind = 'lifecycle') DESC, s.name`,
    [customerId, workspaceId],
  );
  const stage = rows.find((r) => r.kind === "lifecycle")?.stage ?? null;
  return {
    stage: (LIFECYCLE_STAGES as readonly string[]).includes(stage ?? "")
      ? (stage as LifecycleStage)
      : null,
    segments: rows,
  };
}

// ---------------------------------------------------------------------------------------------
// Print runs from a segment (issue 14 item 5): one personal URL per member for a page.

/** Members minted per statement. */
export const MINT_BATCH = 5000;

/** The synthetic run id a segment print run's PURLs carry (no journey run made them). */
export const segmentDropRunId = (segmentId: string, drop: string) =>
  `segment-drop:${segmentId}:${drop}`;

/**
 * Mints one PURL for `page` per current member of the segment, in keyset batches of MINT_BATCH
 * (each one INSERT … SELECT on the database), idempotent per (segment, drop, page, customer): a
 * re-run mints only for members who have none yet. Tokens are random (122 bits).
 */
export async function mintSegmentPurls(
  ctx: Pick<EngineContext, "db" | "now">,
  args: {
    workspaceId: string;
    segmentId: string;
    page: string;
    drop: string;
    expiresAt: Date | null;
    batch?: number;
  },
): Promise<{ members: number; created: number }> {
  const runId = segmentDropRunId(args.segmentId, args.drop);
  const keyPrefix = `${runId}:${args.page}:`;
  const now = new Date(ctx.now()).toISOString().slice(0, -1);
  const expires = args.expiresAt ? args.expiresAt.toISOString().slice(0, -1) : null;
  const params = JSON.stringify({ segmentId: args.segmentId, drop: args.drop });
  let after = "";
  let members = 0;
  let created = 0;
  for (;;) {
    const [row] = await ctx.db.query<{ last: string | null; seen: number; created: number }>(
      `WITH m AS (
         SELECT sm."customerId" FROM "SegmentMembership" sm
         WHERE sm."segmentId" = $1 AND sm."customerId" > $2
         ORDER BY sm."customerId" LIMIT $3
       ), ins AS (
         INSERT INTO "Purl" (token, "workspaceId", "runId", "customerId", "messageId", page, params, "expiresAt", "createdAt")
         SELECT replace(gen_random_uuid()::text, '-', ''), $4, $5, m."customerId", $6 || m."customerId",
                $7, $8::jsonb, $9::timestamp, $10::timestamp
         FROM m
         ON CONFLICT ("messageId") DO NOTHING
         RETURNING 1
       )
       SELECT (SELECT max("customerId") FROM m) AS last, (SELECT count(*) FROM m)::int AS seen,
              (SELECT count(*) FROM ins)::int AS created`,
      [
        args.segmentId,
        after,
        args.batch ?? MINT_BATCH,
        args.workspaceId,
        runId,
        keyPrefix,
        args.page,
        params,
        expires,
        now,
      ],
      { prepare: "engine.mintSegmentPurls" },
    );
    members += row?.seen ?? 0;
    created += row?.created ?? 0;
    if (!row?.last || row.seen < (args.batch ?? MINT_BATCH)) break;
    after = row.last;
  }
  return { members, created };
}
