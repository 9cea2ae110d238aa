// issue 15: "Event" is partitioned by month of "receivedAt" and keyed by (id, "receivedAt"). A
// statement that names events by id alone looks into every month (each month's key index, for
// every id): with 28 months, 7–9 ms for 250 events, against 1.0–1.4 ms when the statement also
// names a range of their receivedAt, which lets Postgres read only the months in it. Events stored
// together were received within milliseconds of each other, so their range is one month (two
// across a month's end). Ingest hands the range to the events worker with the job
// (`EventJob.received`); the worker's later statements take it from the rows they read.

import { z } from "zod";

/**
 * A range of events' "receivedAt", epoch milliseconds, both ends included. Part of events jobs:
 * fields a newer release adds are stripped, not refused (queues.ts EventJob).
 */
export const ReceivedRange = z
  .object({ from: z.number().finite(), to: z.number().finite() })
  .refine((r) => r.from <= r.to, { message: "from must not be after to" });
export type ReceivedRange = z.infer<typeof ReceivedRange>;

/**
 * Slack either side of the times a range is made of. The times come from Postgres as epoch
 * milliseconds (floats), and the column holds the statement's now() rounded to the millisecond: a
 * second of slack makes an off-by-rounding miss impossible and costs nothing (a month is long).
 */
const SLACK_MS = 1000;

/** The range covering `times` (epoch ms), with slack; undefined when there is none. */
export function receivedRange(
  times: Iterable<number | null | undefined>,
): ReceivedRange | undefined {
  let from = Infinity;
  let to = -Infinity;
  for (const t of times) {
    if (t === null || t === undefined || !Number.isFinite(t)) continue;
    if (t < from) from = t;
    if (t > to) to = t;
  }
  if (from > to) return undefined;
  return { from: Math.floor(from) - SLACK_MS, to: Math.ceil(to) + SLACK_MS };
}

/** A range's ends as the column's values (UTC timestamps without zone), for `$n::timestamp`. */
export function rangeParams(r: ReceivedRange): [string, string] {
  const utc = (ms: number) => new Date(ms).toISOString().slice(0, -1);
  return [utc(r.from), utc(r.to)];
}
