// A range of UTC days for the figures' pages (issue 17): presets ("Last 30 days") and two date
// fields. The server checks the range and says what is wrong; the fields only bound each other.

import "./RangePicker.css";

export interface DayRange {
  /** YYYY-MM-DD, included. */
  from: string;
  /** YYYY-MM-DD, included. */
  to: string;
}

const DAY_MS = 86_400_000;
export const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The last `days` days, today included (UTC). */
export function lastDays(days: number, now = Date.now()): DayRange {
  return { from: isoDay(now - (days - 1) * DAY_MS), to: isoDay(now) };
}

export const RANGE_PRESETS = [
  { days: 7, label: "Last 7 days" },
  { days: 30, label: "Last 30 days" },
  { days: 90, label: "Last 90 days" },
  { days: 365, label: "Last 365 days" },
] as const;

export function RangePicker({
  value,
  onChange,
  presets = RANGE_PRESETS,
}: {
  value: DayRange;
  onChange: (range: DayRange) => void;
  presets?: readonly { days: number; label: string }[];
}) {
  const { from, to } = value;
  return (
    <div className="range-picker" role="group" aria-label="Range">
      {presets.map((r) => (
        <button key={r.days} type="button" onClick={() => onChange(lastDays(r.days))}>
          {r.label}
        </button>
      ))}
      <label>
        From
        <input
          type="date"
          value={from}
          max={to}
          onChange={(e) => onChange({ from: e.target.value, to })}
        />
      </label>
      <label>
        To
        <input
          type="date"
          value={to}
          min={from}
          onChange={(e) => onChange({ from, to: e.target.value })}
        />
      </label>
    </div>
  );
}
