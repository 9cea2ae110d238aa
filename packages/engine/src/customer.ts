import type { CustomerSnapshot } from "@postpath/journey";

interface CustomerRow {
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
