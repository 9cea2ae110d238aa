import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { DAY, HOUR, T0, actions, around, branchTaken, enter, feed } from "./testing.ts";

const waitForRegistration = {
  id: "s",
  type: "wait.event" as const,
  data: {
    event: "machine_registered",
    timeout: { amount: 7, unit: "days" },
    correlate: { property: "serial", triggerProperty: "serial" },
  },
};
const branches = ["arrived", "timedOut"];
const purchase = {
  name: "purchase",
  properties: { serial: "SN-1", tier: "premium" },
  timestamp: T0,
};

describe("wait.event", () => {
  it("parks for the event with the correlation value from the trigger, and schedules the timeout", () => {
    const plan = around(waitForRegistration, branches);
    const r = enter(plan, { trigger: purchase });
    expect(actions(r.effects)).toEqual([
      {
        kind: "park",
        stepId: "s",
        event: "machine_registered",
        correlation: { property: "serial", value: "SN-1" },
        until: T0 + 7 * DAY,
      },
      { kind: "schedule", stepId: "s", at: T0 + 7 * DAY },
    ]);
    expect(r.state).toMatchObject({ status: "parked", parkedFor: { event: "machine_registered" } });
  });

  it("takes 'arrived' for the matching event and exposes its properties under the event name", () => {
    const plan = around(waitForRegistration, branches);
    const parked = enter(plan, { trigger: purchase });
    const other = feed(
      plan,
      parked,
      {
        kind: "event",
        event: { name: "machine_registered", properties: { serial: "SN-2" }, timestamp: T0 + HOUR },
      },
      T0 + HOUR,
    );
    expect(other.effects).toEqual([]);
    expect(other.state).toBe(parked.state);
    const arrived = feed(
      plan,
      parked,
      {
        kind: "event",
        event: {
          name: "machine_registered",
          properties: { serial: "SN-1", model: "Barista Pro" },
          timestamp: T0 + DAY,
        },
      },
      T0 + DAY,
    );
    expect(branchTaken(arrived.effects)).toBe("arrived");
    expect(arrived.state.vars["machine_registered"]).toEqual({
      serial: "SN-1",
      model: "Barista Pro",
    });
    // The timeout that fires later is stale.
    expect(feed(plan, arrived, { kind: "timer", stepId: "s" }, T0 + 7 * DAY).effects).toEqual([]);
  });

  it("takes 'timedOut' when the deadline passes", () => {
    const plan = around(waitForRegistration, branches);
    const r = feed(
      plan,
      enter(plan, { trigger: purchase }),
      { kind: "timer", stepId: "s" },
      T0 + 7 * DAY,
    );
    expect(branchTaken(r.effects)).toBe("timedOut");
  });

  it("never matches when the trigger lacks the correlation value (only the timeout ends the wait)", () => {
    const plan = around(waitForRegistration, branches);
    const parked = enter(plan, { trigger: { name: "purchase", properties: {}, timestamp: T0 } });
    const r = feed(
      plan,
      parked,
      {
        kind: "event",
        event: { name: "machine_registered", properties: { serial: null }, timestamp: T0 + 1 },
      },
      T0 + 1,
    );
    expect(r.effects).toEqual([]);
  });

  it("rejects a correlation key the trigger does not carry", () => {
    const draft = (trigger: {
      type: "trigger.segment" | "trigger.form";
      data: Record<string, unknown>;
    }) =>
      draftFromSteps([
        { id: "t", ...trigger, next: "s" },
        { ...waitForRegistration, next: { arrived: "x", timedOut: "x" } },
        { id: "x", type: "flow.exit" },
      ]);
    expect(
      validate(
        draft({
          type: "trigger.segment",
          data: { conditions: [{ property: "vip", op: "exists" }] },
        }),
      ),
    ).toEqual([
      expect.objectContaining({
        code: "correlation.not_in_trigger",
        nodeId: "s",
        field: "correlate.triggerProperty",
      }),
    ]);
    expect(
      validate(draft({ type: "trigger.form", data: { form: "f", fields: ["email"] } })),
    ).toEqual([expect.objectContaining({ code: "correlation.not_in_trigger", nodeId: "s" })]);
    expect(
      validate(draft({ type: "trigger.form", data: { form: "f", fields: ["serial"] } })),
    ).toEqual([]);
  });

  it("checks the key against the event catalogue when one is given", () => {
    const d = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "s" },
      { ...waitForRegistration, next: { arrived: "x", timedOut: "x" } },
      { id: "x", type: "flow.exit" },
    ]);
    expect(validate(d)).toEqual([]);
    expect(
      validate(d, { eventProperties: { purchase: ["order_id"], machine_registered: ["serial"] } }),
    ).toEqual([expect.objectContaining({ code: "correlation.not_in_trigger", nodeId: "s" })]);
  });
});
