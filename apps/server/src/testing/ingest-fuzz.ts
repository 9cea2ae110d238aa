// Property-based fuzzing of the Segment-compatible ingest (/v1/track, /v1/identify, /v1/page,
// /v1/batch) against a real server: strings from every Unicode category plus lone surrogates and
// NUL, deep and wide JSON, huge numbers, wrong types, wrong content types, malformed, empty and
// oversize bodies. The oracle, per case:
// - no answer is ≥ 500;
// - nothing half-stored: every accepted call or batch item is readable afterwards by its
//   messageId (Event for track/page/screen, IdentifyCall for identify) and every refused one is
//   absent; an accepted track's properties are what was sent with lone surrogates and NUL as
//   U+FFFD (computed independently, by Node's UTF-8 encoder), its timestamp the one sent when in
//   range;
// - a well-formed call (right types, shallow, small) is never refused.
// Used by ingest.fuzz.test.ts (bounded, in CI) and bench/fuzz.ts (long runs).
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type { Harness } from "./harness.ts";

export type FuzzTarget = Pick<Harness, "baseUrl" | "writeKey" | "workspaceId"> & {
  db: Pick<Harness["db"], "prisma">;
};

type CallType = "track" | "identify" | "page" | "screen" | "group" | "alias";

/** One generated call; `messageId` is given by the runner (fresh on every run, shrinks too). */
interface GenCall {
  type: CallType;
  fields: Record<string, unknown>;
  /** A weird suffix for the runner's messageId, or a wrong-typed messageId. */
  messageId: { suffix: string } | { wrong: unknown };
  /** Right types, shallow and small: must be accepted. */
  wellFormed: boolean;
}

type Envelope =
  | { kind: "json" } // the body as generated
  | { kind: "raw"; body: string } // replaces the body
  | { kind: "truncated" } // the JSON cut in the middle
  | { kind: "oversize" }; // padded past the limit

export interface FuzzCase {
  endpoint: "track" | "identify" | "page" | "batch";
  calls: GenCall[];
  envelope: Envelope;
  contentType: string | null;
  /** Batch only: a top-level field that is wrong (batch not an array, …). */
  batchShape: "ok" | "not-array" | "items-not-objects" | "too-many";
}

export interface Finding {
  kind: string;
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const LONE = ["\ud83d", "\udc00", "\udbff", "\ud800x", "x\udfff"];
const SPECIAL = [
  "\u0000",
  "\u0001",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u200b",
  "\u200d",
  "\u202e",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffd",
  "\uffff",
  "\ufffe",
  "\u0301",
  "😀",
  "👩🏽‍🚀",
  "𝔘",
  "中文",
  "ﷺ",
  '"',
  "\\",
  "\n",
  "{{ x }}",
  "<script>",
  "'; drop table",
  "__proto__",
  "constructor",
];

/** Any UTF-16 code unit (so lone surrogates and NUL), any code point, and hand-picked oddities. */
const weirdString = (maxLength = 24): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: "binary", maxLength }),
    fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength,
    }),
    fc
      .array(fc.oneof(fc.constantFrom(...LONE, ...SPECIAL), fc.string({ maxLength: 3 })), {
        maxLength: 6,
      })
      .map((parts) => parts.join("")),
  );
const nonEmptyWeird = weirdString().filter((s) => s.length > 0);

/** Numbers JSON can carry; HUGE_* are raw literals put into the body text (JSON.stringify can't). */
const HUGE = ["1e400", "-1e400", "123456789012345678901234567890123456789", "1e-400", "-0.0"];
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, 1e21, -0),
);
const hugeToken = fc.constantFrom(...HUGE).map((h) => `@@NUM${h}@@`);

/** JSON of bounded size; `weird` adds odd strings, keys and raw huge numbers. */
function jsonValue(opts: { depth: number; width: number; weird: boolean }): fc.Arbitrary<unknown> {
  const str = opts.weird ? weirdString() : fc.string({ maxLength: 12 });
  const key = opts.weird ? weirdString(10) : fc.string({ maxLength: 8 });
  const leaf = fc.oneof(
    str,
    number,
    fc.boolean(),
    fc.constant(null),
    ...(opts.weird ? [hugeToken] : []),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: opts.depth },
      leaf,
      fc.array(tie("value"), { maxLength: opts.width }),
      fc.dictionary(key, tie("value"), { maxKeys: opts.width }),
    ),
  }));
  return value;
}
const object = (value: fc.Arbitrary<unknown>) =>
  fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 4 });

/** `levels` of nesting (objects or arrays) around a leaf. */
const deep = fc.tuple(fc.integer({ min: 1, max: 200 }), fc.boolean()).map(([levels, arrays]) => {
  let v: unknown = "bottom";
  for (let i = 0; i < levels; i++) v = arrays ? [v] : { d: v };
  return v;
});
const wide = fc
  .integer({ min: 50, max: 600 })
  .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
const wrongType = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({ nested: true }),
  fc.constant(""),
  hugeToken,
);

const validTimestamp = fc
  .date({ min: new Date(0), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString());
const oddTimestamp = fc.oneof(
  fc.constantFrom(
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2023-02-30T00:00:00Z",
    "2024-02-29T23:59:59.999+23:59",
    "2024-01-01T00:00:00-23:59",
    "yesterday",
    "2024-01-01",
    "+275760-09-13T00:00:00Z",
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  weirdString(),
);

const shallowJson = jsonValue({ depth: 3, width: 4, weird: false });

/** A call of `type` with right types and small size (must be accepted). */
function wellFormedCall(type: CallType): fc.Arbitrary<Record<string, unknown>> {
  const user = fc.oneof(
    fc.record({ userId: fc.string({ minLength: 1, maxLength: 40 }) }),
    fc.record({ anonymousId: fc.string({ minLength: 1, maxLength: 40 }) }),
  );
  const base = fc.record(
    { timestamp: validTimestamp, context: object(shallowJson) },
    { requiredKeys: [] },
  );
  const extra: fc.Arbitrary<Record<string, unknown>> =
    type === "track"
      ? fc.record({
          event: fc.string({ minLength: 1, maxLength: 60 }),
          properties: object(shallowJson),
        })
      : type === "identify"
        ? fc.record({ traits: object(shallowJson) })
        : type === "page" || type === "screen"
          ? fc.record(
              {
                name: fc.string({ maxLength: 60 }),
                category: fc.string({ maxLength: 60 }),
                properties: object(shallowJson),
              },
              { requiredKeys: [] },
            )
          : fc.constant({});
  return fc.tuple(user, base, extra).map(([u, b, e]) => ({ ...u, ...b, ...e }));
}

/** The same call with some fields replaced by odd strings, deep/wide JSON, huge numbers or wrong types. */
function mutatedCall(type: CallType): fc.Arbitrary<Record<string, unknown>> {
  const weirdJson = jsonValue({ depth: 4, width: 5, weird: true });
  const jsonish = fc.oneof(object(weirdJson), deep, wide, wrongType, weirdJson);
  const mutations: Record<string, fc.Arbitrary<unknown>> = {
    userId: fc.oneof(nonEmptyWeird, wrongType, weirdString(300)),
    anonymousId: fc.oneof(nonEmptyWeird, wrongType),
    event: fc.oneof(weirdString(), wrongType, weirdString(250)),
    name: fc.oneof(weirdString(), wrongType),
    category: fc.oneof(weirdString(), wrongType),
    timestamp: fc.oneof(oddTimestamp, wrongType),
    properties: jsonish,
    traits: jsonish,
    context: jsonish,
    [String.fromCharCode(0)]: weirdJson,
    extra: weirdJson,
  };
  return fc
    .tuple(
      wellFormedCall(type),
      fc
        .subarray(Object.keys(mutations), { minLength: 1, maxLength: 4 })
        .chain((keys) =>
          fc.tuple(
            ...keys.map((k) => (mutations[k] as fc.Arbitrary<unknown>).map((v) => [k, v] as const)),
          ),
        ),
    )
    .map(([call, changes]) => {
      const out = { ...call };
      for (const [k, v] of changes)
        Object.defineProperty(out, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    });
}

const callType = fc.constantFrom<CallType>("track", "identify", "page", "screen", "group", "alias");

function genCall(types: fc.Arbitrary<CallType>): fc.Arbitrary<GenCall> {
  return types.chain((type) =>
    fc
      .record({
        type: fc.constant(type),
        wellFormed: fc.boolean(),
        messageId: fc.oneof(
          { weight: 4, arbitrary: fc.constant({ suffix: "" }) },
          { weight: 2, arbitrary: weirdString(12).map((suffix) => ({ suffix })) },
          { weight: 1, arbitrary: wrongType.map((wrong) => ({ wrong })) },
        ),
      })
      .chain((c) =>
        (c.wellFormed ? wellFormedCall(type) : mutatedCall(type)).map((fields): GenCall => ({
          ...c,
          fields,
          // A `__proto__` key refuses the call by design (fc.string produces such keys).
          wellFormed:
            c.wellFormed &&
            !("wrong" in c.messageId) &&
            !JSON.stringify(fields).includes('"__proto__"'),
        })),
      ),
  );
}

export function fuzzCase(): fc.Arbitrary<FuzzCase> {
  const contentType = fc.oneof(
    { weight: 12, arbitrary: fc.constant("application/json") },
    {
      weight: 3,
      arbitrary: fc.constantFrom<string | null>(
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        null,
      ),
    },
  );
  const envelope = fc.oneof(
    { weight: 14, arbitrary: fc.constant<Envelope>({ kind: "json" }) },
    { weight: 1, arbitrary: fc.constant<Envelope>({ kind: "truncated" }) },
    { weight: 1, arbitrary: fc.constant<Envelope>({ kind: "oversize" }) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          "",
          "null",
          "[]",
          "42",
          '"text"',
          "{",
          "{}",
          "\u0000",
          '{"a":1}{"b":2}',
          "\ufeff{}",
        )
        .map((body): Envelope => ({ kind: "raw", body })),
    },
  );
  const single = (endpoint: "track" | "identify" | "page") =>
    fc.record({
      endpoint: fc.constant(endpoint),
      calls: genCall(fc.constant(endpoint)).map((c) => [c]),
      envelope,
      contentType,
      batchShape: fc.constant<FuzzCase["batchShape"]>("ok"),
    });
  const batch = fc.record({
    endpoint: fc.constant<FuzzCase["endpoint"]>("batch"),
    calls: fc.array(genCall(callType), { minLength: 1, maxLength: 8 }),
    envelope,
    contentType,
    batchShape: fc.oneof(
      { weight: 12, arbitrary: fc.constant<FuzzCase["batchShape"]>("ok") },
      {
        weight: 1,
        arbitrary: fc.constantFrom<FuzzCase["batchShape"]>(
          "not-array",
          "items-not-objects",
          "too-many",
        ),
      },
    ),
  });
  return fc.oneof(single("track"), single("identify"), single("page"), batch);
}

// ---------------------------------------------------------------------------------------------
// Running a case and judging the outcome

/** The oracle's own idea of a stored string: Node's UTF-8 encoder turns lone surrogates into U+FFFD. */
const storedString = (s: string) =>
  Buffer.from(s, "utf8").toString("utf8").replaceAll("\u0000", "\uFFFD");

class Ambiguous extends Error {}

/**
 * What a JSON value reads back as: strings and keys as stored, raw number literals as JSON.parse
 * reads them, keys sorted (jsonb reorders them). Two keys that become one when stored make the
 * expectation ambiguous (which one wins is not the point of the test): Ambiguous is thrown.
 */
function canonical(v: unknown): unknown {
  if (typeof v === "string") {
    const raw = /^@@NUM(.+)@@$/.exec(v);
    return raw ? canonical(JSON.parse(raw[1] ?? "0")) : storedString(v);
  }
  if (typeof v === "number") return Object.is(v, -0) ? 0 : v;
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const entries = Object.entries(v).map(([k, x]) => [storedString(k), canonical(x)] as const);
    const out: Record<string, unknown> = {};
    for (const [k, x] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (Object.hasOwn(out, k)) throw new Ambiguous(k);
      Object.defineProperty(out, k, {
        value: x,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}
/**
 * Equal JSON, numbers within a few units in the last place. KNOWN LOSS, not fixed here: track
 * stores properties through Prisma's JSON layer (its WASM query compiler; a float parser that
 * is not round-trip exact, we suppose), which wrote 493 of 2,011 random doubles one ULP off:
 * 0.30000000000000004 reads back as 0.3, 1234567.8901234567 as 1234567.890123457. identify
 * (raw SQL, `::jsonb`) stores them exactly.
 */
function near(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number")
    return a === b || Math.abs(a - b) <= 1e-14 * Math.max(Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => near(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every(
        (k, i) =>
          k === kb[i] && near((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return a === b;
}
const sameJson = (a: unknown, b: unknown) => {
  try {
    return near(canonical(a), canonical(b));
  } catch (err) {
    if (err instanceof Ambiguous) return true;
    throw err;
  }
};

let runSeq = 0;
const runTag = randomBytes(3).toString("hex");

function serialise(value: unknown): string {
  // Raw huge-number tokens become number literals in the text.
  return JSON.stringify(value).replace(/"@@NUM([^"@]+)@@"/g, "$1");
}

export interface CaseOutcome {
  status: number;
  findings: Finding[];
  items: number;
}

export async function runCase(target: FuzzTarget, c: FuzzCase): Promise<CaseOutcome> {
  const run = `fz${runTag}${++runSeq}`;
  const messageIds = c.calls.map((call, i) =>
    "wrong" in call.messageId ? call.messageId.wrong : `${run}-${i}${call.messageId.suffix}`,
  );
  const items = c.calls.map((call, i) => ({
    ...(c.endpoint === "batch" ? { type: call.type } : {}),
    ...call.fields,
    messageId: messageIds[i],
  }));
  let body: unknown =
    c.endpoint === "batch"
      ? {
          batch:
            c.batchShape === "not-array"
              ? items[0]
              : c.batchShape === "items-not-objects"
                ? [...items, 7, "x", null]
                : c.batchShape === "too-many"
                  ? [...items, ...Array.from({ length: 2501 }, () => ({}))]
                  : items,
        }
      : items[0];
  if (c.envelope.kind === "oversize")
    body = {
      ...(body as object),
      pad: "p".repeat(c.endpoint === "batch" ? 520 * 1024 : 34 * 1024),
    };
  let text = serialise(body);
  if (c.envelope.kind === "raw") text = c.envelope.body;
  if (c.envelope.kind === "truncated")
    text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));

  const before = Date.now();
  const res = await fetch(`${target.baseUrl}/v1/${c.endpoint}`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${target.writeKey}:`).toString("base64")}`,
      ...(c.contentType ? { "content-type": c.contentType } : {}),
    },
    body: Buffer.from(text, "utf8"),
  });
  const after = Date.now();
  const answer = (await res.json().catch(() => null)) as {
    refused?: { index: number }[];
  } | null;
  const findings: Finding[] = [];
  const where = `${c.endpoint} ${res.status} ${text.slice(0, 160)}`;
  if (res.status >= 500) findings.push({ kind: `answered ${res.status}`, detail: where });
  if (res.status === 429) return { status: res.status, findings, items: c.calls.length };

  // Which items the answer says were taken.
  const refusedIdx = new Set((answer?.refused ?? []).map((r) => r.index));
  const taken = (i: number) => res.status === 200 && (c.endpoint !== "batch" || !refusedIdx.has(i));
  const sentAsIs =
    c.envelope.kind === "json" &&
    c.batchShape === "ok" &&
    (c.contentType ?? "").startsWith("application/json");

  const ids = messageIds.map((m) => (typeof m === "string" ? storedString(m) : null));
  const strIds = ids.filter((m): m is string => m !== null);
  const [events, calls] = await Promise.all([
    target.db.prisma.event.findMany({
      where: { workspaceId: target.workspaceId, messageId: { in: strIds } },
      select: { messageId: true, name: true, properties: true, timestamp: true },
    }),
    target.db.prisma.identifyCall.findMany({
      where: { workspaceId: target.workspaceId, messageId: { in: strIds } },
      select: { messageId: true },
    }),
  ]);
  const stored = new Map<string, { name?: string; properties?: unknown; timestamp?: Date }>();
  for (const e of events) stored.set(e.messageId, e);
  for (const k of calls) stored.set(k.messageId, {});

  c.calls.forEach((call, i) => {
    const id = ids[i];
    const storing = call.type !== "group" && call.type !== "alias";
    if (sentAsIs && call.wellFormed && !taken(i) && !(c.endpoint !== "batch" && res.status === 429))
      findings.push({
        kind: "a well-formed call was refused",
        detail: `${where} → item ${i}: ${JSON.stringify(answer).slice(0, 300)}`,
      });
    if (id === null || id === undefined) return;
    const row = stored.get(id);
    if (taken(i) && storing && !row)
      findings.push({
        kind: "accepted but not stored",
        detail: `${where} → item ${i} (${call.type})`,
      });
    if (!taken(i) && row)
      findings.push({ kind: "refused but stored", detail: `${where} → item ${i} (${call.type})` });
    if (!row || !taken(i) || call.type !== "track") return;
    const props = call.fields.properties ?? {};
    if (!sameJson(row.properties, props))
      findings.push({
        kind: "properties stored differently from what was sent",
        detail: `${where} → sent ${serialise(props).slice(0, 200)}, stored ${JSON.stringify(row.properties).slice(0, 200)}`,
      });
    const ts = call.fields.timestamp;
    const t = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
    const inRange = Number.isFinite(t) && t >= 0 && t <= before + 24 * 3600 * 1000 - 60_000;
    const got = row.timestamp?.getTime() ?? Number.NaN;
    if (inRange ? got !== t : got < before - 1000 || got > after + 1000)
      if (!(Number.isFinite(t) && Math.abs(t - (before + 24 * 3600 * 1000)) < 120_000))
        findings.push({
          kind: "timestamp stored wrong",
          detail: `${where} → item ${i}: sent ${String(ts)}, stored ${row.timestamp?.toISOString() ?? "?"}`,
        });
  });
  return { status: res.status, findings, items: c.calls.length };
}

/** GET /healthz answers 200. */
export async function healthy(target: Pick<FuzzTarget, "baseUrl">): Promise<boolean> {
  const res = await fetch(`${target.baseUrl}/healthz`).catch(() => null);
  return res?.status === 200;
}

/** Lets the fuzz write key send as fast as it can (its per-minute limit would answer 429). */
export async function unthrottle(target: FuzzTarget): Promise<void> {
  await target.db.prisma.apiKey.updateMany({
    where: { workspaceId: target.workspaceId },
    data: { rateLimitPerMinute: 10_000_000 },
  });
}

/** Cases for a long run (bench/fuzz), reproducible from the seed, generated `chunk` at a time. */
export function* sampleCases(seed: number, count: number, chunk = 100): Generator<FuzzCase> {
  for (let done = 0, round = 0; done < count; round++) {
    const n = Math.min(chunk, count - done);
    yield* fc.sample(fuzzCase(), { seed: seed + round, numRuns: n });
    done += n;
  }
}
