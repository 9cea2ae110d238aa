import { describe, expect, it } from "vitest";
import { dateTriggerDueAt, matchesTrigger } from "../index.ts";
import { customer, planOf } from "./testing.ts";

const anniversary = (data: Record<string, unknown>) =>
  planOf([
    { id: "t", type: "trigger.date", data, next: "x" },
    { id: "x", type: "flow.exit" },
  ]);

describe("trigger.date", () => {
  const plan = anniversary({
    attribute: "registered_at",
    offset: { amount: 1, unit: "years" },
    at: "10:00",
  });

  it("fires one year after registration at 10:00 in the customer's time zone", () => {
    const c = customer({
      timezone: "America/New_York",
      attributes: { registered_at: "2024-06-15" },
    });
    // 10:00 EDT = 14:00 UTC
    expect(dateTriggerDueAt(plan, c, Date.UTC(2025, 0, 1))).toBe(Date.UTC(2025, 5, 15, 14, 0));
  });

  it("uses the date the customer registered on in their zone, for a stored instant", () => {
    // 23:30 UTC on 14 June is already 15 June in Tokyo.
    const c = customer({
      timezone: "Asia/Tokyo",
      attributes: { registered_at: "2024-06-14T23:30:00Z" },
    });
    expect(dateTriggerDueAt(plan, c, Date.UTC(2025, 0, 1))).toBe(Date.UTC(2025, 5, 15, 1, 0));
  });

  it("falls back to the journey's time zone and returns null once the date has passed or is missing", () => {
    const c = customer({ timezone: "Not/AZone", attributes: { registered_at: "2024-06-15" } });
    expect(dateTriggerDueAt(plan, c, Date.UTC(2025, 0, 1))).toBe(Date.UTC(2025, 5, 15, 10, 0));
    expect(dateTriggerDueAt(plan, c, Date.UTC(2025, 6, 1))).toBeNull();
    expect(dateTriggerDueAt(plan, customer({ attributes: {} }), Date.UTC(2025, 0, 1))).toBeNull();
  });

  it("recurs yearly for birthdays, clamping 29 February", () => {
    const birthday = anniversary({ attribute: "birthday", at: "09:00", recurrence: "yearly" });
    const c = customer({ attributes: { birthday: "1992-02-29" } });
    expect(dateTriggerDueAt(birthday, c, Date.UTC(2025, 0, 1))).toBe(Date.UTC(2025, 1, 28, 9, 0));
    expect(dateTriggerDueAt(birthday, c, Date.UTC(2025, 2, 1))).toBe(Date.UTC(2026, 1, 28, 9, 0));
    expect(dateTriggerDueAt(birthday, c, Date.UTC(2027, 5, 1))).toBe(Date.UTC(2028, 1, 29, 9, 0));
  });

  it("never matches events (the scheduler enters customers)", () => {
    expect(matchesTrigger(plan, { name: "registered_at", properties: {} }, customer())).toBe(false);
  });
});
