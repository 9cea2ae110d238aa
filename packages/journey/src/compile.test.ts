import { describe, expect, it } from "vitest";
import { draftFromSteps } from "./builder.ts";
import { PlanError, compile, parsePlan } from "./index.ts";

const draft = draftFromSteps(
  [
    { id: "t", type: "trigger.event", data: { event: "purchase", label: "Purchase" }, next: "s" },
    {
      id: "s",
      type: "split.random",
      data: {
        variants: [
          { id: "a", percent: 50 },
          { id: "b", percent: 50 },
        ],
      },
      next: { a: "x", b: "x" },
    },
    { id: "x", type: "flow.exit" },
    { id: "g", type: "flow.goal", data: { event: "review" } },
  ],
  { timezone: "Europe/Berlin" },
);

describe("compile / parsePlan", () => {
  it("resolves next steps per branch (optional branches left open are null) and drops canvas-only data", () => {
    const r = compile(draft);
    if (!r.ok) throw new Error("expected a plan");
    expect(r.plan.steps["s"]?.next).toEqual({ a: "x", b: "x" });
    expect(r.plan.steps["g"]?.next).toEqual({ next: null });
    expect(r.plan.steps["t"]?.config).toEqual({ event: "purchase", filters: [] });
    expect(r.plan.settings.timezone).toBe("Europe/Berlin");
  });

  it("returns the validation errors for an invalid draft", () => {
    const r = compile({ ...draft, edges: [] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map((e) => e.code)).toContain("branch.unconnected");
  });

  it("reads stored plans, refusing future versions and broken references", () => {
    const r = compile(draft);
    if (!r.ok) throw new Error("expected a plan");
    const stored = JSON.parse(JSON.stringify(r.plan)) as Record<string, unknown>;
    expect(parsePlan(stored)).toEqual(r.plan);
    expect(() => parsePlan({ ...stored, schemaVersion: 99 })).toThrow(PlanError);
    expect(() => parsePlan({ ...stored, triggerStepId: "nope" })).toThrow(
      /trigger step nope is missing/,
    );
    expect(() => parsePlan({ nodes: [] })).toThrow(PlanError);
  });

  it("fills defaults added to step configs after a plan was stored", () => {
    const r = compile(draft);
    if (!r.ok) throw new Error("expected a plan");
    const stored = JSON.parse(JSON.stringify(r.plan)) as {
      steps: Record<string, { config: Record<string, unknown> }>;
    };
    delete stored.steps["t"]?.config["filters"];
    expect(parsePlan(stored).steps["t"]?.config).toEqual({ event: "purchase", filters: [] });
  });
});
