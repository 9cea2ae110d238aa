// Shared by the segment crash tests (issue-016-segment-commit, segment-edges): a "Buyers" saved
// segment with a journey on its entry, events inserted as ingest stores them, and a Postgres
// trigger that refuses a write — standing in for a crash at that moment.
import { SegmentDefinition } from "@postpath/journey";
import type { Prisma } from "@postpath/db";
import { forgetSegments } from "../segments.ts";
import type { EngineHarness } from "./harness.ts";

/** A saved segment of customers with a purchase, and a live journey started on its entry. */
export async function buyersWithEntryJourney(
  harness: EngineHarness,
  workspaceId = harness.workspaceId,
): Promise<{ segmentId: string; journeyId: string | null }> {
  const definition = SegmentDefinition.parse({
    rules: [{ kind: "event", event: "purchase", measure: "count", op: "gte", value: 1 }],
  });
  const seg = await harness.db.prisma.segment.create({
    data: { workspaceId, name: "Buyers", definition: definition as Prisma.InputJsonValue },
    select: { id: true },
  });
  forgetSegments(workspaceId);
  if (workspaceId !== harness.workspaceId) return { segmentId: seg.id, journeyId: null };
  const { journeyId } = await harness.publish("Thanks", [
    { id: "t", type: "trigger.segment", data: { segmentId: seg.id, on: "enter" }, next: "end" },
  ]);
  return { segmentId: seg.id, journeyId };
}

/** Events stored as ingest stores them (not processed yet). */
export async function insertEvents(
  harness: EngineHarness,
  rows: { id: string; workspaceId: string; customerId: string; name: string; at: number }[],
): Promise<void> {
  await harness.db.query(
    `WITH x AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamp[]) AS x(id, ws, c, n, t)
     ), k AS (
       INSERT INTO "EventKey" ("workspaceId", "messageId", "eventId", "receivedAt")
       SELECT ws, 'm-' || id, id, now() AT TIME ZONE 'UTC' FROM x
     )
     INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId", "receivedAt")
     SELECT id, ws, c, n, '{}'::jsonb, t, 'm-' || id, now() AT TIME ZONE 'UTC' FROM x`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.workspaceId),
      rows.map((r) => r.customerId),
      rows.map((r) => r.name),
      rows.map((r) => new Date(r.at).toISOString().slice(0, -1)),
    ],
  );
}

/**
 * Makes Postgres refuse `what` (e.g. `UPDATE OF "processedAt" ON "Event"`) with `message`;
 * returns what lifts the refusal.
 */
export async function refuse(
  harness: EngineHarness,
  name: string,
  what: string,
  message: string,
): Promise<() => Promise<void>> {
  await harness.db.query(`CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION '${message.replaceAll("'", "''")}'; END $$`);
  const on = what.slice(what.lastIndexOf(" ON ") + 4);
  await harness.db.query(
    `CREATE TRIGGER ${name} BEFORE ${what} FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  return async () => {
    await harness.db.query(`DROP TRIGGER ${name} ON ${on}`);
  };
}
