import { describe, expect, it } from "vitest";
import {
  EntryRules,
  entryDecision,
  frequencyCapAllows,
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
});
