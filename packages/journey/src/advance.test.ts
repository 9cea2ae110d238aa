import { describe, expect, it } from "vitest";
import { advance, initialState, parseRunState } from "./index.ts";
import {
  DAY,
  HOUR,
  T0,
  actions,
  customer,
  decisions,
  enter,
  feed,
  planOf,
} from "./steps/testing.ts";

const purchase = { name: "purchase", properties: { order_id: "o1" }, timestamp: T0 };

const steps = [
  { id: "t", type: "trigger.event" as const, data: { event: "purchase" }, next: "w" },
  { id: "w", type: "wait.duration" as const, data: { amount: 3, unit: "days" }, next: "mail" },
  { id: "mail", type: "action.email" as const, data: { subject: "Tips", body: "…" }, next: "x" },
  { id: "x", type: "flow.exit" as const },
];

describe("advance: journey settings", () => {
  it("an exit-criteria event ends the run wherever it is", () => {
    const plan = planOf(steps, {
      exitCriteria: [
        { event: "unsubscribed" },
        { event: "refund", filters: [{ property: "full", op: "eq", value: true }] },
      ],
    });
    const waiting = enter(plan, { trigger: purchase });
    expect(
      feed(
        plan,
        waiting,
        {
          kind: "event",
          event: { name: "refund", properties: { full: false }, timestamp: T0 + HOUR },
        },
        T0 + HOUR,
      ).effects,
    ).toEqual([]);
    const r = feed(
      plan,
      waiting,
      {
        kind: "event",
        event: { name: "refund", properties: { full: true }, timestamp: T0 + HOUR },
      },
      T0 + HOUR,
    );
    expect(actions(r.effects)).toEqual([{ kind: "exit", reason: "exit event: refund" }]);
    expect(r.state).toMatchObject({ status: "exited", endedAt: T0 + HOUR });
    // Afterwards nothing applies any more.
    expect(feed(plan, r, { kind: "timer", stepId: "w" }, T0 + 3 * DAY)).toEqual({
      effects: [],
      state: r.state,
    });
  });

  it("the settings goal records a conversion once, without moving the run (unless told to exit)", () => {
    const plan = planOf(steps, { goal: { name: "second purchase", event: "purchase" } });
    const waiting = enter(plan, { trigger: purchase });
    const second = { name: "purchase", properties: { order_id: "o2" }, timestamp: T0 + DAY };
    const r = feed(plan, waiting, { kind: "event", event: second }, T0 + DAY);
    expect(actions(r.effects)).toEqual([
      { kind: "convert", stepId: null, goal: "second purchase" },
    ]);
    expect(r.state).toMatchObject({ status: "waiting", stepId: "w", converted: true });
    expect(
      feed(plan, r, { kind: "event", event: { ...second, timestamp: T0 + 2 * DAY } }, T0 + 2 * DAY)
        .effects,
    ).toEqual([]);

    const exiting = planOf(steps, {
      goal: { name: "second purchase", event: "purchase", exitOnConversion: true },
    });
    const e = feed(
      exiting,
      enter(exiting, { trigger: purchase }),
      { kind: "event", event: second },
      T0 + DAY,
    );
    expect(actions(e.effects).map((x) => x.kind)).toEqual(["convert", "exit"]);
  });

  it("events from before the run don't act on it", () => {
    const plan = planOf(steps, { exitCriteria: [{ event: "unsubscribed" }] });
    const waiting = enter(plan, { trigger: purchase });
    expect(
      feed(
        plan,
        waiting,
        { kind: "event", event: { name: "unsubscribed", properties: {}, timestamp: T0 - DAY } },
        T0 + 1,
      ).effects,
    ).toEqual([]);
  });

  it("inputs before entry do nothing", () => {
    const plan = planOf(steps, { exitCriteria: [{ event: "unsubscribed" }] });
    const fresh = initialState(plan, { runId: "r", customer: customer(), trigger: purchase });
    for (const input of [
      { kind: "timer" as const, stepId: "w" },
      {
        kind: "event" as const,
        event: { name: "unsubscribed", properties: {}, timestamp: T0 + 1 },
      },
      { kind: "result" as const, stepId: "mail", ok: true as const },
    ]) {
      expect(advance(plan, fresh, input, T0 + 1)).toEqual({ effects: [], nextState: fresh });
    }
  });

  it("never mutates its input state, and states survive a JSON round trip", () => {
    const plan = planOf(steps);
    const state = initialState(plan, { runId: "r", customer: customer(), trigger: purchase });
    const snapshot = JSON.stringify(state);
    const r = advance(plan, state, { kind: "entered" }, T0);
    expect(JSON.stringify(state)).toBe(snapshot);
    const stored = parseRunState(JSON.parse(JSON.stringify(r.nextState)));
    expect(advance(plan, stored, { kind: "timer", stepId: "w" }, T0 + 3 * DAY)).toEqual(
      advance(plan, r.nextState, { kind: "timer", stepId: "w" }, T0 + 3 * DAY),
    );
  });

  it("traces every decision", () => {
    const plan = planOf(steps);
    let s = enter(plan, { trigger: purchase });
    const all = [...s.effects];
    s = feed(plan, s, { kind: "timer", stepId: "w" }, T0 + 3 * DAY);
    all.push(...s.effects);
    s = feed(
      plan,
      s,
      { kind: "result", stepId: "mail", ok: false, error: "bounced" },
      T0 + 3 * DAY,
    );
    all.push(...s.effects);
    expect(decisions(all)).toEqual([
      "entered",
      "wait.scheduled",
      "wait.elapsed",
      "send.requested",
      "send.failed",
      "exit.reached",
      "run.completed",
    ]);
  });
});
