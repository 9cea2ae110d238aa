import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { T0, actions, around, enter, feed } from "./testing.ts";

describe("action.webhook", () => {
  const plan = around({
    id: "s",
    type: "action.webhook",
    data: {
      url: "https://crm.example/hooks/{{ customer.externalId }}",
      headers: { "x-source": "postpath" },
      body: '{"id":"{{ customer.id }}"}',
      as: "crm",
    },
  });

  it("requests the call and keeps the response for later steps", () => {
    const r = enter(plan);
    expect(actions(r.effects)).toEqual([
      {
        kind: "send",
        stepId: "s",
        channel: "webhook",
        message: {
          url: "https://crm.example/hooks/{{ customer.externalId }}",
          method: "POST",
          headers: { "x-source": "postpath" },
          body: '{"id":"{{ customer.id }}"}',
        },
      },
    ]);
    const done = feed(
      plan,
      r,
      { kind: "result", stepId: "s", ok: true, output: { status: 200, body: { score: 7 } } },
      T0,
    );
    expect(done.state.vars["crm"]).toEqual({ status: 200, body: { score: 7 } });
  });

  it("needs an http(s) URL", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        { id: "s", type: "action.webhook", data: { url: "ftp://x" }, next: "x" },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({ code: "webhook.url", nodeId: "s", field: "url" }),
    ]);
  });
});
