// The landing page's Liquid context (purl.ts pageContext) reads the customer and run states as
// stored without re-parsing them with zod when they already have the schema's shape. It must give
// exactly the context the zod parse gave (values and key order), and fail or leave out a state
// exactly where the parse did: odd customers and states too (missing fields, wrong types,
// non-object attributes, `__proto__` keys, a state this version cannot read).
import { describe, expect, it } from "vitest";
import {
  CustomerSnapshot,
  parseRunState,
  RunState,
  templateContext,
  type RunState as RunStateType,
} from "@postpath/journey";
import { pageContext, SHAPE_CHECKED } from "./purl.ts";

const BASE = "https://pp.example";
type Purl = { token: string; runId: string; customerId: string; params: Record<string, unknown> };
type Customer = Parameters<typeof pageContext>[1];
type Runs = { id: string; state: unknown }[];

/** The context as purl.ts built it before (zod parses; 8d32b84's contextFrom). */
function zodContext(purl: Purl, customer: unknown, runs: Runs, extraRunIds: string[] = []) {
  const snapshot = CustomerSnapshot.parse(
    customer ?? { id: purl.customerId, externalId: "", attributes: {}, tags: [] },
  );
  let vars: Record<string, unknown> = {};
  let base: RunStateType | null = null;
  for (const id of [purl.runId, ...extraRunIds]) {
    const row = runs.find((r) => r.id === id);
    if (!row?.state) continue;
    try {
      const state = parseRunState(row.state);
      base ??= state;
      vars = { ...vars, ...state.vars };
    } catch {
      // left out
    }
  }
  const empty: RunStateType = {
    runId: purl.runId,
    status: "active",
    stepId: "",
    entered: true,
    enteredAt: null,
    waitUntil: null,
    parkedFor: null,
    held: false,
    trigger: null,
    customer: snapshot,
    outputs: {},
    vars: {},
    converted: false,
    conversion: null,
    endedAt: null,
    exitReason: null,
    stepsRun: 0,
  };
  const ctx = templateContext({ ...(base ?? empty), customer: snapshot, vars });
  const purlVar = ctx["purl"] && typeof ctx["purl"] === "object" ? ctx["purl"] : {};
  return {
    ...ctx,
    purl: { ...purlVar, ...purl.params, token: purl.token, url: `${BASE}/p/${purl.token}` },
    params: purl.params,
  };
}

/** Both contexts, or what each threw; compared with key order (JSON) and deeply. */
function same(purl: Purl, customer: unknown, runs: Runs, extraRunIds: string[] = []) {
  const attempt = (f: () => unknown) => {
    try {
      return { ok: true, value: f() };
    } catch (err) {
      return { ok: false, value: String(err) };
    }
  };
  // As Postgres hands them over: JSON text parsed (own `__proto__` keys stay own keys).
  const json = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
  const old = attempt(() => zodContext(purl, json(customer), json(runs), extraRunIds));
  const now = attempt(() =>
    pageContext(purl, json(customer) as Customer, json(runs), extraRunIds, BASE),
  );
  expect(now.ok).toBe(old.ok);
  expect(JSON.stringify(now.value)).toBe(JSON.stringify(old.value));
  expect(now.value).toStrictEqual(old.value);
  return old;
}

const purl: Purl = {
  token: "tok1",
  runId: "r1",
  customerId: "c1",
  params: { serial: "SN-1", model: "Barista" },
};
const customer = {
  id: "c1",
  externalId: "ann",
  email: "ann@example.com",
  phone: null,
  timezone: "Europe/Berlin",
  attributes: { first_name: "Ann", city: "Hamburg", nested: { a: [1, 2] }, email: "shadowed" },
  tags: ["vip"],
};
const state = {
  runId: "r1",
  status: "waiting",
  stepId: "wait1",
  entered: true,
  enteredAt: 1_700_000_000_000,
  waitUntil: 1_700_000_600_000,
  parkedFor: null,
  held: false,
  trigger: { name: "purchase", properties: { order: "o-1", total: 99.5 }, timestamp: 1 },
  customer: { ...customer, attributes: { first_name: "Old name" } },
  outputs: { card: { token: "tok1", url: "u" }, coupon1: { code: "SAVE10" } },
  vars: { coupon: { code: "SAVE10" }, purl: { token: "tok1", extra: "from run" } },
  converted: false,
  conversion: null,
  endedAt: null,
  exitReason: null,
  stepsRun: 3,
  consumed: ["e1"],
};

describe("landing page context without re-parsing what Postgres returned", () => {
  it("knows every field of the schemas it checks (a new field needs a look at purl.ts)", () => {
    expect([...SHAPE_CHECKED.customer].sort()).toEqual(Object.keys(CustomerSnapshot.shape).sort());
    expect([...SHAPE_CHECKED.runState].sort()).toEqual(Object.keys(RunState.shape).sort());
  });

  it("is the zod-parsed context for usual customers and runs", () => {
    expect(same(purl, customer, [{ id: "r1", state }]).ok).toBe(true);
    same(purl, customer, []); // the run is gone
    same(purl, null, [{ id: "r1", state }]); // the customer is gone
    same(purl, customer, [{ id: "r1", state: null }]);
    same(purl, { ...customer, segments: ["s1"], lifecycleStage: "loyal" }, []);
    same(purl, { ...customer, email: undefined, phone: undefined, timezone: undefined }, []);
    same({ ...purl, params: { purl: "p", token: "x" } }, customer, [{ id: "r1", state }]);
    // A state stored before `consumed` existed; one with fields this version does not know.
    const { consumed: _, ...older } = state;
    same(purl, customer, [{ id: "r1", state: older }]);
    same(purl, customer, [{ id: "r1", state: { ...state, futureField: { x: 1 } } }]);
    same(purl, { ...customer, futureField: 1 }, [{ id: "r1", state }]);
    // `purl` from the run's variables, the link's params, and own `__proto__` keys in either.
    const protoParams = JSON.parse('{"__proto__": {"x": 1}, "serial": "SN"}') as Purl["params"];
    const protoVar = JSON.parse('{"__proto__": {"y": 2}, "extra": 1}') as unknown;
    same({ ...purl, params: protoParams }, customer, [{ id: "r1", state }]);
    same(purl, customer, [{ id: "r1", state: { ...state, vars: { purl: protoVar } } }]);
    for (const v of ["text", 5, null, [1, 2], { token: "old", url: "old" }])
      same(purl, customer, [{ id: "r1", state: { ...state, vars: { purl: v } } }]);
  });

  it("is the zod-parsed context for the runs a submission started (their outputs win)", () => {
    const second = { ...state, runId: "r2", vars: { coupon: { code: "WELCOME" }, other: 1 } };
    const unreadable = { ...state, runId: "r3", status: "paused" };
    const runs = [
      { id: "r1", state },
      { id: "r2", state: second },
      { id: "r3", state: unreadable },
    ];
    same(purl, customer, runs, ["r2", "r3"]);
    same(purl, customer, runs, ["r3", "r2"]);
    same(purl, customer, [{ id: "r2", state: second }], ["r2"]); // the link's run is gone
  });

  it("is the zod-parsed context (or the same failure) for odd customers", () => {
    const odd: unknown[] = [
      { ...customer, attributes: [] },
      { ...customer, attributes: "Ann" },
      { ...customer, attributes: null },
      { ...customer, attributes: undefined },
      { ...customer, tags: undefined },
      { ...customer, tags: null },
      { ...customer, tags: ["a", 1] },
      { ...customer, email: 5 },
      { ...customer, id: undefined },
      { ...customer, segments: null },
      { ...customer, lifecycleStage: 1 },
      { ...customer, attributes: JSON.parse('{"__proto__": {"x": 1}, "first_name": "Ann"}') },
      { ...customer, attributes: { constructor: "c", toString: "t", 0: "zero", b: 1, a: 2 } },
      "ann",
      [],
    ];
    for (const c of odd) same(purl, c, [{ id: "r1", state }]);
  });

  it("is the zod-parsed context for every field of a state missing or of another type", () => {
    const values: unknown[] = [undefined, null, "x", 1, 1.5, -1, true, [], {}, ["x"], { a: 1 }];
    const shapes: Record<string, unknown>[] = [state];
    for (const key of Object.keys(state))
      for (const v of values) shapes.push({ ...state, [key]: v });
    // Nested parts too.
    const nested: [string, Record<string, unknown>][] = [
      ["trigger", state.trigger],
      ["parkedFor", { event: "delivered", correlation: { property: "order", value: "o-1" } }],
      ["conversion", { goal: "order", stepId: null, at: 5 }],
      ["customer", state.customer],
    ];
    for (const [key, inner] of nested) {
      shapes.push({ ...state, [key]: inner });
      for (const k of Object.keys(inner))
        for (const v of values) shapes.push({ ...state, [key]: { ...inner, [k]: v } });
    }
    shapes.push({ ...state, parkedFor: { event: "x", correlation: { value: 1 } } });
    shapes.push({ ...state, parkedFor: { event: "x", correlation: null } });
    shapes.push({ ...state, outputs: { card: "not an object" } });
    shapes.push({ ...state, outputs: { card: [] } });
    shapes.push({ ...state, vars: JSON.parse('{"__proto__": {"x": 1}, "coupon": 1}') });
    shapes.push({ ...state, outputs: JSON.parse('{"a": {"__proto__": 1}}') });
    shapes.push({
      ...state,
      trigger: JSON.parse('{"name":"p","timestamp":1,"properties":{"__proto__":2}}'),
    });
    shapes.push({ ...state, stepsRun: 2 ** 60 });
    shapes.push({ ...state, consumed: [1] });
    shapes.push({ ...state, status: "completed" });
    let readable = 0;
    for (const s of shapes) {
      same(purl, customer, [{ id: "r1", state: s }]);
      if (RunState.safeParse(s).success) readable++;
    }
    // Both kinds were compared: states used and states left out.
    expect(readable).toBeGreaterThan(10);
    expect(shapes.length - readable).toBeGreaterThan(100);
    for (const s of ["not a state", 42, [state]]) same(purl, customer, [{ id: "r1", state: s }]);
  });
});
