import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { EngineContext } from "./context.ts";
import { eventCommitter, type IngestRow } from "./group-commit.ts";
import { identifyCommitter, type IdentifyResult, type IdentifyRow } from "./identify-commit.ts";
import { eventTime, sanitizeJson, sanitizeString } from "./sanitize.ts";

/**
 * A JSON object field of a call, made storable by sanitizeJson (lone surrogates and NUL →
 * U+FFFD; too deep or a non-finite number → an issue naming the path). Depth counts from the
 * call, as the HTTP layer counts it.
 */
const StorableJson = (field: string) =>
  z.record(z.string(), z.unknown()).transform((value, ctx) => {
    const clean = sanitizeJson(value, { path: [field], level: 2 });
    if (clean.ok) return clean.value;
    ctx.addIssue({
      code: "custom",
      message: clean.refusal.message,
      path: clean.refusal.path.slice(1),
    });
    return z.NEVER;
  });
const Text = (max: number, required?: string) =>
  z.string().min(1, required).max(max).transform(sanitizeString);

/** Segment's track call (https://segment.com/docs/connections/spec/track/), the fields we use. */
export const TrackInput = z.object({
  userId: Text(255, "userId is required"),
  event: Text(200, "event is required"),
  properties: StorableJson("properties").default({}),
  /** Out of range (before 1970, over a day ahead): the event is stored at its arrival time. */
  timestamp: z.iso.datetime({ offset: true, message: "expected an ISO-8601 date-time" }).optional(),
  messageId: Text(255).optional(),
  context: StorableJson("context").optional(),
});
export type TrackInput = z.input<typeof TrackInput>;

/** Segment's identify call: traits become customer attributes; email/phone/timezone are columns. */
export const IdentifyInput = z.object({
  userId: Text(255, "userId is required"),
  traits: StorableJson("traits").default({}),
  timestamp: z.iso.datetime({ offset: true, message: "expected an ISO-8601 date-time" }).optional(),
  messageId: Text(255).optional(),
  context: StorableJson("context").optional(),
});
export type IdentifyInput = z.input<typeof IdentifyInput>;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function columnsFromTraits(traits: Record<string, unknown>) {
  const tz = str(traits.timezone) ?? str(traits.timeZone);
  return {
    email: str(traits.email),
    phone: str(traits.phone),
    timezone: tz && isValidTimeZone(tz) ? tz : undefined,
  };
}

/**
 * Merges an identify call's traits into the customer (created if new) and queues a segment check,
 * deduplicated on messageId like track: a replay merges nothing and queues nothing, and is
 * reported as a duplicate. Through the process's identify group commit (identify-commit.ts):
 * concurrent calls share one statement. The IdentifyCall row is claimed in the same statement as
 * the merge; if the segment-check job never reached Redis (enqueuedAt still null), a replay queues
 * it under the same job id, so a client retrying after a Redis hiccup still gets it evaluated
 * exactly once.
 */
export async function identify(
  ctx: EngineContext,
  workspaceId: string,
  raw: IdentifyInput,
): Promise<IdentifyResult> {
  const [result] = await identifyMany(ctx, workspaceId, [raw]);
  return result!;
}

/**
 * Several identify calls stored all or nothing (one /v1/batch request's run of identifies): every
 * call is checked first (a ZodError names the first bad one and nothing is stored), then they are
 * merged in order with whatever else is queued. Answers in the order of the calls.
 */
export async function identifyMany(
  ctx: EngineContext,
  workspaceId: string,
  raws: readonly IdentifyInput[],
): Promise<IdentifyResult[]> {
  const rows: IdentifyRow[] = raws.map((raw) => {
    const input = IdentifyInput.parse(raw);
    const cols = columnsFromTraits(input.traits);
    return {
      workspaceId,
      userId: input.userId,
      messageId: input.messageId ?? randomUUID(),
      traits: input.traits,
      email: cols.email ?? null,
      phone: cols.phone ?? null,
      timezone: cols.timezone ?? null,
    };
  });
  return identifyCommitter(ctx).push(rows);
}

/**
 * Stores an event (deduplicated on messageId) and enqueues its processing, through the process's
 * group commit (group-commit.ts): concurrent calls share one statement and one queue round trip,
 * and the promise resolves once the event is committed. A replayed messageId stores nothing new;
 * while the event is not yet processed (`processedAt` null) it re-enqueues under its own job id,
 * so a client retrying after a Redis hiccup still gets its event processed; once processed, a
 * replay queues nothing (the sweeper re-queues events left unprocessed).
 */
export async function track(
  ctx: EngineContext,
  workspaceId: string,
  raw: TrackInput,
): Promise<{ eventId: string; duplicate: boolean }> {
  const [result] = await trackMany(ctx, workspaceId, [raw]);
  return result!;
}

/**
 * Several track calls stored all or nothing (one /v1/batch request's run of tracks): every call
 * is checked first (a ZodError names the first bad one and nothing is stored), then the group is
 * committed with whatever else is queued. Answers in the order of the calls.
 */
export async function trackMany(
  ctx: EngineContext,
  workspaceId: string,
  raws: readonly TrackInput[],
): Promise<{ eventId: string; duplicate: boolean }[]> {
  return storeTracks(
    ctx,
    workspaceId,
    raws.map((raw) => TrackInput.parse(raw)),
  );
}

/** A track call as TrackInput leaves it: sanitised, in bounds, defaults filled in. */
export type CheckedTrack = z.output<typeof TrackInput>;

/**
 * trackMany for calls already checked by the same rules — the HTTP gate's sanitizeJson and its
 * Segment schema, whose bounds are TrackInput's — so a /v1 request is not checked twice (issue 15:
 * the second check was a tenth of a /v1/track request's CPU). A value Postgres still refuses fails
 * the group (isUnstorableInput), as with trackMany.
 */
export async function storeTracks(
  ctx: EngineContext,
  workspaceId: string,
  inputs: readonly CheckedTrack[],
): Promise<{ eventId: string; duplicate: boolean }[]> {
  const now = ctx.now();
  const rows: IngestRow[] = inputs.map((input) => ({
    workspaceId,
    userId: input.userId,
    name: input.event,
    properties: input.properties,
    timestamp: eventTime(input.timestamp, now),
    messageId: input.messageId ?? randomUUID(),
  }));
  return eventCommitter(ctx).push(rows);
}
