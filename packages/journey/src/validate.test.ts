import { describe, expect, it } from "vitest";
import { draftFromSteps } from "./builder.ts";
import { SCHEMA_VERSION, compile, validate, type JourneyDraft } from "./index.ts";

const exit = { id: "x", type: "flow.exit" as const };
const codes = (draft: unknown, catalog?: Parameters<typeof validate>[1]) =>
  validate(draft, catalog).map((i) => [i.code, i.nodeId ?? i.edgeId ?? i.field ?? null]);

describe("validate", () => {
  it("needs exactly one trigger", () => {
    expect(codes(draftFromSteps([exit]))).toEqual([["trigger.missing", null]]);
    expect(
      codes(
        draftFromSteps([
          { id: "t1", type: "trigger.manual", next: "x" },
          { id: "t2", type: "trigger.event", data: { event: "purchase" }, next: "x" },
          exit,
        ]),
      ),
    ).toEqual([["trigger.multiple", "t2"]]);
  });

  it("marks steps no path reaches, and connections to missing steps", () => {
    const draft: JourneyDraft = {
      ...draftFromSteps([
        { id: "t", type: "trigger.manual", next: "x" },
        exit,
        { id: "lonely", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
      ]),
    };
    draft.edges.push({ id: "dangling", source: "t", sourceHandle: null, target: "gone" });
    draft.edges.push({ id: "orphan", source: "gone", sourceHandle: null, target: "x" });
    expect(codes(draft)).toEqual([
      ["edge.missing_target", "t"],
      ["edge.missing_source", "orphan"],
      ["node.unreachable", "lonely"],
    ]);
  });

  it("each branch is connected exactly once", () => {
    const draft = draftFromSteps([
      { id: "t", type: "trigger.manual", next: "s" },
      {
        id: "s",
        type: "split.condition",
        data: { conditions: [{ property: "vip", op: "eq", value: true }] },
        next: { yes: "x" },
      },
      exit,
    ]);
    draft.edges.push({ id: "again", source: "s", sourceHandle: "yes", target: "x" });
    draft.edges.push({ id: "maybe", source: "s", sourceHandle: "maybe", target: "x" });
    const issues = validate(draft);
    expect(issues.map((i) => [i.code, i.edgeId ?? null, i.branch ?? null])).toEqual([
      ["branch.duplicate", "again", "yes"],
      ["edge.unknown_branch", "maybe", "maybe"],
      ["branch.unconnected", null, "no"],
    ]);
    expect(issues[2]?.message).toBe(
      `The "no" path of "Condition split" isn't connected. Connect it, or end it with an Exit.`,
    );
  });

  it("uses the node's label in messages", () => {
    const draft = draftFromSteps([
      { id: "t", type: "trigger.manual", next: "e" },
      {
        id: "e",
        type: "action.email",
        data: { label: "Thank-you email", subject: "Hi", body: "Thanks" },
      },
    ]);
    expect(validate(draft)[0]?.message).toBe(
      `"Thank-you email" isn't connected to a next step. Connect it, or end the path with an Exit.`,
    );
  });

  it("rejects a loop without a wait, accepts one with a wait", () => {
    const loop = (withWait: boolean) =>
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "a" },
        {
          id: "a",
          type: "split.condition",
          data: { conditions: [{ property: "done", op: "eq", value: true }] },
          next: { yes: "x", no: withWait ? "w" : "b" },
        },
        { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "b" },
        { id: "b", type: "action.tag", data: { add: ["nudged"] }, next: "a" },
        exit,
      ]);
    expect(codes(loop(true))).toEqual([]);
    expect(codes(loop(false))).toEqual([
      ["node.unreachable", "w"],
      ["graph.cycle_without_wait", "a"],
      ["graph.cycle_without_wait", "b"],
    ]);
  });

  it("a self-loop without a wait is a cycle too", () => {
    const d = draftFromSteps([
      { id: "t", type: "trigger.manual", next: "a" },
      { id: "a", type: "action.tag", data: { add: ["x"] }, next: "a" },
    ]);
    expect(codes(d)).toEqual([["graph.cycle_without_wait", "a"]]);
  });

  it("reports field-level config errors and unknown step types", () => {
    const d = draftFromSteps([
      { id: "t", type: "trigger.manual", next: "w" },
      { id: "w", type: "wait.timeOfDay", data: { time: "25:00", days: ["someday"] }, next: "x" },
      exit,
    ]);
    d.nodes.push({ id: "odd", type: "action.fax" as never, position: { x: 0, y: 0 }, data: {} });
    const issues = validate(d);
    expect(issues.map((i) => [i.code, i.nodeId, i.field ?? null, i.message])).toEqual([
      ["config.invalid", "w", "time", "Use a 24-hour time such as 09:30."],
      ["config.invalid", "w", "days.0", expect.any(String)],
      ["node.unknown_type", "odd", null, `"action.fax" is not a step this version knows.`],
    ]);
  });

  it("checks template syntax and variables", () => {
    const d = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "e" },
      {
        id: "e",
        type: "action.email",
        data: {
          subject: "Hi {{ first_name | upcase }}",
          body: "{% if coupon %}{{ coupon.code }}{% endif %} {{ frist_name }} {{ event.total }}",
        },
        next: "bad",
      },
      { id: "bad", type: "action.sms", data: { body: "Hi {{ first_name " }, next: "x" },
      exit,
    ]);
    // Without a catalogue, unknown top-level names may be customer attributes.
    expect(codes(d)).toEqual([["template.syntax", "bad"]]);
    // With one, misspellings are caught and event properties are checked — as warnings: the
    // catalogue is what the workspace has observed so far. The syntax error stays an error.
    const withCatalog = validate(d, {
      attributes: ["first_name"],
      eventProperties: { purchase: ["order_id"] },
    });
    expect(withCatalog.map((i) => [i.code, i.field, i.severity ?? "error", i.message])).toEqual([
      [
        "template.unknown_variable",
        "body",
        "warning",
        `{{ coupon }}: no trigger, customer attribute or earlier step provides "coupon".`,
      ],
      [
        "template.unknown_variable",
        "body",
        "warning",
        `{{ coupon.code }}: no trigger, customer attribute or earlier step provides "coupon".`,
      ],
      [
        "template.unknown_variable",
        "body",
        "warning",
        `{{ frist_name }}: no trigger, customer attribute or earlier step provides "frist_name". Did you mean {{ first_name }}?`,
      ],
      [
        "template.unknown_variable",
        "body",
        "warning",
        `{{ event.total }}: the trigger event hasn't been seen carrying "total".`,
      ],
      [
        "template.syntax",
        "body",
        "error",
        expect.stringContaining("This text has a template error"),
      ],
    ]);
  });

  it("reports malformed documents, versions and settings", () => {
    expect(codes({ nodes: "nope" })[0]?.[0]).toBe("draft.invalid");
    const d = {
      ...draftFromSteps([{ id: "t", type: "trigger.manual", next: "x" }, exit]),
      schemaVersion: 9,
    };
    expect(codes(d)).toEqual([["draft.schema_version", "schemaVersion"]]);
    const bad = {
      ...draftFromSteps([{ id: "t", type: "trigger.manual", next: "x" }, exit]),
      settings: { timezone: "Mars/Olympus", quietHours: { start: "9pm", end: "08:00" } },
    };
    expect(codes(bad)).toEqual([
      ["settings.invalid", "settings.quietHours.start"],
      ["settings.invalid", "settings.timezone"],
    ]);
    expect(SCHEMA_VERSION).toBe(1);
  });

  it("an empty settings object gets the defaults", () => {
    const r = compile(draftFromSteps([{ id: "t", type: "trigger.manual", next: "x" }, exit]));
    expect(r.ok && r.plan.settings).toEqual({
      entry: { mode: "once", cooldown: null, maxEntries: null, perValueOf: null },
      exitCriteria: [],
      goal: null,
      quietHours: null,
      frequencyCap: null,
      timezone: "UTC",
    });
  });
});
