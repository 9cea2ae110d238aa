// Issue 12, finding 3: configurations that validate but can never run. A wait of 1e300 weeks
// passed validation and publishing, then every customer who entered ended FAILED ("Invalid time
// value"). Numbers in the journey schema are bounded now; for any draft that validates, compiling
// it and simulating random customers and events never throws, and every instant it produces is a
// real date.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type StepSpec, draftFromSteps } from "./builder.ts";
import {
  compile,
  entryDecision,
  errorsOnly,
  frequencyCapReleaseAt,
  simulate,
  validate,
  type CustomerSnapshot,
  type SimulationEvent,
  type StepType,
  type ValidationIssue,
} from "./index.ts";
import { formatInstant } from "./time.ts";

const T0 = Date.UTC(2025, 0, 6, 12);
const YEAR = 365 * 86_400_000;

function journey(step: StepSpec["data"], type: StepType, settings: unknown = {}): unknown {
  const draft = draftFromSteps([
    { id: "t", type: "trigger.manual", next: "s" },
    {
      id: "s",
      type,
      data: step,
      next: type === "wait.event" ? { arrived: "x", timedOut: "x" } : "x",
    },
    { id: "x", type: "flow.exit" },
  ]);
  return { ...draft, settings };
}

function errors(draft: unknown): Pick<ValidationIssue, "nodeId" | "field" | "message">[] {
  return errorsOnly(validate(draft)).map(({ nodeId, field, message }) => ({
    ...(nodeId ? { nodeId } : {}),
    ...(field ? { field } : {}),
    message,
  }));
}

describe("absurd numbers are refused by validation, on the field, in a marketer's words", () => {
  it("a wait of 1e300 weeks or 1e9 days", () => {
    for (const [amount, unit] of [
      [1e300, "weeks"],
      [1e9, "days"],
      [5 * 53, "weeks"],
    ] as const) {
      expect(errors(journey({ amount, unit }, "wait.duration"))).toEqual([
        { nodeId: "s", field: "amount", message: "A wait can be at most 5 years." },
      ]);
    }
    expect(errors(journey({ amount: 5 * 365, unit: "days" }, "wait.duration"))).toEqual([]);
    expect(errors(journey({ amount: 1.5, unit: "hours" }, "wait.duration"))).toEqual([]);
  });

  it("an absurd cool-down, entry cap or frequency cap", () => {
    const settings = {
      entry: { mode: "afterCooldown", cooldown: { amount: 1e12, unit: "hours" }, maxEntries: 1e6 },
      frequencyCap: { max: 0.5, period: { amount: 400, unit: "days" } },
    };
    expect(errors(journey({ amount: 1, unit: "days" }, "wait.duration", settings))).toEqual([
      { field: "settings.entry.cooldown.amount", message: "A cool-down can be at most 5 years." },
      {
        field: "settings.entry.maxEntries",
        message:
          "Entries per customer: a whole number from 1 to 1,000, or leave it empty for no limit.",
      },
      {
        field: "settings.frequencyCap.max",
        message: "Messages per period: a whole number from 1 to 1,000.",
      },
      {
        field: "settings.frequencyCap.period.amount",
        message: "A frequency cap's period can be at most 1 year.",
      },
    ]);
  });

  it("timeouts, expiries, retries, discounts and date offsets", () => {
    expect(
      errors(journey({ event: "click", timeout: { amount: 1e300, unit: "weeks" } }, "wait.event")),
    ).toEqual([
      {
        nodeId: "s",
        field: "timeout.amount",
        message: "The wait for the event can be at most 5 years.",
      },
    ]);
    expect(
      errors(
        journey(
          {
            source: { kind: "pattern", pattern: "X-####" },
            value: { kind: "amount", amount: 1e300 },
            expiresIn: { amount: 1e9, unit: "days" },
            retries: 1e9,
          },
          "action.coupon",
        ),
      ),
    ).toEqual([
      { nodeId: "s", field: "value.amount", message: "A discount can be at most 1,000,000." },
      {
        nodeId: "s",
        field: "expiresIn.amount",
        message: "A coupon's validity can be at most 5 years.",
      },
      { nodeId: "s", field: "retries", message: "Retries: 0 to 10." },
    ]);
    expect(
      errors(
        journey(
          { property: "renewal_date", offset: { amount: 1e9, unit: "days" } },
          "wait.dateProperty",
        ),
      ),
    ).toEqual([
      {
        nodeId: "s",
        field: "offset.amount",
        message: "An offset can be at most 100 years before or after the date.",
      },
    ]);
    expect(
      errors(
        journey(
          { property: "renewal_date", offset: { amount: -101, unit: "years" } },
          "wait.dateProperty",
        ),
      ),
    ).toEqual([
      {
        nodeId: "s",
        field: "offset.amount",
        message: "An offset can be at most 100 years before or after the date.",
      },
    ]);
  });

  it("a wait-until date that no calendar can hold", () => {
    for (const at of ["+275760-09-14T00:00:00Z", "+100000-01-01T00:00:00Z", "0099-01-01"]) {
      expect(errors(journey({ at }, "wait.until"))).toEqual([
        {
          nodeId: "s",
          field: "at",
          message: "Use a date and time such as 2025-12-24T09:00, in the years 1000 to 9999.",
        },
      ]);
    }
    expect(errors(journey({ at: "9999-12-31T23:59" }, "wait.until"))).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------
// Property: whatever validates also runs.

/** Numbers a careless marketer or a hostile client might type, next to (mostly) ordinary ones. */
const wildNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -3, max: 400 }),
  fc.double({ min: 0, max: 5000, noNaN: true }),
  fc.constantFrom(
    0,
    0.5,
    1,
    10,
    100,
    260,
    261,
    1826,
    1827,
    36_600,
    36_601,
    43_800,
    157_680_000,
    157_680_001,
    1e9,
    1e15,
    8.64e15,
    Number.MAX_SAFE_INTEGER,
    1e300,
    Number.MAX_VALUE,
    -1e300,
    Number.MIN_VALUE,
  ),
  fc.double(),
);
const anyNumber: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 100 }), weight: 8 },
  { arbitrary: wildNumber, weight: 1 },
);
const durationUnit = fc.constantFrom("seconds", "minutes", "hours", "days", "weeks");
const duration = fc.record({ amount: anyNumber, unit: durationUnit });
const offset = fc.record({
  amount: anyNumber,
  unit: fc.constantFrom("days", "weeks", "months", "years"),
});
/** Dates as they are stored on customers and events, including ones no calendar can hold. */
const anyDate: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    "2025-03-15",
    "2024-02-29",
    "2025-12-24T09:00",
    "2025-06-01T10:00:00+02:00",
    "0000-01-01",
    "0099-12-31",
    "9999-12-31",
    "9999-12-31T23:59",
    "+275760-09-13T00:00:00Z",
    "-271821-04-20T00:00:00Z",
    "1",
    "not a date",
    "",
  ),
  anyNumber,
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constant(null),
);
const timeOfDay = fc.constantFrom("00:00", "09:00", "23:59", "02:30");
const onError = fc.constantFrom("continue", "exit");
const retries = fc.option(anyNumber, { nil: undefined });

type Kind = { type: StepType; data: Record<string, unknown>; branches: readonly string[] };
const only = (type: StepType, data: Record<string, unknown>): Kind => ({
  type,
  data,
  branches: ["next"],
});

const stepArb: fc.Arbitrary<Kind> = fc.oneof(
  fc.record({ amount: anyNumber, unit: durationUnit }).map((d) => only("wait.duration", d)),
  fc.record({ at: anyDate }).map((d) => only("wait.until", d)),
  fc
    .record({ property: fc.constantFrom("renewal_date", "event.date"), offset, at: timeOfDay })
    .map((d) => only("wait.dateProperty", d)),
  fc
    .record({ time: timeOfDay, days: fc.subarray(["mon", "sat"] as const) })
    .map((d) => only("wait.timeOfDay", d)),
  duration.map((timeout) => ({
    type: "wait.event" as const,
    data: { event: "click", timeout },
    branches: ["arrived", "timedOut"],
  })),
  fc
    .record({
      amount: anyNumber,
      kind: fc.constantFrom("percent", "amount"),
      expiresIn: fc.option(duration, { nil: null }),
      retries,
      onError,
    })
    .map(({ amount, kind, ...rest }) =>
      only("action.coupon", {
        source: { kind: "pattern", pattern: "X-####" },
        value: { kind, amount },
        ...rest,
      }),
    ),
  fc
    .record({ expiresIn: fc.option(duration, { nil: null }), retries, onError })
    .map((d) => only("action.purl", { page: "welcome", ...d })),
  fc
    .record({ retries, onError })
    .map((d) => only("action.email", { subject: "Hi", body: "{{ coupon.code }}", ...d })),
  fc.record({ retries, onError }).map((d) => only("action.sms", { body: "Hi", ...d })),
  fc
    .record({ a: anyNumber, holdout: fc.oneof(fc.constant(0), anyNumber) })
    .map(({ a, holdout }) => ({
      type: "split.random" as const,
      data: {
        variants: [
          { id: "a", percent: a },
          { id: "b", percent: 100 - a - holdout },
        ],
        holdout,
      },
      branches: holdout > 0 ? ["a", "b", "holdout"] : ["a", "b"],
    })),
  anyNumber.map((v) => ({
    type: "split.condition" as const,
    data: { conditions: [{ property: "event.total", op: "gte", value: v }] },
    branches: ["yes", "no"],
  })),
);

const triggerArb: fc.Arbitrary<StepSpec> = fc.oneof(
  fc.constant<StepSpec>({ id: "t", type: "trigger.event", data: { event: "purchase" } }),
  fc.constant<StepSpec>({ id: "t", type: "trigger.manual" }),
  fc
    .record({
      offset,
      at: timeOfDay,
      recurrence: fc.constantFrom("once", "yearly"),
    })
    .map((d): StepSpec => ({ id: "t", type: "trigger.date", data: { attribute: "signup", ...d } })),
);

const settingsArb = fc.record(
  {
    entry: fc.record(
      {
        mode: fc.constantFrom("once", "afterExit", "afterCooldown"),
        cooldown: fc.option(duration, { nil: null }),
        maxEntries: fc.option(anyNumber, { nil: null }),
      },
      { requiredKeys: ["mode"] },
    ),
    frequencyCap: fc.option(
      fc.record({ max: anyNumber, period: duration, onCap: fc.constantFrom("skip", "delay") }),
      { nil: null },
    ),
    quietHours: fc.option(fc.record({ start: timeOfDay, end: timeOfDay }), { nil: null }),
    timezone: fc.constantFrom("UTC", "Europe/Berlin", "Pacific/Kiritimati", "Etc/GMT+12"),
  },
  { requiredKeys: [] },
);

/** trigger → a chain of steps (every branch leads on to the next one) → exit. */
const draftArb = fc
  .record({
    trigger: triggerArb,
    steps: fc.array(stepArb, { minLength: 1, maxLength: 4 }),
    settings: settingsArb,
  })
  .map(({ trigger, steps, settings }) => {
    const id = (i: number) => (i >= steps.length ? "exit" : `s${i}`);
    const specs: StepSpec[] = [{ ...trigger, next: "s0" }];
    steps.forEach((k, i) =>
      specs.push({
        id: id(i),
        type: k.type,
        data: k.data,
        next: Object.fromEntries(k.branches.map((b) => [b, id(i + 1)])),
      }),
    );
    specs.push({ id: "exit", type: "flow.exit" });
    // Settings stay raw (draftFromSteps would parse them): validation is what judges them.
    return { ...draftFromSteps(specs), settings: settings };
  });

const customerArb: fc.Arbitrary<CustomerSnapshot> = fc.record({
  id: fc.constant("c1"),
  externalId: fc.constant("u1"),
  email: fc.option(fc.constant("ann@example.com"), { nil: null }),
  phone: fc.option(fc.constant("+4915100000000"), { nil: null }),
  timezone: fc.option(
    fc.constantFrom("Europe/Berlin", "America/Los_Angeles", "Pacific/Kiritimati", "Not/AZone"),
    { nil: null },
  ),
  attributes: fc.record({ signup: anyDate, renewal_date: anyDate }),
  tags: fc.constant([]),
});

const eventsArb: fc.Arbitrary<SimulationEvent[]> = fc.array(
  fc.record({
    at: fc.integer({ min: T0, max: T0 + 10 * YEAR }),
    name: fc.constantFrom("purchase", "click", "other"),
    properties: fc.record({ total: anyNumber, date: anyDate }),
  }),
  { maxLength: 6 },
);

/** Every number in a simulation's output that stands for an instant must be a real date. */
function assertRealInstants(at: number): void {
  expect(Number.isFinite(at)).toBe(true);
  expect(() => formatInstant(at)).not.toThrow();
}

describe("property: a draft that validates can always run", () => {
  it("compiles, and simulating random customers and events never throws", () => {
    let ran = 0;
    fc.assert(
      fc.property(
        draftArb,
        fc.array(customerArb, { minLength: 1, maxLength: 3 }),
        eventsArb,
        fc.integer({ min: 0, max: 3 * YEAR }),
        (draft, customers, events, startOffset) => {
          if (errorsOnly(validate(draft)).length > 0) return;
          ran++;
          const compiled = compile(JSON.parse(JSON.stringify(draft)));
          if (!compiled.ok) throw new Error(`validated but did not compile`);
          const start = T0 + startOffset;
          for (const customer of customers) {
            const r = simulate(compiled.plan, customer, events, {
              start,
              until: start + 12 * YEAR,
            });
            for (const t of r.timeline) assertRealInstants(t.at);
            for (const e of r.effects) {
              assertRealInstants(e.at);
              if (e.effect.kind === "schedule") assertRealInstants(e.effect.at);
              if (
                (e.effect.kind === "issueCoupon" || e.effect.kind === "createPurl") &&
                e.effect.expiresAt !== null
              )
                assertRealInstants(e.effect.expiresAt);
            }
            expect(r.status).not.toBe("failed");
          }
          // The journey-wide rules the engine applies around runs.
          const settings = compiled.plan.settings;
          const decision = entryDecision(
            settings.entry,
            { entries: 1, active: false, lastEnteredAt: start },
            start,
          );
          if (!decision.ok && decision.retryAt !== undefined) assertRealInstants(decision.retryAt);
          const cap = settings.frequencyCap;
          if (cap) {
            const sent = Array.from({ length: cap.max + 1 }, (_, i) => start - i);
            assertRealInstants(frequencyCapReleaseAt(cap, cap.channels[0] ?? "email", sent, start));
          }
        },
      ),
      { numRuns: 1000, seed: Number(process.env["FC_SEED"] ?? 12_012) },
    );
    // The generator must produce runnable drafts, or the property says nothing.
    expect(ran).toBeGreaterThan(150);
  });
});
