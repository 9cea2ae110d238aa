// templateContext / templateCustomer copy attributes key by key (copyOwn) instead of an object
// spread followed by more keys (slow in V8): what a template sees must stay exactly what the
// spreads gave — values, key order, a built-in field winning over an attribute of its name, and
// an own `__proto__` key (JSON can hold one) staying an own key, not the prototype.
import { describe, expect, it } from "vitest";
import type { CustomerSnapshot, RunState } from "./state.ts";
import { copyOwn, templateContext, templateCustomer } from "./templating.ts";

/** The spread-based versions they replace. */
const spreadCustomer = (c: CustomerSnapshot): Record<string, unknown> => ({
  ...c.attributes,
  id: c.id,
  externalId: c.externalId,
  email: c.email ?? null,
  phone: c.phone ?? null,
  timezone: c.timezone ?? null,
  attributes: c.attributes,
  tags: c.tags,
  segments: c.segments ?? [],
  lifecycle_stage: c.lifecycleStage ?? null,
});
const spreadContext = (state: RunState): Record<string, unknown> => ({
  ...state.customer.attributes,
  ...state.vars,
  customer: spreadCustomer(state.customer),
  event: state.trigger?.properties ?? {},
  run: { id: state.runId, enteredAt: state.enteredAt },
  steps: state.outputs,
});

const attributeSets: Record<string, unknown>[] = [
  {},
  { first_name: "Ann", city: "Hamburg" },
  { id: "attr-id", email: "attr@example.com", customer: "shadow", steps: 1, run: 2, event: 3 },
  { 10: "ten", b: 1, 2: "two", a: { nested: [1] } },
  JSON.parse('{"__proto__": {"polluted": true}, "after": 1}') as Record<string, unknown>,
  { constructor: "c", toString: "t", hasOwnProperty: 1, valueOf: null },
];
const varSets: Record<string, unknown>[] = [
  {},
  { coupon: { code: "SAVE10" }, first_name: "from vars" },
  JSON.parse('{"__proto__": 5, "customer": "var"}') as Record<string, unknown>,
];

function stateOf(attributes: Record<string, unknown>, vars: Record<string, unknown>): RunState {
  return {
    runId: "r1",
    status: "active",
    stepId: "s",
    entered: true,
    enteredAt: 5,
    waitUntil: null,
    parkedFor: null,
    held: false,
    trigger: { name: "purchase", properties: { order: "o1" }, timestamp: 1 },
    customer: {
      id: "c1",
      externalId: "ann",
      email: null,
      attributes,
      tags: ["vip"],
      segments: ["s1"],
      lifecycleStage: "new",
    },
    outputs: { card: { url: "u" } },
    vars,
    converted: false,
    conversion: null,
    endedAt: null,
    exitReason: null,
    stepsRun: 1,
  };
}

describe("template context copied key by key", () => {
  it("is what the object spreads gave, key order and own __proto__ keys included", () => {
    for (const attributes of attributeSets)
      for (const vars of varSets) {
        const state = stateOf(attributes, vars);
        const [now, before] = [templateContext(state), spreadContext(state)];
        expect(JSON.stringify(now)).toBe(JSON.stringify(before));
        expect(now).toStrictEqual(before);
        expect(Object.getPrototypeOf(now)).toBe(Object.prototype);
        expect(Object.getPrototypeOf(now["customer"])).toBe(Object.prototype);
        const customer = templateCustomer(state.customer);
        expect(JSON.stringify(customer)).toBe(JSON.stringify(spreadCustomer(state.customer)));
      }
    expect(Object.hasOwn(templateContext(stateOf(attributeSets[4]!, {})), "__proto__")).toBe(true);
  });

  it("copyOwn leaves the target's prototype alone", () => {
    const out = copyOwn({}, JSON.parse('{"__proto__": {"x": 1}}') as object);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { x?: unknown }).x).toBeUndefined();
  });
});
