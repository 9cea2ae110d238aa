// Which event names anything in a workspace reacts to once an event is processed (issue 14: a
// personal-page visit's `purl_visited` event is stored already processed — no worker job, one
// Event write instead of an insert and an update — when nothing listens for it; issue 15: so is
// an ingested track call's, group-commit.ts).
//
// The consumers of a processed event are exactly what `processEventBatch` (events.ts) does with
// it; a name is listened for when any of them can use it:
//   - triggers: a journey version whose `triggerEvent` is the name (enrolment, earlier-first);
//   - runs in flight: goals, exit criteria and parked wait-for-event steps (`listenedEvents` of a
//     version's plan) — every version counts, not only live ones, since runs on superseded
//     versions, paused or archived journeys may still be waiting;
//   - attribution (attribution.ts): a version's conversion event (`attributionConfig`), and
//     orders (with the KPI rollups, kpi-rollups.ts): the workspace's purchase event and
//     Segment's "Order Completed";
//   - saved segments, lifecycle stages included (segments.ts `refreshSegmentsForEvents`): the
//     event names a segment's rules read (`dependenciesOf`; a segment that includes another reads
//     through it, so a name read by none directly is read by none).
// A version whose plan cannot be read listens for everything (its run jobs would report it).
// A consumer added to processEventBatch must be added here.
//
// Cached per workspace with the workspace's stamp (versions: count and latest publish;
// segments: count and latest change; the analytics settings' digest), read before the names. The
// statement that stores an event processed compares the stamp in Postgres (`LISTENER_STAMP`), so
// a journey published or a segment saved by any process since the names were read makes the
// event go the ordinary way; entries older than LISTENERS_MAX_AGE_MS are not used at all, and
// are read again in the background (meanwhile events are processed as always). When in doubt,
// process.
import { attributionConfig, AnalyticsSettings, SEGMENT_ORDER_EVENT } from "./attribution.ts";
import { dependenciesOf, listenedEvents } from "@postpath/journey";
import type { EngineContext } from "./context.ts";
import { asRecord } from "./customer.ts";
import { loadPlan } from "./plans.ts";
import { loadSegments } from "./segments.ts";

/** A cached entry is used this long; after half of it, it is read again in the background. */
export const LISTENERS_MAX_AGE_MS = 10_000;

/**
 * SQL for a workspace's listener stamp, given the SQL expression naming the workspace id: what
 * changes when a journey version is published or removed, a saved segment is created, changed or
 * removed, or the analytics settings change.
 */
export const LISTENER_STAMP = (ws: string) => `(
  (SELECT count(*)::text || '/' || coalesce(max("publishedAt")::text, '')
     FROM "JourneyVersion" WHERE "workspaceId" = ${ws})
  || '|' || (SELECT count(*)::text || '/' || coalesce(max("updatedAt")::text, '')
     FROM "Segment" WHERE "workspaceId" = ${ws})
  || '|' || coalesce((SELECT md5(coalesce(settings -> 'analytics', 'null'::jsonb)::text)
     FROM "Workspace" WHERE id = ${ws}), ''))`;

export interface EventListeners {
  /** The stamp read before the names. */
  stamp: string;
  /** Event names something reacts to; null: everything (a plan could not be read). */
  names: ReadonlySet<string> | null;
  /** When it was read (Date.now()). */
  at: number;
}

interface Slot {
  entry?: EventListeners;
  loading?: Promise<EventListeners>;
}
const caches = new WeakMap<EngineContext, Map<string, Slot>>();

function slotOf(ctx: EngineContext, workspaceId: string): Slot {
  let m = caches.get(ctx);
  if (!m) caches.set(ctx, (m = new Map<string, Slot>()));
  let s = m.get(workspaceId);
  if (!s) m.set(workspaceId, (s = {}));
  return s;
}

/** Reads a workspace's listened event names (not cached; see the header). */
export async function readEventListeners(
  ctx: EngineContext,
  workspaceId: string,
): Promise<EventListeners> {
  const at = Date.now();
  // The stamp first: a change after it changes the stamp, so names read later are never newer
  // than a stamp that says "unchanged".
  const [head] = await ctx.db.query<{ stamp: string; settings: unknown }>(
    `SELECT ${LISTENER_STAMP("$1")} AS stamp, (SELECT settings FROM "Workspace" WHERE id = $1) AS settings`,
    [workspaceId],
  );
  const stamp = head?.stamp ?? "";
  const parsed = AnalyticsSettings.safeParse(asRecord(asRecord(head?.settings).analytics));
  const settings = parsed.success ? parsed.data : AnalyticsSettings.parse({});
  const names = new Set<string>([settings.purchaseEvent, SEGMENT_ORDER_EVENT]);
  const versions = await ctx.db.query<{
    id: string;
    journeyId: string;
    triggerEvent: string | null;
  }>(`SELECT id, "journeyId", "triggerEvent" FROM "JourneyVersion" WHERE "workspaceId" = $1`, [
    workspaceId,
  ]);
  for (const v of versions) {
    if (v.triggerEvent) names.add(v.triggerEvent);
    let plan;
    try {
      plan = await loadPlan(ctx, v.id);
    } catch {
      return { stamp, names: null, at };
    }
    for (const n of listenedEvents(plan)) names.add(n);
    names.add(attributionConfig(plan, settings, { versionId: v.id, journeyId: v.journeyId }).event);
  }
  for (const s of await loadSegments(ctx, workspaceId, true))
    for (const n of dependenciesOf(s.definition).events) names.add(n);
  return { stamp, names, at };
}

function load(ctx: EngineContext, workspaceId: string, slot: Slot): Promise<EventListeners> {
  slot.loading ??= readEventListeners(ctx, workspaceId)
    .then((entry) => {
      slot.entry = entry;
      return entry;
    })
    .finally(() => {
      slot.loading = undefined;
    });
  return slot.loading;
}

/**
 * The workspace's listeners, read now unless a fresh entry is cached (also when a read is under
 * way: that one is awaited).
 */
export async function eventListeners(
  ctx: EngineContext,
  workspaceId: string,
): Promise<EventListeners> {
  const slot = slotOf(ctx, workspaceId);
  if (slot.loading) return slot.loading;
  if (slot.entry && Date.now() - slot.entry.at < LISTENERS_MAX_AGE_MS / 2) return slot.entry;
  return load(ctx, workspaceId, slot);
}

/**
 * Without waiting: the workspaces whose cached entry is fresh and says nothing listens for
 * `name`, with the stamps under which such an event may be stored processed. The statement that
 * stores the event must compare each stamp in Postgres (LISTENER_STAMP). Stale entries are
 * dropped here; `keepFresh` reads them again for the workspaces in use.
 */
export function quietStamps(
  ctx: EngineContext,
  name: string,
): { workspaces: string[]; stamps: string[] } {
  const workspaces: string[] = [];
  const stamps: string[] = [];
  const m = caches.get(ctx);
  if (!m) return { workspaces, stamps };
  const now = Date.now();
  for (const [ws, slot] of m) {
    const e = slot.entry;
    if (e && now - e.at >= LISTENERS_MAX_AGE_MS) slot.entry = undefined;
    else if (e && e.names !== null && !e.names.has(name)) {
      workspaces.push(ws);
      stamps.push(e.stamp);
    }
    if (!slot.entry && !slot.loading) m.delete(ws);
  }
  return { workspaces, stamps };
}

/**
 * Without waiting: the stamp under which an event `name` of `workspaceId` may be stored processed
 * (the workspace's cached entry is fresh and nothing listens for the name), else null. As with
 * quietStamps, the statement that stores the event compares the stamp in Postgres.
 */
export function quietStamp(ctx: EngineContext, workspaceId: string, name: string): string | null {
  const e = caches.get(ctx)?.get(workspaceId)?.entry;
  if (!e || e.names === null || e.names.has(name)) return null;
  return Date.now() - e.at < LISTENERS_MAX_AGE_MS ? e.stamp : null;
}

/**
 * Without waiting: the workspaces just in use get their entry read in the background when it is
 * missing or past half its age (so a busy workspace's entry is renewed before it expires), and
 * at once when a statement found its stamp `changed`.
 */
export function keepFresh(
  ctx: EngineContext,
  workspaceIds: Iterable<string>,
  changed: Iterable<string> = [],
): void {
  const now = Date.now();
  for (const ws of changed) {
    const slot = caches.get(ctx)?.get(ws);
    if (slot) slot.entry = undefined;
  }
  for (const ws of new Set([...workspaceIds, ...changed])) {
    const slot = slotOf(ctx, ws);
    if (slot.loading || (slot.entry && now - slot.entry.at < LISTENERS_MAX_AGE_MS / 2)) continue;
    load(ctx, ws, slot).catch((err: unknown) =>
      ctx.log.warn(
        { workspaceId: ws, error: err instanceof Error ? err.message : String(err) },
        "event listeners not read; the events are processed as usual",
      ),
    );
  }
}
