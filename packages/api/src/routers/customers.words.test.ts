// issue 16: step names in a customer's trace are the names drawn on the canvas — from the
// published document when the version has one (a trigger's label is only there), else from the
// plan's step configs (which keep no labels today), else the kind of step.
import { compile, draftFromSteps } from "@postpath/journey";
import { describe, expect, it } from "vitest";
import { stepNames, traceWords } from "./customers.words.ts";

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

describe("traceWords: what the providers reported (issue 17)", () => {
  const words = (kind: string, detail: Record<string, unknown>) =>
    traceWords(kind, detail, "Thank-you email", () => null);
  it("says what happened to the message after it was sent, without provider ids", () => {
    const report = {
      channel: "email",
      providerMessageId: "<a@b>",
      reportedAt: "2026-12-04T10:00:00Z",
    };
    expect(words("message.delivered", report)).toBe("The email was delivered");
    expect(words("message.bounced", { ...report, reason: "550 no such user" })).toBe(
      "The email bounced: 550 no such user",
    );
    expect(words("message.complained", report)).toBe("Marked the email as spam");
    expect(words("message.unsubscribed", report)).toBe(
      "Unsubscribed with the email provider's link",
    );
    expect(words("message.failed", { ...report, channel: "sms", reason: "30003" })).toBe(
      "The provider could not deliver the SMS: 30003",
    );
    expect(words("message.clicked", { channel: "email", url: "https://shop.example/" })).toBe(
      "Clicked a link in the email (https://shop.example/)",
    );
    for (const kind of ["message.delivered", "message.bounced", "message.complained"])
      expect(words(kind, report)).not.toMatch(/<a@b>|providerMessageId/);
  });
  it("keeps a send's own failure as it was", () => {
    expect(words("message.failed", { channel: "email", error: "connection refused" })).toBe(
      "Sending failed: connection refused",
    );
  });
});
