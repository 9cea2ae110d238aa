import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import {
  HOUR,
  T0,
  actions,
  around,
  branchTaken,
  customer,
  decisions,
  enter,
  feed,
} from "./testing.ts";

const email = {
  id: "s",
  type: "action.email" as const,
  data: { subject: "Hi {{ first_name }}", body: "<p>Thanks</p>" },
};

describe("action.email", () => {
  it("requests the send with the unrendered templates and waits for the result", () => {
    const plan = around(email);
    const r = enter(plan);
    expect(actions(r.effects)).toEqual([
      {
        kind: "send",
        stepId: "s",
        channel: "email",
        message: { subject: "Hi {{ first_name }}", body: "<p>Thanks</p>", format: "html" },
      },
    ]);
    expect(r.state).toMatchObject({ status: "awaiting", stepId: "s" });
  });

  it("on failure: continue (default), take the error branch, or exit", () => {
    const fail = { kind: "result" as const, stepId: "s", ok: false as const, error: "SMTP 550" };
    const cont = around(email);
    expect(branchTaken(feed(cont, enter(cont), fail, T0).effects)).toBe("next");

    const branch = around({ ...email, data: { ...email.data, onError: "errorBranch" } }, [
      "next",
      "error",
    ]);
    const viaError = feed(branch, enter(branch), fail, T0);
    expect(branchTaken(viaError.effects)).toBe("error");
    expect(decisions(viaError.effects)[0]).toBe("send.failed");

    const exit = around({ ...email, data: { ...email.data, onError: "exit" } });
    expect(feed(exit, enter(exit), fail, T0).state).toMatchObject({
      status: "exited",
      exitReason: "send failed: SMTP 550",
    });
  });

  it("an error branch must be connected", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.manual", next: "s" },
        { ...email, data: { ...email.data, onError: "errorBranch" }, next: "x" },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({ code: "branch.unconnected", nodeId: "s", branch: "error" }),
    ]);
  });

  describe("quiet hours in the recipient's time zone", () => {
    const quiet = { quietHours: { start: "21:00", end: "08:00", mode: "hold" as const } };
    // T0 = 12:00 UTC = 22:00 in Sydney (AEDT, UTC+11) → quiet until 08:00 Sydney = 21:00 UTC.
    const sydney = customer({ timezone: "Australia/Sydney" });

    it("hold: waits until quiet hours end, then sends", () => {
      const plan = around(email, ["next"], quiet);
      const held = enter(plan, { customer: sydney });
      expect(actions(held.effects)).toEqual([{ kind: "schedule", stepId: "s", at: T0 + 9 * HOUR }]);
      expect(held.state).toMatchObject({ status: "waiting", held: true });
      const sent = feed(plan, held, { kind: "timer", stepId: "s" }, T0 + 9 * HOUR);
      expect(actions(sent.effects).map((e) => e.kind)).toEqual(["send"]);
    });

    it("skip: continues without sending", () => {
      const plan = around(email, ["next"], { quietHours: { ...quiet.quietHours, mode: "skip" } });
      const r = enter(plan, { customer: sydney });
      expect(decisions(r.effects)).toContain("quietHours.skipped");
      expect(actions(r.effects).map((e) => e.kind)).toEqual(["complete"]);
    });

    it("sends at once outside quiet hours, or when the step opts out", () => {
      const plan = around(email, ["next"], quiet);
      expect(
        actions(enter(plan, { customer: customer({ timezone: "Europe/London" }) }).effects).map(
          (e) => e.kind,
        ),
      ).toEqual(["send"]);
      const optOut = around(
        { ...email, data: { ...email.data, respectQuietHours: false } },
        ["next"],
        quiet,
      );
      expect(actions(enter(optOut, { customer: sydney }).effects).map((e) => e.kind)).toEqual([
        "send",
      ]);
    });
  });
});
