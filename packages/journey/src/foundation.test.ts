import { describe, expect, it } from "vitest";
import {
  advance,
  compile,
  draftFromSteps,
  initialState,
  parsePlan,
  validate,
  type CustomerSnapshot,
  type Effect,
  type Plan,
} from "./index.ts";

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);
const DAY = 86_400_000;

const customer: CustomerSnapshot = {
  id: "c1",
  externalId: "ext-1",
  email: "anna@example.com",
  phone: null,
  timezone: "Europe/Berlin",
  attributes: { first_name: "Anna" },
  tags: [],
};

const draft = draftFromSteps([
  {
    id: "trigger",
    type: "trigger.event",
    data: {
      event: "purchase",
      filters: [{ property: "product.tier", op: "eq", value: "premium" }],
    },
    next: "wait",
  },
  { id: "wait", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "email" },
  {
    id: "email",
    type: "action.email",
    data: { subject: "Thanks {{ first_name }}", body: "Enjoy your {{ event.product.name }}" },
    next: "exit",
  },
  { id: "exit", type: "flow.exit" },
]);

function compiled(): Plan {
  const r = compile(draft);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

const kinds = (effects: Effect[]) => effects.filter((e) => e.kind !== "trace").map((e) => e.kind);

describe("foundation slice: event trigger → wait → email → exit", () => {
  it("validates and compiles to a plan with resolved next steps", () => {
    expect(validate(draft)).toEqual([]);
    const plan = compiled();
    expect(plan.triggerStepId).toBe("trigger");
    expect(plan.steps["wait"]?.next).toEqual({ next: "email" });
    expect(plan.steps["email"]?.next).toEqual({ next: "exit" });
    expect(plan.steps["exit"]?.next).toEqual({});
    expect(Object.isFrozen(plan.steps["wait"])).toBe(true);
  });

  it("survives a JSON round trip through parsePlan", () => {
    const plan = compiled();
    expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it("advances entered → waiting → awaiting the send → completed", () => {
    const plan = compiled();
    const trigger = {
      name: "purchase",
      properties: { product: { tier: "premium", name: "Barista Pro" } },
      timestamp: T0,
    };
    let state = initialState(plan, { runId: "r1", customer, trigger });
    expect(state.status).toBe("active");

    const entered = advance(plan, state, { kind: "entered" }, T0);
    expect(kinds(entered.effects)).toEqual(["schedule"]);
    expect(entered.effects).toContainEqual({ kind: "schedule", stepId: "wait", at: T0 + 2 * DAY });
    expect(entered.nextState).toMatchObject({
      status: "waiting",
      stepId: "wait",
      waitUntil: T0 + 2 * DAY,
    });
    expect(
      entered.effects
        .filter((e) => e.kind === "trace")
        .map((e) => e.kind === "trace" && e.decision),
    ).toEqual(["entered", "wait.scheduled"]);
    state = entered.nextState;

    const fired = advance(plan, state, { kind: "timer", stepId: "wait" }, T0 + 2 * DAY);
    expect(fired.effects).toContainEqual({
      kind: "send",
      stepId: "email",
      channel: "email",
      message: {
        subject: "Thanks {{ first_name }}",
        body: "Enjoy your {{ event.product.name }}",
        format: "html",
      },
    });
    expect(fired.nextState).toMatchObject({ status: "awaiting", stepId: "email" });
    state = fired.nextState;

    const sent = advance(
      plan,
      state,
      { kind: "result", stepId: "email", ok: true, output: { messageId: "m1" } },
      T0 + 2 * DAY + 500,
    );
    expect(kinds(sent.effects)).toEqual(["complete"]);
    expect(sent.nextState).toMatchObject({ status: "completed", endedAt: T0 + 2 * DAY + 500 });
    expect(sent.nextState.outputs["email"]).toEqual({ messageId: "m1" });
  });

  it("ignores stale and duplicate inputs", () => {
    const plan = compiled();
    const start = advance(
      plan,
      initialState(plan, { runId: "r1", customer, trigger: null }),
      { kind: "entered" },
      T0,
    ).nextState;
    for (const input of [
      { kind: "entered" as const },
      { kind: "timer" as const, stepId: "email" },
      { kind: "result" as const, stepId: "email", ok: true as const },
    ]) {
      const r = advance(plan, start, input, T0 + 3 * DAY);
      expect(r.effects).toEqual([]);
      expect(r.nextState).toBe(start);
    }
    // A timer for the right step that fires before its time is ignored as well.
    expect(advance(plan, start, { kind: "timer", stepId: "wait" }, T0 + DAY).effects).toEqual([]);
  });

  it("reports a missing next step on the node", () => {
    const broken = draftFromSteps([
      { id: "trigger", type: "trigger.event", data: { event: "purchase" }, next: "email" },
      { id: "email", type: "action.email", data: { subject: "Hi", body: "Hello" } },
    ]);
    expect(validate(broken)).toEqual([
      expect.objectContaining({ code: "branch.unconnected", nodeId: "email", branch: "next" }),
    ]);
    expect(compile(broken).ok).toBe(false);
  });
});
