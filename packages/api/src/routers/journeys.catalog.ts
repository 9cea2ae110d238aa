// The workspace's catalogue for validate(): the customer attributes and event properties it has
// actually observed, so a template reading `{{ frist_name }}` gets a warning. Built from bounded
// samples (never a scan of every customer or event) and cached per workspace for a minute:
// autosave validates on every pause in typing.
import type { Prisma } from "@postpath/db";
import { CUSTOMER_FIELDS } from "@postpath/journey";

/** Customers whose attribute keys are read (any of the workspace's, not the most recent: no
 * index orders them by time, and sorting them all would be the scan this avoids). */
export const CUSTOMER_SAMPLE = 2_000;
/** Events whose names and property keys are read. */
export const EVENT_SAMPLE = 5_000;
/** At most this many attribute names, event names, and properties per event. */
export const MAX_NAMES = 500;
export const CATALOG_TTL_MS = 60_000;
const MAX_CACHED_WORKSPACES = 1_000;

/** The `Catalog` validate() checks against: absent parts were not observed (not checked). */
export type ObservedCatalog = {
  attributes?: string[];
  eventProperties?: Record<string, string[]>;
};

/** What the editor lists: the catalogue validate() checks against, and the customer's fields. */
export type WorkspaceCatalog = ObservedCatalog & {
  /** The built-in `customer.<field>`s (attributes are read as `<name>` and `customer.<name>`). */
  customerFields: string[];
};

type Entry = { at: number; value: Promise<ObservedCatalog> };
/** Per Prisma client (tests run several databases in one process), then per workspace. */
const caches = new WeakMap<object, Map<string, Entry>>();

async function build(
  prisma: Prisma.TransactionClient,
  workspaceId: string,
): Promise<ObservedCatalog> {
  const [attributes, events] = await Promise.all([
    prisma.$queryRaw<{ key: string }[]>`
      SELECT DISTINCT k.key
      FROM (
        SELECT attributes FROM "Customer"
        WHERE "workspaceId" = ${workspaceId}
        LIMIT ${CUSTOMER_SAMPLE}
      ) c
      CROSS JOIN LATERAL jsonb_object_keys(
        CASE WHEN jsonb_typeof(c.attributes) = 'object' THEN c.attributes ELSE '{}'::jsonb END
      ) AS k(key)
      ORDER BY k.key
      LIMIT ${MAX_NAMES}`,
    prisma.$queryRaw<{ name: string; keys: string[] }[]>`
      SELECT e.name,
             COALESCE(array_agg(DISTINCT k.key) FILTER (WHERE k.key IS NOT NULL), '{}') AS keys
      FROM (
        SELECT name, properties FROM "Event"
        WHERE "workspaceId" = ${workspaceId}
        LIMIT ${EVENT_SAMPLE}
      ) e
      LEFT JOIN LATERAL jsonb_object_keys(
        CASE WHEN jsonb_typeof(e.properties) = 'object' THEN e.properties ELSE '{}'::jsonb END
      ) AS k(key) ON true
      GROUP BY e.name
      ORDER BY e.name
      LIMIT ${MAX_NAMES}`,
  ]);
  // Nothing observed (no customers yet, or none with attributes; no events): that part is not
  // checked, rather than a warning on every variable.
  return {
    ...(attributes.length > 0 ? { attributes: attributes.map((k) => k.key) } : {}),
    ...(events.length > 0
      ? {
          eventProperties: Object.fromEntries(
            events.map((e) => [e.name, [...e.keys].sort().slice(0, MAX_NAMES)]),
          ),
        }
      : {}),
  };
}

/**
 * The catalogue to pass to validate() for this workspace: `{}` (nothing checked) for a workspace
 * that has observed nothing yet. Cached for CATALOG_TTL_MS; concurrent callers share one query.
 */
export function workspaceCatalog(
  prisma: Prisma.TransactionClient,
  workspaceId: string,
  now: number = Date.now(),
): Promise<ObservedCatalog> {
  let cache = caches.get(prisma);
  if (!cache) {
    cache = new Map();
    caches.set(prisma, cache);
  }
  const hit = cache.get(workspaceId);
  if (hit && now - hit.at < CATALOG_TTL_MS) return hit.value;
  cache.delete(workspaceId);
  if (cache.size >= MAX_CACHED_WORKSPACES) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  const value = build(prisma, workspaceId);
  cache.set(workspaceId, { at: now, value });
  // A failed query is not remembered: the next call tries again.
  value.catch(() => {
    if (cache.get(workspaceId)?.value === value) cache.delete(workspaceId);
  });
  return value;
}

/** What `journeys.catalog` returns: the catalogue and the customer's built-in fields. */
export async function editorCatalog(
  prisma: Prisma.TransactionClient,
  workspaceId: string,
): Promise<WorkspaceCatalog> {
  return { ...(await workspaceCatalog(prisma, workspaceId)), customerFields: [...CUSTOMER_FIELDS] };
}
