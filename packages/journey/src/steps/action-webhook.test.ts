import { describe, expect, it } from "vitest";
import { stepAttempts, validate } from "../index.ts";
import { ActionWebhookConfig } from "./action-webhook.ts";
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

  it("takes an optional retry count (0–10) that the engine enforces; it is not part of the call", () => {
    const withRetries = around(
      {
        id: "s",
        type: "action.webhook",
        data: { url: "https://crm.example/h", retries: 3, onError: "errorBranch" },
      },
      ["next", "error"],
    );
    expect(stepAttempts(withRetries.steps["s"]?.config)).toBe(4);
    expect(stepAttempts(plan.steps["s"]?.config)).toBeNull();
    expect(stepAttempts({ retries: 0 })).toBe(1);
    const r = enter(withRetries);
    expect(actions(r.effects)).toEqual([
      {
        kind: "send",
        stepId: "s",
        channel: "webhook",
        message: { url: "https://crm.example/h", method: "POST", headers: {} },
      },
    ]);
    expect(ActionWebhookConfig.safeParse({ url: "https://x", retries: 11 }).success).toBe(false);
    expect(ActionWebhookConfig.safeParse({ url: "https://x", retries: -1 }).success).toBe(false);
    expect(ActionWebhookConfig.safeParse({ url: "https://x", retries: 1.5 }).success).toBe(false);
    expect(ActionWebhookConfig.parse({ url: "https://x" })).not.toHaveProperty("retries");
  });
});
