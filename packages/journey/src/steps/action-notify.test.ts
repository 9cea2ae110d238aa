import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { actions, around, customer, enter } from "./testing.ts";

describe("action.notify", () => {
  it("notifies staff by email, ignoring customer quiet hours", () => {
    const plan = around(
      {
        id: "s",
        type: "action.notify",
        data: {
          via: "email",
          to: "{{ event.clerk_email }}",
          subject: "Customer on the way",
          message: "{{ first_name }} viewed {{ event.product }}",
        },
      },
      ["next"],
      { quietHours: { start: "00:00", end: "23:59" } },
    );
    expect(actions(enter(plan, { customer: customer() }).effects)).toEqual([
      {
        kind: "send",
        stepId: "s",
        channel: "notify",
        message: {
          via: "email",
          to: "{{ event.clerk_email }}",
          subject: "Customer on the way",
          message: "{{ first_name }} viewed {{ event.product }}",
        },
      },
    ]);
  });

  it("needs a recipient for email and a webhook URL for Slack", () => {
    const draft = (data: Record<string, unknown>) =>
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        { id: "s", type: "action.notify", data, next: "x" },
        { id: "x", type: "flow.exit" },
      ]);
    expect(validate(draft({ via: "email", message: "hi" }))).toEqual([
      expect.objectContaining({ code: "notify.recipient", field: "to" }),
    ]);
    expect(validate(draft({ via: "slack", message: "hi" }))).toEqual([
      expect.objectContaining({ code: "notify.webhook", field: "webhookUrl" }),
    ]);
    expect(
      validate(
        draft({ via: "slack", webhookUrl: "https://hooks.slack.example/T1", message: "hi" }),
      ),
    ).toEqual([]);
  });
});
