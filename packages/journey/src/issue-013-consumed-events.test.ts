// Issue 13, item 7: a run never acts twice on one event. An event delivered again (a replayed
// messageId, a retried event job, a look-back at a park) finds its id among the run's consumed
// ids, so a second wait-for-event for the same event name does not take it.
import { describe, expect, it } from "vitest";
import { planOf } from "./steps/testing.ts";
import { advance, initialState } from "./advance.ts";
import { CONSUMED_EVENTS_KEPT, type RunState } from "./state.ts";
import { customer } from "./steps/testing.ts";

const T0 = Date.UTC(2026, 10, 20, 10);
const plan = planOf([
  { id: "t", type: "trigger.manual", next: "w1" },
  {
    id: "w1",
    type: "wait.event",
    data: { event: "registered", timeout: { amount: 1, unit: "days" } },
    next: { arrived: "w2", timedOut: "end" },
  },
  {
    id: "w2",
    type: "wait.event",
    data: { event: "registered", timeout: { amount: 1, unit: "days" } },
    next: { arrived: "end", timedOut: "end" },
  },
  { id: "end", type: "flow.exit" },
]);

function parkedAtW1(): RunState {
  const s = initialState(plan, { runId: "r", customer: customer(), trigger: null });
  const r = advance(plan, s, { kind: "entered" }, T0);
  expect(r.nextState).toMatchObject({ status: "parked", stepId: "w1" });
  return r.nextState;
}
const registered = (id: string | undefined, at: number) => ({
  kind: "event" as const,
  event: { ...(id ? { id } : {}), name: "registered", properties: {}, timestamp: at },
});

describe("consumed events", () => {
  it("the event that moved the run past the first wait does not move it past the second", () => {
    const w1 = parkedAtW1();
    const r1 = advance(plan, w1, registered("e1", T0 + 1000), T0 + 1000);
    expect(r1.nextState).toMatchObject({ status: "parked", stepId: "w2", consumed: ["e1"] });
    // The same event again: nothing happens.
    const again = advance(plan, r1.nextState, registered("e1", T0 + 1000), T0 + 5000);
    expect(again.effects).toEqual([]);
    expect(again.nextState).toBe(r1.nextState);
    // Another one does.
    const r2 = advance(plan, r1.nextState, registered("e2", T0 + 6000), T0 + 6000);
    expect(r2.nextState).toMatchObject({ status: "completed", consumed: ["e1", "e2"] });
  });

  it("an event the run ignored is not consumed; events without an id (the simulator) still act", () => {
    const w1 = parkedAtW1();
    const other = advance(
      plan,
      w1,
      { kind: "event", event: { id: "x", name: "browse", properties: {}, timestamp: T0 + 1 } },
      T0 + 1,
    );
    expect(other.effects).toEqual([]);
    const r = advance(plan, w1, registered(undefined, T0 + 2), T0 + 2);
    expect(r.nextState).toMatchObject({ stepId: "w2" });
    expect(r.nextState.consumed).toBeUndefined();
  });

  it("keeps the newest CONSUMED_EVENTS_KEPT ids", () => {
    let s = parkedAtW1();
    s = { ...s, consumed: Array.from({ length: CONSUMED_EVENTS_KEPT }, (_, i) => `old${i}`) };
    const r = advance(plan, s, registered("new", T0 + 1), T0 + 1);
    expect(r.nextState.consumed).toHaveLength(CONSUMED_EVENTS_KEPT);
    expect(r.nextState.consumed?.at(-1)).toBe("new");
    expect(r.nextState.consumed?.[0]).toBe("old1");
  });
});
