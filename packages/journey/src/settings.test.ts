import { describe, expect, it } from "vitest";
import {
  EntryRules,
  entryDecision,
  entryKeyOf,
  frequencyCapAllows,
  JourneySettings,
  draftFromSteps,
  validate,
  frequencyCapReleaseAt,
  FrequencyCap as FrequencyCapSchema,
  isQuietTime,
  nextAllowedSendTime,
  type FrequencyCap,
  type QuietHours,
} from "./index.ts";

const H = 3_600_000;
const quiet: QuietHours = {
  start: "21:00",
  end: "08:00",
  mode: "hold",
  channels: ["email", "sms", "push"],
};

describe("quiet hours", () => {
  it("wrap past midnight in the recipient's zone", () => {
    expect(isQuietTime(quiet, "UTC", Date.UTC(2025, 0, 6, 22))).toBe(true);
    expect(isQuietTime(quiet, "UTC", Date.UTC(2025, 0, 6, 7, 59))).toBe(true);
    expect(isQuietTime(quiet, "UTC", Date.UTC(2025, 0, 6, 8))).toBe(false);
    expect(isQuietTime(quiet, "UTC", Date.UTC(2025, 0, 6, 20, 59))).toBe(false);
    // 20:00 UTC is 21:00 in Berlin (winter).
    expect(isQuietTime(quiet, "Europe/Berlin", Date.UTC(2025, 0, 6, 20))).toBe(true);
  });

  it("nextAllowedSendTime is now outside quiet hours, else their local end", () => {
    const noon = Date.UTC(2025, 0, 6, 12);
    expect(nextAllowedSendTime(quiet, "UTC", noon)).toBe(noon);
    expect(nextAllowedSendTime(quiet, "Europe/Berlin", Date.UTC(2025, 0, 6, 23))).toBe(
      Date.UTC(2025, 0, 7, 7),
    );
    expect(nextAllowedSendTime(null, "UTC", noon)).toBe(noon);
  });

  it("a same-hour daytime window works too", () => {
    const lunch: QuietHours = { ...quiet, start: "12:00", end: "13:00" };
    expect(nextAllowedSendTime(lunch, "UTC", Date.UTC(2025, 0, 6, 12, 30))).toBe(
      Date.UTC(2025, 0, 6, 13),
    );
  });
});

describe("frequency cap", () => {
  const cap: FrequencyCap = {
    max: 2,
    period: { amount: 1, unit: "days" },
    channels: ["email"],
    onCap: "skip",
  };
  it("allows at most N messages per channel per period", () => {
    const now = Date.UTC(2025, 0, 6, 12);
    expect(frequencyCapAllows(cap, "email", [now - H], now)).toBe(true);
    expect(frequencyCapAllows(cap, "email", [now - H, now - 2 * H], now)).toBe(false);
    expect(frequencyCapAllows(cap, "email", [now - 25 * H, now - 2 * H], now)).toBe(true);
    expect(frequencyCapAllows(cap, "sms", [now - H, now - 2 * H, now - 3 * H], now)).toBe(true);
  });

  it("onCap defaults to skip, so documents stored before it existed stay valid", () => {
    expect(FrequencyCapSchema.parse({ max: 1, period: { amount: 1, unit: "days" } }).onCap).toBe(
      "skip",
    );
    expect(
      FrequencyCapSchema.parse({ max: 1, period: { amount: 1, unit: "days" }, onCap: "delay" })
        .onCap,
    ).toBe("delay");
    expect(
      FrequencyCapSchema.safeParse({ max: 1, period: { amount: 1, unit: "days" }, onCap: "drop" })
        .success,
    ).toBe(false);
  });

  it("frequencyCapReleaseAt: when enough counted messages have left the period", () => {
    const now = Date.UTC(2025, 0, 6, 12);
    const D = 24 * H;
    expect(frequencyCapReleaseAt(cap, "email", [now - H], now)).toBe(now);
    expect(frequencyCapReleaseAt(cap, "email", [now - H, now - 2 * H], now)).toBe(now - 2 * H + D);
    // Three counted under a cap of 2 (the cap was lowered): the second oldest must leave too.
    expect(frequencyCapReleaseAt(cap, "email", [now - H, now - 3 * H, now - 2 * H], now)).toBe(
      now - 2 * H + D,
    );
    // At the release instant one more fits.
    const at = frequencyCapReleaseAt(cap, "email", [now - H, now - 2 * H], now);
    expect(frequencyCapAllows(cap, "email", [now - H, now - 2 * H], at)).toBe(true);
    expect(frequencyCapAllows(cap, "email", [now - H, now - 2 * H], at - 1)).toBe(false);
  });
});

describe("entry rules", () => {
  const none = { entries: 0, active: false, lastEnteredAt: null };
  const before = { entries: 1, active: false, lastEnteredAt: 1000 };
  it("once ever", () => {
    const rules = EntryRules.parse({});
    expect(entryDecision(rules, none, 0)).toEqual({ ok: true });
    expect(entryDecision(rules, before, 5000)).toEqual({ ok: false, reason: "enteredBefore" });
  });
  it("again after exit, never two runs at once, up to a maximum", () => {
    const rules = EntryRules.parse({ mode: "afterExit", maxEntries: 2 });
    expect(entryDecision(rules, before, 5000)).toEqual({ ok: true });
    expect(entryDecision(rules, { ...before, active: true }, 5000)).toEqual({
      ok: false,
      reason: "activeRun",
    });
    expect(entryDecision(rules, { ...before, entries: 2 }, 5000)).toEqual({
      ok: false,
      reason: "maxEntries",
    });
  });
  it("again after a cool-down", () => {
    const rules = EntryRules.parse({
      mode: "afterCooldown",
      cooldown: { amount: 1, unit: "hours" },
    });
    expect(entryDecision(rules, before, 1000 + H - 1)).toEqual({
      ok: false,
      reason: "coolingDown",
      retryAt: 1000 + H,
    });
    expect(entryDecision(rules, before, 1000 + H)).toEqual({ ok: true });
    expect(EntryRules.safeParse({ mode: "afterCooldown" }).success).toBe(false);
  });

  describe("per value of a trigger property (issue 14: one entry per machine serial)", () => {
    const rules = EntryRules.parse({ perValueOf: "serial" });
    it("counts entries by the trigger's value, trimmed; numbers and booleans as text", () => {
      expect(entryKeyOf(rules, { serial: "  SN-1 " })).toEqual({ ok: true, key: "SN-1" });
      expect(entryKeyOf(rules, { serial: 1042 })).toEqual({ ok: true, key: "1042" });
      expect(
        entryKeyOf(EntryRules.parse({ perValueOf: "machine.serial" }), {
          machine: { serial: "B" },
        }),
      ).toEqual({ ok: true, key: "B" });
      // A dotted name that is itself a property wins over the path (as in conditions).
      expect(
        entryKeyOf(EntryRules.parse({ perValueOf: "a.b" }), { "a.b": "x", a: { b: "y" } }),
      ).toEqual({ ok: true, key: "x" });
    });
    it("without the setting, one count per customer: the key is empty whatever the trigger", () => {
      expect(EntryRules.parse({}).perValueOf).toBe(null);
      expect(entryKeyOf(EntryRules.parse({}), { serial: "SN-1" })).toEqual({ ok: true, key: "" });
      expect(entryKeyOf(EntryRules.parse({}), null)).toEqual({ ok: true, key: "" });
    });
    it("a trigger without a usable value is refused, saying why", () => {
      const detail = (p: Record<string, unknown> | null) => {
        const k = entryKeyOf(rules, p);
        return k.ok ? null : [k.reason, k.detail];
      };
      expect(detail({})).toEqual([
        "noEntryValue",
        "entry rule: counts entries per serial, and the trigger has no serial",
      ]);
      expect(detail(null)?.[1]).toMatch(/has no serial$/);
      expect(detail({ serial: null })?.[1]).toMatch(/has no serial$/);
      expect(detail({ serial: "   " })?.[1]).toMatch(/serial is empty$/);
      expect(detail({ serial: ["a", "b"] })?.[1]).toMatch(/not a single value$/);
      expect(detail({ serial: { id: 1 } })?.[1]).toMatch(/not a single value$/);
      expect(detail({ serial: Number.NaN })?.[1]).toMatch(/not a single value$/);
      expect(detail({ serial: "x".repeat(201) })?.[1]).toMatch(/longer than 200 characters$/);
      expect(entryKeyOf(rules, { serial: "x".repeat(200) }).ok).toBe(true);
    });
    it("the decision itself is per value: the engine passes the history of this value's runs", () => {
      // Machine A entered before; machine B has no runs: B enters, a repeat of A does not.
      expect(entryDecision(rules, none, 0)).toEqual({ ok: true });
      expect(entryDecision(rules, before, 5000)).toEqual({ ok: false, reason: "enteredBefore" });
      const again = EntryRules.parse({ perValueOf: "serial", mode: "afterExit", maxEntries: 2 });
      expect(entryDecision(again, { ...before, active: true }, 5000)).toMatchObject({
        reason: "activeRun",
      });
    });
    it("the setting is checked, in a marketer's words", () => {
      const message = (perValueOf: unknown) => {
        const r = JourneySettings.safeParse({ entry: { perValueOf } });
        return r.success ? null : r.error.issues.map((i) => [i.path.join("."), i.message]);
      };
      expect(message("serial")).toBe(null);
      expect(message(" product.serial ")).toBe(null);
      expect(JourneySettings.parse({ entry: { perValueOf: " serial " } }).entry.perValueOf).toBe(
        "serial",
      );
      for (const bad of ["", "   ", "serial number", "a..b", ".serial", 42])
        expect(message(bad), String(bad)).toEqual([
          [
            "entry.perValueOf",
            "Name the trigger event's property to count entries by, e.g. serial or product.serial.",
          ],
        ]);
      expect(message("x".repeat(101))?.[0]?.[1]).toBe(
        "Keep the property name under 100 characters.",
      );
    });
  });

  it("validate() says when the trigger cannot carry the value entries are counted by", () => {
    const journey = (fields: string[], trigger = "trigger.form") =>
      draftFromSteps(
        [
          {
            id: "t",
            type: trigger as "trigger.form",
            data:
              trigger === "trigger.form"
                ? { form: "registration", fields }
                : { conditions: [{ property: "plan", op: "eq", value: "gold" }], match: "all" },
            next: "x",
          },
          { id: "x", type: "flow.exit" },
        ],
        { entry: { perValueOf: "serial" } },
      );
    const issues = (d: ReturnType<typeof journey>) =>
      validate(d).filter((i) => i.field === "settings.entry.perValueOf");
    expect(issues(journey(["serial", "email"]))).toEqual([]);
    expect(issues(journey(["email"]))).toEqual([
      expect.objectContaining({
        code: "settings.entry_value_not_in_trigger",
        message: expect.stringContaining('doesn\'t carry "serial", so no one could enter'),
      }),
    ]);
    expect(issues(journey([], "trigger.segment"))[0]?.message).toMatch(
      /doesn't start from an event, so there is no "serial"/,
    );
  });
});
