// The workspace's catalogue for validate(): the customer attributes and event properties it has
// actually observed, so a template reading `{{ frist_name }}` gets a warning; and for the editor's
// pickers (issue 16) the kinds of value and a few examples of each, and each event's share of the
// sample. Built from bounded
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

/** Example values per attribute or event property (the most common in the sample first). */
export const MAX_EXAMPLES = 3;
/** Example values are cut to this many characters. */
export const EXAMPLE_CHARS = 60;
/** At most this many event properties are described (types, examples) over all events. */
export const MAX_DESCRIBED_PROPERTIES = 2_000;

/** What the editor's pickers show about one attribute or event property, from the samples. */
export type FieldDetail = {
  /** The kinds of value seen, the most common first: "string", "number", "boolean", "date" (a
   * string starting YYYY-MM-DD), "array", "object", "null". */
  types: string[];
  /** Up to MAX_EXAMPLES distinct values as text (strings, numbers, booleans only), the most
   * common first, each at most EXAMPLE_CHARS characters. */
  examples: string[];
};

/** The pickers' details: absent parts were not observed. Bounded by the samples and the caps. */
export type CatalogDetails = {
  attributeDetails?: Record<string, FieldDetail>;
  /** Per event name: how many of the sampled events (`eventSample`) had it, and its properties. */
  eventDetails?: Record<string, { sampled: number; properties: Record<string, FieldDetail> }>;
  /** How many events were sampled for `eventDetails` (the counts are out of this). */
  eventSample?: number;
};

/** What the editor lists: the catalogue validate() checks against, the pickers' details, and
 * the customer's fields. */
export type WorkspaceCatalog = ObservedCatalog &
  CatalogDetails & {
    /** The built-in `customer.<field>`s (attributes are read as `<name>` and `customer.<name>`). */
    customerFields: string[];
  };

type Entry<T> = { at: number; value: Promise<T> };
/** Per Prisma client (tests run several databases in one process), then per workspace. */
type Caches<T> = WeakMap<object, Map<string, Entry<T>>>;
const caches: Caches<ObservedCatalog> = new WeakMap();
const detailCaches: Caches<CatalogDetails> = new WeakMap();

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

/** `build()`'s answer for this workspace, cached for CATALOG_TTL_MS; concurrent callers share one
 * query, and a failed query is not remembered. */
function cached<T>(
  all: Caches<T>,
  prisma: Prisma.TransactionClient,
  workspaceId: string,
  now: number,
  build: () => Promise<T>,
): Promise<T> {
  let cache = all.get(prisma);
  if (!cache) {
    cache = new Map();
    all.set(prisma, cache);
  }
  const hit = cache.get(workspaceId);
  if (hit && now - hit.at < CATALOG_TTL_MS) return hit.value;
  cache.delete(workspaceId);
  if (cache.size >= MAX_CACHED_WORKSPACES) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  const value = build();
  cache.set(workspaceId, { at: now, value });
  // A failed query is not remembered: the next call tries again.
  value.catch(() => {
    if (cache.get(workspaceId)?.value === value) cache.delete(workspaceId);
  });
  return value;
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
  return cached(caches, prisma, workspaceId, now, () => build(prisma, workspaceId));
}

type DetailRow = { key: string; types: string[]; examples: string[] };

async function buildDetails(
  prisma: Prisma.TransactionClient,
  workspaceId: string,
): Promise<CatalogDetails> {
  // One row per (key, value) in the samples: the value's kind and, for scalars, its text; grouped
  // once per (key, kind, value), then types and examples per key by joins (no subquery per key).
  const [attributes, events] = await Promise.all([
    prisma.$queryRaw<DetailRow[]>`
      WITH kv AS (
        SELECT k.key,
               CASE WHEN jsonb_typeof(k.value) = 'string'
                     AND (k.value #>> '{}') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
                    THEN 'date' ELSE jsonb_typeof(k.value) END AS type,
               CASE WHEN jsonb_typeof(k.value) IN ('string', 'number', 'boolean')
                    THEN left(k.value #>> '{}', ${EXAMPLE_CHARS}) END AS example
        FROM (
          SELECT attributes FROM "Customer"
          WHERE "workspaceId" = ${workspaceId}
          LIMIT ${CUSTOMER_SAMPLE}
        ) c
        CROSS JOIN LATERAL jsonb_each(
          CASE WHEN jsonb_typeof(c.attributes) = 'object' THEN c.attributes ELSE '{}'::jsonb END
        ) AS k(key, value)
      ),
      -- One pass over the sample: each (key, kind, value) once, with how often it was seen.
      g AS (SELECT key, type, example, count(*) AS n FROM kv GROUP BY key, type, example),
      keys AS (SELECT DISTINCT key FROM g ORDER BY key LIMIT ${MAX_NAMES}),
      types AS (
        SELECT key, array_agg(type ORDER BY n DESC, type) AS types
        FROM (SELECT key, type, sum(n) AS n FROM g JOIN keys USING (key) GROUP BY key, type) t
        GROUP BY key
      ),
      examples AS (
        SELECT key, array_agg(example ORDER BY r) AS examples
        FROM (
          SELECT key, example,
                 row_number() OVER (PARTITION BY key ORDER BY sum(n) DESC, example) AS r
          FROM g JOIN keys USING (key)
          WHERE example IS NOT NULL AND example <> ''
          GROUP BY key, example
        ) x
        WHERE r <= ${MAX_EXAMPLES}
        GROUP BY key
      )
      SELECT keys.key, types.types, COALESCE(examples.examples, '{}') AS examples
      FROM keys JOIN types USING (key) LEFT JOIN examples USING (key)
      ORDER BY keys.key`,
    prisma.$queryRaw<(Partial<DetailRow> & { name: string; sampled: number; total: number })[]>`
      WITH e AS (
        SELECT name, properties FROM "Event"
        WHERE "workspaceId" = ${workspaceId}
        LIMIT ${EVENT_SAMPLE}
      ),
      names AS (
        SELECT name, count(*)::int AS sampled FROM e GROUP BY name ORDER BY name LIMIT ${MAX_NAMES}
      ),
      kv AS (
        SELECT e.name, k.key,
               CASE WHEN jsonb_typeof(k.value) = 'string'
                     AND (k.value #>> '{}') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
                    THEN 'date' ELSE jsonb_typeof(k.value) END AS type,
               CASE WHEN jsonb_typeof(k.value) IN ('string', 'number', 'boolean')
                    THEN left(k.value #>> '{}', ${EXAMPLE_CHARS}) END AS example
        FROM e JOIN names USING (name)
        CROSS JOIN LATERAL jsonb_each(
          CASE WHEN jsonb_typeof(e.properties) = 'object' THEN e.properties ELSE '{}'::jsonb END
        ) AS k(key, value)
      ),
      g AS (
        SELECT name, key, type, example, count(*) AS n FROM kv GROUP BY name, key, type, example
      ),
      pairs AS (
        SELECT name, key FROM g GROUP BY name, key ORDER BY name, key
        LIMIT ${MAX_DESCRIBED_PROPERTIES}
      ),
      types AS (
        SELECT name, key, array_agg(type ORDER BY n DESC, type) AS types
        FROM (
          SELECT name, key, type, sum(n) AS n
          FROM g JOIN pairs USING (name, key) GROUP BY name, key, type
        ) t
        GROUP BY name, key
      ),
      examples AS (
        SELECT name, key, array_agg(example ORDER BY r) AS examples
        FROM (
          SELECT name, key, example,
                 row_number() OVER (PARTITION BY name, key ORDER BY sum(n) DESC, example) AS r
          FROM g JOIN pairs USING (name, key)
          WHERE example IS NOT NULL AND example <> ''
          GROUP BY name, key, example
        ) x
        WHERE r <= ${MAX_EXAMPLES}
        GROUP BY name, key
      )
      SELECT names.name, names.sampled, (SELECT count(*)::int FROM e) AS total,
             pairs.key, types.types, COALESCE(examples.examples, '{}') AS examples
      FROM names
      LEFT JOIN pairs USING (name)
      LEFT JOIN types USING (name, key)
      LEFT JOIN examples USING (name, key)
      ORDER BY names.name, pairs.key`,
  ]);
  const eventDetails: NonNullable<CatalogDetails["eventDetails"]> = {};
  for (const row of events) {
    const event = (eventDetails[row.name] ??= { sampled: row.sampled, properties: {} });
    if (row.key && row.types) {
      event.properties[row.key] = { types: row.types, examples: row.examples ?? [] };
    }
  }
  return {
    ...(attributes.length > 0
      ? {
          attributeDetails: Object.fromEntries(
            attributes.map((a) => [a.key, { types: a.types, examples: a.examples }]),
          ),
        }
      : {}),
    ...(events.length > 0 ? { eventDetails, eventSample: events[0]?.total ?? 0 } : {}),
  };
}

/** The pickers' details (types, examples, event counts) for this workspace; cached as above. */
export function catalogDetails(
  prisma: Prisma.TransactionClient,
  workspaceId: string,
  now: number = Date.now(),
): Promise<CatalogDetails> {
  return cached(detailCaches, prisma, workspaceId, now, () => buildDetails(prisma, workspaceId));
}

/** What `journeys.catalog` returns: the catalogue, the pickers' details and the customer's
 * built-in fields. */
export async function editorCatalog(
  prisma: Prisma.TransactionClient,
  workspaceId: string,
): Promise<WorkspaceCatalog> {
  const [observed, details] = await Promise.all([
    workspaceCatalog(prisma, workspaceId),
    catalogDetails(prisma, workspaceId),
  ]);
  return { ...observed, ...details, customerFields: [...CUSTOMER_FIELDS] };
}
