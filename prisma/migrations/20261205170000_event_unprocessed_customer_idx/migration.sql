-- issue 15: the events worker's earlier-first read (events.ts EARLIER_EVENTS: a customer's stored,
-- not yet processed events of a name, earlier than the batch's latest) gets an index of its own
-- over unprocessed events only. Without it Postgres walked either every unprocessed event of the
-- workspace ("Event_unprocessed_idx") or every event of that name in the workspace up to the
-- timestamp (the segment index), filtering by customer: 38 ms for a batch of 25 customers with
-- 30,000 events stored, growing with the table; 0.4 ms with this one. Events nothing listens for
-- are stored processed (group-commit.ts), so they never enter it; an event leaves it when it is
-- processed (the update already rewrote the row's index entries: "Event_unprocessed_idx" has the
-- same predicate, so the update was never HOT).
--
-- How it runs on existing data: the migration runner applies a file inside a transaction, where
-- CREATE INDEX CONCURRENTLY is refused, so this builds the index the plain way: ingest's inserts
-- wait while it reads the whole "Event" table (reads go on). On a big table, build it first from
-- psql, outside a transaction, while the application keeps writing:
--
--   CREATE INDEX CONCURRENTLY "Event_unprocessed_customer_idx" ON "Event"
--     ("workspaceId", "customerId", name, timestamp, id) WHERE "processedAt" IS NULL;
--
-- The migration then finds it (valid) and builds nothing; an INVALID leftover of a failed build
-- is dropped and built again here.
DO $$
DECLARE
  valid boolean;
BEGIN
  SELECT i.indisvalid INTO valid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE c.relname = 'Event_unprocessed_customer_idx' AND i.indrelid = '"Event"'::regclass;
  IF valid IS NULL OR NOT valid THEN
    DROP INDEX IF EXISTS "Event_unprocessed_customer_idx";
    CREATE INDEX "Event_unprocessed_customer_idx" ON "Event"
      ("workspaceId", "customerId", name, timestamp, id) WHERE "processedAt" IS NULL;
  END IF;
END $$;
