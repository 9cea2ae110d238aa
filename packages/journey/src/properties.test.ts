// Property-based tests: generated journeys that are valid by construction must compile; the
// interpreter must stay on known steps, be deterministic, and split traffic as configured.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type StepSpec, draftFromSteps } from "./builder.ts";
import {
  advance,
  compile,
  customerPath,
  customerScope,
  evaluateConditions,
  getPath,
  initialState,
  matchesCustomer,
  type Condition,
  type MatchMode,
  isFinished,
  validate,
  type Effect,
  type Plan,
  type RunInput,
  type RunState,
  type StepType,
} from "./index.ts";
import { pickVariant, randomBucket } from "./steps/split-random.ts";

type Kind = {
  type: StepType;
  data: Record<string, unknown>;
  branches: readonly string[];
  wait?: boolean;
};

const onError = fc.constantFrom("continue", "errorBranch", "exit");
const kindArb: fc.Arbitrary<Kind> = fc.oneof(
  fc
    .record({
      amount: fc.integer({ min: 0, max: 5 }),
      unit: fc.constantFrom("minutes", "hours", "days"),
    })
    .map((d) => ({ type: "wait.duration" as const, data: d, branches: ["next"], wait: true })),
  fc.constant({
    type: "wait.event" as const,
    data: { event: "click", timeout: { amount: 1, unit: "days" } },
    branches: ["arrived", "timedOut"],
    wait: true,
  }),
  fc.constant({
    type: "wait.timeOfDay" as const,
    data: { time: "09:00", days: ["mon", "fri"] },
    branches: ["next"],
    wait: true,
  }),
  fc.integer({ min: 0, max: 1000 }).map((v) => ({
    type: "split.condition" as const,
    data: { conditions: [{ property: "event.total", op: "gte", value: v }] },
    branches: ["yes", "no"],
  })),
  fc.integer({ min: 0, max: 100 }).map((p) => ({
    type: "split.random" as const,
    data: {
      variants: [
        { id: "a", percent: p },
        { id: "b", percent: 100 - p },
      ],
    },
    branches: ["a", "b"],
  })),
  fc.constant({
    type: "split.multi" as const,
    data: {
      branches: [
        { id: "vip", conditions: [{ property: "customer.tags", op: "contains", value: "vip" }] },
      ],
    },
    branches: ["vip", "else"],
  }),
  fc.constant({
    type: "split.channel" as const,
    data: {},
    branches: ["email", "sms", "push", "none"],
  }),
  onError.map((e) => ({
    type: "action.email" as const,
    data: { subject: "Hi {{ first_name }}", body: "{{ event.total }}", onError: e },
    branches: e === "errorBranch" ? ["next", "error"] : ["next"],
  })),
  onError.map((e) => ({
    type: "action.sms" as const,
    data: { body: "Hi", onError: e },
    branches: e === "errorBranch" ? ["next", "error"] : ["next"],
  })),
  fc.constant({
    type: "action.attribute" as const,
    data: { set: { seen: true } },
    branches: ["next"],
  }),
  fc.constant({ type: "action.tag" as const, data: { add: ["vip"] }, branches: ["next"] }),
  fc.constant({
    type: "action.coupon" as const,
    data: {
      source: { kind: "pattern", pattern: "X-####" },
      value: { kind: "percent", amount: 10 },
    },
    branches: ["next"],
  }),
  fc.constant({
    type: "action.webhook" as const,
    data: { url: "https://hooks.example/x" },
    branches: ["next"],
  }),
);

/**
 * A valid journey: trigger → a spine of steps (each step's first branch leads to the next one, so
 * all are reachable) → exit. Other branches jump forward or to the exit; only waits may jump back,
 * so every loop contains a wait. Optionally a goal.
 */
const journeyArb = fc
  .record({
    kinds: fc.array(kindArb, { minLength: 1, maxLength: 25 }),
    jumps: fc.array(fc.nat(), { minLength: 100, maxLength: 100 }),
    goal: fc.boolean(),
    exitCriteria: fc.boolean(),
  })
  .map(({ kinds, jumps, goal, exitCriteria }) => {
    const n = kinds.length;
    const id = (i: number) => (i >= n ? "exit" : `s${i}`);
    let j = 0;
    const jump = () => jumps[j++ % jumps.length] ?? 0;
    const steps: StepSpec[] = [
      { id: "trigger", type: "trigger.event", data: { event: "purchase" }, next: "s0" },
    ];
    kinds.forEach((k, i) => {
      const next: Record<string, string> = {};
      k.branches.forEach((b, bi) => {
        if (bi === 0) next[b] = id(i + 1);
        else if (k.wait && jump() % 3 === 0)
          next[b] = id(jump() % (i + 1)); // back (or self) edge from a wait
        else next[b] = id(i + 1 + (jump() % (n - i)));
      });
      steps.push({ id: id(i), type: k.type, data: k.data, next });
    });
    steps.push({ id: "exit", type: "flow.exit" });
    if (goal)
      steps.push({
        id: "goal",
        type: "flow.goal",
        data: { event: "purchase" },
        next: id(jump() % (n + 1)),
      });
    return draftFromSteps(steps, exitCriteria ? { exitCriteria: [{ event: "unsubscribed" }] } : {});
  });

/** What happens next, decided against the run's state so that most inputs are relevant. */
type Choice = {
  kind: "timer" | "result-ok" | "result-fail" | "event" | "stale";
  pick: number;
  advanceBy: number;
};
const choiceArb: fc.Arbitrary<Choice> = fc.record({
  kind: fc.constantFrom(
    "timer",
    "timer",
    "result-ok",
    "result-ok",
    "result-fail",
    "event",
    "stale",
  ),
  pick: fc.nat(),
  advanceBy: fc.integer({ min: 0, max: 3 * 86_400_000 }),
});

const EVENTS = ["click", "purchase", "unsubscribed", "other"];

function inputFor(plan: Plan, state: RunState, choice: Choice, now: number): RunInput {
  const ids = Object.keys(plan.steps);
  switch (choice.kind) {
    case "timer":
      return { kind: "timer", stepId: state.stepId };
    case "result-ok":
      return { kind: "result", stepId: state.stepId, ok: true, output: { code: "C-1" } };
    case "result-fail":
      return { kind: "result", stepId: state.stepId, ok: false, error: "boom" };
    case "event":
      return {
        kind: "event",
        event: {
          name: EVENTS[choice.pick % EVENTS.length] ?? "click",
          properties: { total: choice.pick % 1000 },
          timestamp: now,
        },
      };
    case "stale":
      return choice.pick % 2 === 0
        ? { kind: "timer", stepId: ids[choice.pick % ids.length] ?? "trigger" }
        : { kind: "result", stepId: ids[choice.pick % ids.length] ?? "trigger", ok: true };
  }
}

function run(
  plan: Plan,
  runId: string,
  choices: Choice[],
): { effects: Effect[]; states: RunState[] } {
  const T0 = Date.UTC(2025, 0, 6, 12);
  let now = T0;
  let state = initialState(plan, {
    runId,
    customer: {
      id: "c",
      externalId: "e",
      email: "a@b.example",
      phone: null,
      timezone: "Europe/Berlin",
      attributes: { first_name: "A" },
      tags: [],
    },
    trigger: { name: "purchase", properties: { total: 250 }, timestamp: T0 },
  });
  const effects: Effect[] = [];
  const states: RunState[] = [];
  const step = (input: RunInput) => {
    const r = advance(plan, state, input, now);
    effects.push(...r.effects);
    state = r.nextState;
    states.push(state);
  };
  step({ kind: "entered" });
  for (const c of choices) {
    now += c.advanceBy;
    // A timer fires at its time, not before.
    if (c.kind === "timer" && state.waitUntil !== null) now = Math.max(now, state.waitUntil);
    step(inputFor(plan, state, c, now));
  }
  return { effects, states };
}

describe("properties", () => {
  it("any generated valid journey validates cleanly and compiles", () => {
    fc.assert(
      fc.property(journeyArb, (draft) => {
        expect(validate(draft)).toEqual([]);
        const r = compile(JSON.parse(JSON.stringify(draft)));
        expect(r.ok).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("advance never points at an unknown step, and states stay JSON", () => {
    fc.assert(
      fc.property(journeyArb, fc.array(choiceArb, { maxLength: 40 }), (draft, choices) => {
        const r = compile(draft);
        if (!r.ok) throw new Error("generated journey must compile");
        const { effects, states } = run(r.plan, "run-1", choices);
        for (const s of states) {
          expect(r.plan.steps[s.stepId]).toBeDefined();
          expect(JSON.parse(JSON.stringify(s))).toEqual(s);
        }
        for (const e of effects) {
          if ("stepId" in e && e.stepId !== null) expect(r.plan.steps[e.stepId]).toBeDefined();
        }
        const last = states[states.length - 1];
        if (last && isFinished(last)) {
          expect(
            advance(r.plan, last, { kind: "timer", stepId: last.stepId }, Number.MAX_SAFE_INTEGER)
              .effects,
          ).toEqual([]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("the same inputs always give the same path and effects", () => {
    fc.assert(
      fc.property(
        journeyArb,
        fc.array(choiceArb, { maxLength: 30 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        (draft, choices, runId) => {
          const r = compile(draft);
          if (!r.ok) throw new Error("generated journey must compile");
          expect(run(r.plan, runId, choices)).toEqual(run(r.plan, runId, choices));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("random splits land within tolerance of their percentages over many runs", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 0, max: 3 }),
        fc.string({ minLength: 1, maxLength: 6 }),
        (weights, holdoutWeight, stepId) => {
          const total = weights.reduce((a, b) => a + b, 0) + holdoutWeight;
          const variants = weights.map((w, i) => ({ id: `v${i}`, percent: (w * 100) / total }));
          const config = { variants, holdout: (holdoutWeight * 100) / total };
          const n = 3000;
          const counts = new Map<string, number>();
          for (let i = 0; i < n; i++) {
            const b = pickVariant(config, randomBucket(`run-${i}`, stepId));
            counts.set(b, (counts.get(b) ?? 0) + 1);
          }
          for (const v of [...variants, { id: "holdout", percent: config.holdout }]) {
            // Binomial standard deviation at n = 3000 is at most ~0.9 points; allow 4.
            expect(Math.abs(((counts.get(v.id) ?? 0) / n) * 100 - v.percent)).toBeLessThan(4);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("customerPath", () => {
  // Keys that collide on purpose: built-in field names, `customer`, dotted names, nesting.
  const key = fc.constantFrom("tier", "email", "id", "customer", "a", "a.b", "b", "tags", "0");
  const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.string({ maxLength: 3 }),
      fc.integer(),
      fc.constant(null),
      fc.array(tie("v"), { maxLength: 2 }),
      fc.dictionary(key, tie("v"), { maxKeys: 3 }),
    ),
  })).v;
  const customer = fc.record({
    id: fc.constant("c1"),
    externalId: fc.constant("u1"),
    email: fc.option(fc.constant("ann@example.com"), { nil: null }),
    phone: fc.constant(null),
    timezone: fc.constant("Europe/Berlin"),
    attributes: fc.dictionary(key, value, { maxKeys: 5 }),
    tags: fc.array(fc.constantFrom("vip", "new"), { maxLength: 2 }),
  });
  const path = fc
    .array(fc.constantFrom("tier", "email", "customer", "a", "b", "a.b", "attributes", "0", "x"), {
      minLength: 1,
      maxLength: 4,
    })
    .map((keys) => keys.join("."));

  it("reads what getPath reads from customerScope, for any customer and path", () => {
    fc.assert(
      fc.property(customer, path, (c, p) => {
        expect(customerPath(c, p)).toEqual(getPath(customerScope(c), p));
        // A path that does not start at `customer` reads the attributes alone (bulk enrolment
        // reads only those for such segments).
        if (p.split(".")[0] !== "customer")
          expect(getPath(c.attributes, p)).toEqual(customerPath(c, p));
      }),
      { numRuns: 2000 },
    );
  });

  it("segment conditions match the same customers either way", () => {
    const conditions: Condition[] = [
      { property: "tier", op: "eq", value: "gold" },
      { property: "customer.email", op: "exists" },
      { property: "a.b", op: "neq", value: 1 },
    ];
    fc.assert(
      fc.property(customer, fc.constantFrom<MatchMode>("all", "any"), (c, match) => {
        expect(matchesCustomer(conditions, match, c)).toBe(
          evaluateConditions(conditions, match, customerScope(c)),
        );
      }),
      { numRuns: 500 },
    );
  });
});
