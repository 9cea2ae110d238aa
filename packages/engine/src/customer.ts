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

/**
 * One keyset page of a workspace's customers (id order, after `after`), optionally only those
 * whose externalId or email is listed: plain SQL on the bulk-enrolment path (no ORM mapping of
 * thousands of rows per page).
 */
export async function customerPage(
  db: Pick<Database, "query">,
  args: { workspaceId: string; after: string | null; limit: number; externalIds?: string[] },
): Promise<CustomerSnapshot[]> {
  const rows = await db.query<CustomerRow>(
    `SELECT id, "externalId", email, phone, timezone, attributes, tags FROM "Customer"
     WHERE "workspaceId" = $1 AND ($2::text IS NULL OR id > $2)
       AND ($4::text[] IS NULL OR "externalId" = ANY($4) OR email = ANY($4))
     ORDER BY id LIMIT $3`,
    [args.workspaceId, args.after, args.limit, args.externalIds ?? null],
    { prepare: "engine.customerPage" },
  );
  return rows.map(toSnapshot);
}
