// issue 16: step names in a customer's trace are the names drawn on the canvas — from the
// published document when the version has one (a trigger's label is only there), else from the
// plan's step configs (which keep no labels today), else the kind of step.
import { compile, draftFromSteps } from "@postpath/journey";
import { describe, expect, it } from "vitest";
import { stepNames } from "./customers.words.ts";

const draft = draftFromSteps([
  {
    id: "visit",
    type: "trigger.event",
    data: { label: "Visited the shop", event: "visit" },
    next: "news",
  },
  {
    id: "news",
    type: "action.email",
    data: { label: "Weekly news", subject: "Hi", body: "<p>Hi</p>" },
    next: "done",
  },
  { id: "done", type: "flow.exit" },
]);

describe("stepNames", () => {
  const compiled = compile(draft);
  if (!compiled.ok) throw new Error("the draft should compile");
  it("takes the labels drawn on the canvas, the trigger's included", () => {
    const names = stepNames(compiled.plan, draft);
    expect([names.get("visit"), names.get("news"), names.get("done")]).toEqual([
      "Visited the shop",
      "Weekly news",
      "Exit",
    ]);
  });
  it("without a document (versions published before it was kept): the kind of step", () => {
    const names = stepNames(compiled.plan);
    expect([names.get("visit"), names.get("news"), names.get("done")]).toEqual([
      "Event trigger",
      "Send email",
      "Exit",
    ]);
  });
});
