// Property-based fuzzing of every public tRPC procedure (issue 12, "Fuzzing in CI") through real
// HTTP, as a signed-in admin, so the Fastify/tRPC boundary is covered: strings of every Unicode
// category plus lone surrogates and NUL, deep and wide JSON, huge numbers, wrong types, wrong
// content types, malformed and batched bodies. Inputs are built from each procedure's own input
// keys (walking appRouter like packages/api/src/routers/security.test.ts), half of them with
// plausible values so calls get past the schema into handlers. The oracle, per case:
// - no answer is ≥ 500;
// - nothing half-stored for the journey mutations: an accepted create/saveDraft is readable
//   afterwards as sent (name, revision), a refused one changed nothing.
// Used by trpc.fuzz.test.ts (bounded, in CI).
import { appRouter } from "@postpath/api";
import fc from "fast-check";
import type { Harness } from "./harness.ts";
import { trpcHttp } from "./harness.ts";

export interface Procedure {
  path: string;
  type: "query" | "mutation" | "subscription";
  /** Top-level input keys, from the procedure's zod object (unwrapping defaults/optionals). */
  keys: string[];
}

interface ZodLike {
  shape?: Record<string, unknown>;
  def?: { innerType?: ZodLike };
}

function keysOf(schema: unknown): string[] {
  let s = schema as ZodLike | undefined;
  for (let i = 0; i < 5 && s && !s.shape; i++) s = s.def?.innerType;
  return s?.shape ? Object.keys(s.shape) : [];
}

/** Every procedure of the app, with its input keys. */
export function procedures(): Procedure[] {
  const defs = (
    appRouter as unknown as {
      _def: {
        procedures: Record<string, { _def: { type: Procedure["type"]; inputs: unknown[] } }>;
      };
    }
  )._def.procedures;
  return Object.entries(defs).map(([path, p]) => ({
    path,
    type: p._def.type,
    keys: [...new Set(p._def.inputs.flatMap(keysOf))],
  }));
}

/**
 * Not fuzzed: they end the fuzzing session itself (signOut has no input to fuzz; the CSRF test
 * covers it). Anything else may be called with anything.
 */
export const NOT_FUZZED = new Set(["auth.signOut"]);

// ---------------------------------------------------------------------------------------------
// Arbitraries

const SPECIAL = [
  "\u0000",
  "a\u0000b",
  "\ud83d",
  "\udc00",
  "x\udbff",
  "\udfffx",
  "\ud83d\ude00",
  "\u202e",
  "\ufeff",
  "\uffff",
  "\u0085",
  "\u2028",
  "e\u0301",
  "%00",
  "\\u0000",
  "' OR 1=1 --",
  "{{ customer.email }}",
  "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "__proto__",
  "constructor",
  "",
  " ",
];

/** Strings of every kind: any code point (incl. lone surrogates), mixes of the odd ones, long. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({
    unit: fc.constantFrom(...SPECIAL, "a", "é", "😀", "\ud800", "\u0000"),
    maxLength: 8,
  }),
  fc.constantFrom(...SPECIAL),
  fc.integer({ min: 200, max: 20_000 }).map((n) => "x".repeat(n)),
);

const anyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    -(2 ** 63),
    2 ** 31,
    -1,
    0,
    -0,
    0.5,
    5e-324,
  ),
);

const nest = (depth: number, leaf: unknown, asArray: boolean): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
};

/** Any JSON value: shallow random trees, deep chains (around the 32-level limit and far past it), wide ones. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 3,
    arbitrary: fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        anyString,
        anyNumber,
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("tree"), { maxLength: 4 }),
        fc.dictionary(anyString, tie("tree"), { maxKeys: 4 }),
      ),
    })).tree,
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(30, 31, 32, 33, 64, 200, 2000), fc.boolean(), anyString)
      .map(([d, asArray, leaf]) => nest(d, leaf, asArray)),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.integer({ min: 1000, max: 60_000 }).map((n) => Array.from({ length: n }, (_, i) => i)),
      fc
        .integer({ min: 1000, max: 20_000 })
        .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
    ),
  },
);

/** Plausible values by input key, so that many calls pass the schema and reach the handler. */
function plausible(key: string, journeyId: string, draft: unknown): fc.Arbitrary<unknown> {
  switch (key) {
    case "id":
    case "journeyId":
      return fc.constantFrom(journeyId, "no-such-id", "c".repeat(25));
    case "draft":
      return fc.constantFrom(draft, { ...(draft as object), nodes: [] });
    case "revision":
    case "version":
      return fc.integer({ min: 0, max: 3 });
    case "limit":
    case "rateLimitPerMinute":
      return fc.integer({ min: 1, max: 200 });
    case "email":
    case "adminEmail":
      return fc.constantFrom("fuzz@example.com", "FUZZ@Example.com");
    case "role":
      return fc.constantFrom("VIEWER", "MARKETER");
    case "kind":
      return fc.constantFrom("WEBHOOK", "PUSH", "SMTP");
    case "externalIds":
      return fc.array(fc.constantFrom("c1", "c2"), { minLength: 1, maxLength: 3 });
    case "properties":
    case "config":
    case "settings":
      return fc.dictionary(fc.constantFrom("a", "b"), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 3,
      });
    default:
      return fc.string({ minLength: 1, maxLength: 20 });
  }
}

export type TrpcCase =
  | { kind: "input"; path: string; input: unknown }
  | { kind: "raw"; path: string; contentType: string | null; body: string }
  | { kind: "batch"; paths: string[]; input: unknown }
  /** The procedure called with an odd session cookie instead of ours (header-safe characters). */
  | { kind: "cookie"; path: string; cookie: string };

/** One case for one procedure: an input (plausible, hostile or mixed), or a raw/odd request. */
export function caseFor(p: Procedure, journeyId: string, draft: unknown): fc.Arbitrary<TrpcCase> {
  const value = (key: string) =>
    fc.oneof(
      { weight: 2, arbitrary: plausible(key, journeyId, draft) },
      { weight: 1, arbitrary: anyJson },
    );
  const shaped: fc.Arbitrary<unknown> =
    p.keys.length === 0
      ? anyJson
      : fc
          .tuple(
            fc.record(Object.fromEntries(p.keys.map((k) => [k, value(k)])), {
              requiredKeys: [],
            }),
            fc.dictionary(anyString, anyJson, { maxKeys: 2 }),
          )
          .map(([known, extra]) => ({ ...extra, ...known }));
  const input = fc.oneof(
    { weight: 6, arbitrary: shaped },
    { weight: 2, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const raw = fc.record({
    contentType: fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "text/plain",
      "application/octet-stream",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      null,
    ),
    body: fc.oneof(
      fc.constantFrom(
        "",
        "{",
        "[1,",
        "1e400",
        '{"id":1e400}',
        '{"name":"\\ud800"}',
        '{"name":"\\u0000"}',
        "\ufeff{}",
        "null",
        '"x"',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
        `{"a":${"[".repeat(50_000)}${"]".repeat(50_000)}}`,
      ),
      anyString,
    ),
  });
  const cookie = fc
    .string({
      unit: fc.constantFrom("%", "E0", "A4", "=", ";", " ", "a", "0", "\t", "\u00e9"),
      maxLength: 12,
    })
    .map((v) => ({ kind: "cookie" as const, path: p.path, cookie: `pp_session=${v}` }));
  return fc.oneof(
    { weight: 1, arbitrary: cookie },
    {
      weight: 8,
      arbitrary: input.map((i) => ({ kind: "input" as const, path: p.path, input: i })),
    },
    { weight: 1, arbitrary: raw.map((r) => ({ kind: "raw" as const, path: p.path, ...r })) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 2, max: 120 }), anyJson).map(([n, i]) => ({
        kind: "batch" as const,
        paths: Array<string>(n).fill(p.path),
        input: i,
      })),
    },
  );
}

/** `count` cases for one procedure, reproducible from `seed` (bench/fuzz --trpc). */
export function sampleTrpcCases(
  p: Procedure,
  journeyId: string,
  draft: unknown,
  seed: number,
  count: number,
): TrpcCase[] {
  return fc.sample(caseFor(p, journeyId, draft), { seed, numRuns: count });
}

// ---------------------------------------------------------------------------------------------
// Running

export interface Session {
  h: Pick<Harness, "baseUrl" | "workspaceId" | "db">;
  cookie: string;
  journeyId: string;
  draft: unknown;
  byPath: Map<string, Procedure>;
}

const CLIENT = { "x-postpath-client": "fuzz" };

/** Signs in as the harness's admin and makes one journey the plausible inputs point at. */
export async function openSession(
  h: Pick<Harness, "baseUrl" | "workspaceId" | "db" | "admin">,
): Promise<Session> {
  const api = trpcHttp(h.baseUrl);
  const signIn = await api.mutation("auth.signIn", h.admin);
  if (signIn.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(signIn.body)}`);
  const created = await api.mutation("journeys.create", { name: "Fuzzed" });
  const journeyId = (created.body as { result: { data: { id: string } } }).result.data.id;
  const got = await api.query("journeys.get", { id: journeyId });
  const draft = (got.body as { result: { data: { draft: unknown } } }).result.data.draft;
  return {
    h,
    cookie: api.cookie,
    journeyId,
    draft,
    byPath: new Map(procedures().map((p) => [p.path, p])),
  };
}

export interface Outcome {
  status: number;
  findings: string[];
}

async function send(
  s: Session,
  type: Procedure["type"],
  path: string,
  input: unknown,
): Promise<Response> {
  const json = input === undefined ? undefined : JSON.stringify(input);
  if (type === "query") {
    const q = json === undefined ? "" : `?input=${encodeURIComponent(json)}`;
    return fetch(`${s.h.baseUrl}/trpc/${path}${q}`, { headers: { cookie: s.cookie } });
  }
  return fetch(`${s.h.baseUrl}/trpc/${path}`, {
    method: "POST",
    headers: { cookie: s.cookie, "content-type": "application/json", ...CLIENT },
    ...(json === undefined ? {} : { body: json }),
  });
}

async function journeyState(s: Session) {
  const ws = s.h.workspaceId;
  return {
    count: await s.h.db.prisma.journey.count({ where: { workspaceId: ws } }),
    main: await s.h.db.prisma.journey.findUniqueOrThrow({
      where: { id: s.journeyId },
      select: { draftRevision: true, draft: true, name: true },
    }),
  };
}

/** Node's default `maxHeaderSize`, which the server keeps. */
const HEADER_LIMIT = 16 * 1024;

export async function runTrpcCase(s: Session, c: TrpcCase): Promise<Outcome> {
  const findings: string[] = [];
  const describe = (): string => JSON.stringify(c).slice(0, 400);
  let res: Response;
  if (c.kind === "raw") {
    res = await fetch(`${s.h.baseUrl}/trpc/${c.path}`, {
      method: "POST",
      headers: {
        cookie: s.cookie,
        ...CLIENT,
        ...(c.contentType === null ? {} : { "content-type": c.contentType }),
      },
      body: c.body,
    });
  } else if (c.kind === "cookie") {
    const p = s.byPath.get(c.path)!;
    res = await fetch(`${s.h.baseUrl}/trpc/${c.path}`, {
      method: p.type === "query" ? "GET" : "POST",
      headers: {
        cookie: c.cookie,
        ...(p.type === "query" ? {} : { "content-type": "application/json", ...CLIENT }),
      },
      ...(p.type === "query" ? {} : { body: "{}" }),
    });
  } else if (c.kind === "batch") {
    const p = s.byPath.get(c.paths[0] ?? "")!;
    const input = Object.fromEntries(c.paths.map((_, i) => [i, c.input]));
    if (p.type === "query") {
      const url = `${s.h.baseUrl}/trpc/${c.paths.join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
      // Node refuses a request line past its 16 KiB header limit with 431 and closes the socket,
      // often while the client is still writing (a reset). That is a refusal, not a failure; a
      // reset on a URL well within the limit (with room for the other headers) is still thrown.
      const tooLong = url.length > HEADER_LIMIT;
      const answered = await fetch(url, { headers: { cookie: s.cookie } }).catch((e: unknown) => {
        if (url.length > HEADER_LIMIT - 1024) return null;
        throw e;
      });
      if (!answered) return { status: 431, findings };
      if (tooLong && answered.status !== 431)
        findings.push(`a ${url.length}-character URL answered ${answered.status}, not 431`);
      res = answered;
    } else {
      res = await fetch(`${s.h.baseUrl}/trpc/${c.paths.join(",")}?batch=1`, {
        method: "POST",
        headers: { cookie: s.cookie, "content-type": "application/json", ...CLIENT },
        body: JSON.stringify(input),
      });
    }
  } else {
    const p = s.byPath.get(c.path)!;
    const watched = c.path === "journeys.create" || c.path === "journeys.saveDraft";
    const before = watched ? await journeyState(s) : null;
    res = await send(s, p.type, c.path, c.input);
    if (before) {
      const after = await journeyState(s);
      const body = (await res.clone().json()) as { result?: { data?: { id?: string } } };
      if (c.path === "journeys.create") {
        if (res.status === 200) {
          const id = body.result?.data?.id ?? "";
          const stored = await s.h.db.prisma.journey.findUnique({ where: { id } });
          const sent =
            typeof c.input === "object" && c.input !== null
              ? (c.input as { name?: unknown }).name
              : undefined;
          if (!stored) findings.push(`accepted create not stored: ${describe()}`);
          else if (typeof sent === "string" && stored.name !== sent.trim())
            findings.push(
              `create stored another name ${JSON.stringify(stored.name)}: ${describe()}`,
            );
          if (after.count !== before.count + 1) findings.push(`create count off: ${describe()}`);
        } else if (after.count !== before.count) {
          findings.push(`refused create stored something (${res.status}): ${describe()}`);
        }
      } else {
        const onMain = (c.input as { id?: unknown } | null)?.id === s.journeyId;
        if (res.status === 200 && onMain) {
          if (after.main.draftRevision !== before.main.draftRevision + 1)
            findings.push(`accepted save did not advance the revision: ${describe()}`);
          const read = await send(s, "query", "journeys.get", { id: s.journeyId });
          if (read.status !== 200)
            findings.push(`saved draft unreadable (${read.status}): ${describe()}`);
        } else if (
          res.status !== 200 &&
          JSON.stringify(after.main) !== JSON.stringify(before.main)
        ) {
          findings.push(`refused save changed the journey (${res.status}): ${describe()}`);
        }
      }
    }
  }
  if (res.status >= 500)
    findings.push(`${res.status} ${(await res.text()).slice(0, 300)} for ${describe()}`);
  return { status: res.status, findings };
}

export async function healthy(s: Pick<Session, "h">): Promise<boolean> {
  const res = await fetch(`${s.h.baseUrl}/healthz`).catch(() => null);
  return res?.status === 200;
}
