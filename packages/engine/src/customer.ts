import type { Database } from "@postpath/db";
import type { CustomerSnapshot } from "@postpath/journey";

export interface CustomerRow {
  id: string;
  externalId: string;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  attributes: unknown;
  tags: string[];
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function toSnapshot(c: CustomerRow): CustomerSnapshot {
  return {
    id: c.id,
    externalId: c.externalId,
    email: c.email,
    phone: c.phone,
    timezone: c.timezone,
    attributes: asRecord(c.attributes),
    tags: c.tags,
  };
}

export { asRecord };

interface PageArgs {
  workspaceId: string;
  /** Keyset cursor: the last id of the previous page (null: from the start). */
  after: string | null;
  limit: number;
  /** Only the customers whose externalId or email is listed. */
  externalIds?: string[];
}

/**
 * One keyset page of a workspace's customers, in id order, in plain SQL on the bulk-enrolment
 * path (no ORM mapping of thousands of rows per page). Each shape of filter is its own prepared
 * statement: one statement with `$2 IS NULL OR id > $2` gets a generic plan that cannot seek to the
 * cursor, so every page read the whole workspace again (O(customers) per page).
 */
function pageQuery(
  shape: "full" | "attributes" | "ids",
  columns: string,
  a: PageArgs,
): [sql: string, params: unknown[], name: string] {
  const byIds = a.externalIds !== undefined;
  return [
    `SELECT ${columns} FROM "Customer"
     WHERE "workspaceId" = $1 AND id > $2${byIds ? ` AND ("externalId" = ANY($4) OR email = ANY($4))` : ""}
     ORDER BY id LIMIT $3`,
    // "" sorts before every id, so the first page needs no statement of its own.
    [a.workspaceId, a.after ?? "", a.limit, ...(byIds ? [a.externalIds] : [])],
    // Postgres keeps 63 bytes of a statement name: short names, one per shape and filter.
    `engine.customerPage.${shape}${byIds ? ".byExternalId" : ""}`,
  ];
}

export async function customerPage(
  db: Pick<Database, "query">,
  args: PageArgs,
): Promise<CustomerSnapshot[]> {
  const [sql, params, name] = pageQuery(
    "full",
    `id, "externalId", email, phone, timezone, attributes, tags`,
    args,
  );
  const rows = await db.query<CustomerRow>(sql, params, { prepare: name });
  return rows.map(toSnapshot);
}

/** The same page, ids and attributes only: a segment that reads no `customer.*` field needs no more. */
export async function customerAttributePage(
  db: Pick<Database, "query">,
  args: PageArgs,
): Promise<{ id: string; attributes: Record<string, unknown> }[]> {
  const [sql, params, name] = pageQuery("attributes", "id, attributes", args);
  const rows = await db.query<{ id: string; attributes: unknown }>(sql, params, { prepare: name });
  return rows.map((r) => ({ id: r.id, attributes: asRecord(r.attributes) }));
}

/** The same page, ids only (an index-only scan): enrolment without a segment reads no profiles. */
export async function customerIdPage(
  db: Pick<Database, "query">,
  args: PageArgs,
): Promise<string[]> {
  const [sql, params, name] = pageQuery("ids", "id", args);
  const rows = await db.query<{ id: string }>(sql, params, { prepare: name });
  return rows.map((r) => r.id);
}
