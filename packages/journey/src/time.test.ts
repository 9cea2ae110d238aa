import { describe, expect, it } from "vitest";
import { addCalendar, localParts, nextLocalTime, readInstant, zonedToEpoch } from "./time.ts";

describe("time zones without a date library", () => {
  it("converts wall-clock time to instants, DST included", () => {
    expect(zonedToEpoch({ year: 2025, month: 1, day: 15, hour: 10 }, "Europe/Berlin")).toBe(
      Date.UTC(2025, 0, 15, 9),
    );
    expect(zonedToEpoch({ year: 2025, month: 7, day: 15, hour: 10 }, "Europe/Berlin")).toBe(
      Date.UTC(2025, 6, 15, 8),
    );
    expect(zonedToEpoch({ year: 2025, month: 7, day: 15, hour: 10 }, "Asia/Kolkata")).toBe(
      Date.UTC(2025, 6, 15, 4, 30),
    );
  });

  it("moves a time skipped by DST forward and picks the first of a repeated time", () => {
    // 30 March 2025: 02:00 → 03:00 in Berlin; 02:30 does not exist.
    expect(
      zonedToEpoch({ year: 2025, month: 3, day: 30, hour: 2, minute: 30 }, "Europe/Berlin"),
    ).toBe(Date.UTC(2025, 2, 30, 1, 30));
    // 26 October 2025: 03:00 → 02:00; 02:30 happens twice, first at 00:30 UTC.
    expect(
      zonedToEpoch({ year: 2025, month: 10, day: 26, hour: 2, minute: 30 }, "Europe/Berlin"),
    ).toBe(Date.UTC(2025, 9, 26, 0, 30));
  });

  it("reads local parts and weekdays", () => {
    expect(localParts(Date.UTC(2025, 0, 6, 23, 30), "Asia/Tokyo")).toEqual({
      year: 2025,
      month: 1,
      day: 7,
      hour: 8,
      minute: 30,
      second: 0,
      weekday: 2,
    });
  });

  it("adds calendar units, clamping month ends", () => {
    expect(addCalendar({ year: 2025, month: 1, day: 31 }, { amount: 1, unit: "months" })).toEqual({
      year: 2025,
      month: 2,
      day: 28,
    });
    expect(addCalendar({ year: 2024, month: 2, day: 29 }, { amount: 1, unit: "years" })).toEqual({
      year: 2025,
      month: 2,
      day: 28,
    });
    expect(addCalendar({ year: 2025, month: 3, day: 1 }, { amount: -3, unit: "days" })).toEqual({
      year: 2025,
      month: 2,
      day: 26,
    });
    expect(addCalendar({ year: 2025, month: 12, day: 30 }, { amount: 1, unit: "weeks" })).toEqual({
      year: 2026,
      month: 1,
      day: 6,
    });
  });

  it("finds the next local time (today if still ahead, else tomorrow)", () => {
    expect(nextLocalTime(Date.UTC(2025, 0, 6, 7, 0), "UTC", "09:00")).toBe(
      Date.UTC(2025, 0, 6, 9, 0),
    );
    expect(nextLocalTime(Date.UTC(2025, 0, 6, 9, 0), "UTC", "09:00")).toBe(
      Date.UTC(2025, 0, 6, 9, 0),
    );
    expect(nextLocalTime(Date.UTC(2025, 0, 6, 9, 1), "UTC", "09:00")).toBe(
      Date.UTC(2025, 0, 7, 9, 0),
    );
  });

  it("reads stored dates: date-only and offset-less as local, others as instants", () => {
    expect(readInstant("2025-05-01", "America/New_York")).toBe(Date.UTC(2025, 4, 1, 4));
    expect(readInstant("2025-05-01T08:00", "America/New_York")).toBe(Date.UTC(2025, 4, 1, 12));
    expect(readInstant("2025-05-01T08:00:00+02:00", "America/New_York")).toBe(
      Date.UTC(2025, 4, 1, 6),
    );
    expect(readInstant(1_700_000_000_000, "UTC")).toBe(1_700_000_000_000);
    expect(readInstant("2025-02-30", "UTC")).toBeNull();
    expect(readInstant("soon", "UTC")).toBeNull();
  });
});
