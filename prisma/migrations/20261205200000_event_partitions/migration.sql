-- issue 15, item 6: "Event" becomes a table partitioned by month of "receivedAt" (declarative
-- RANGE partitioning), so event retention drops whole months (engine partitions.ts, run by the
-- sweeper) instead of deleting rows in rounds. Like "RunTrace" (20261205063109_runtrace_partitions).
--
-- De-duplication moves to a key table. A partitioned table's unique keys must hold its partition
-- column, so ("workspaceId", "messageId") cannot stay unique on "Event" itself: "EventKey" holds
-- it, one row per stored event (its id and "receivedAt"), and ingest inserts the key and the event
-- in one statement (group-commit.ts: only events whose key went in are inserted). The sweeper
-- deletes a month's keys before it drops the month, so a messageId is de-duplicated for as long
-- as its event is kept. The key of "Event" becomes ("id", "receivedAt").
--
-- How it avoids rewriting or long-locking the existing table:
--   * The events are not copied: the table is renamed "Event_legacy" and attached as the partition
--     FROM (MINVALUE) TO (<bound>), <bound> being the first month boundary after now (or after its
--     newest event). Months from <bound> on get partitions of their own, and "Event_default" takes
--     any "receivedAt" no month holds. The sweeper drops the legacy partition too once its whole
--     range is past EVENT_RETENTION_DAYS (and it holds no unprocessed event).
--   * ATTACH skips its scan because a validated CHECK ("receivedAt" < <bound>) proves the range,
--     adopts the existing indexes and foreign keys (the parent declares the same ones) instead of
--     building or validating new ones.
--   * What must be built: the unique index on ("id", "receivedAt") for the new key, and the key
--     table with one row per existing event.
--   * The migration runner applies each migration in one transaction, and the rename holds the
--     table's ACCESS EXCLUSIVE lock until it commits: whatever is built inside it holds ingest (and
--     every read of events) for its duration. On a small table that is milliseconds. On a big
--     table prepare all of it first from psql, OUTSIDE a transaction, in this order, while the
--     application keeps writing (<bound>: the first day of a month after the day you deploy):
--
--       -- 1. The key table, kept up to date by a trigger while the current release ingests.
--       CREATE TABLE "EventKey" ("workspaceId" text NOT NULL, "messageId" text NOT NULL,
--         "eventId" text NOT NULL, "receivedAt" timestamp(3) NOT NULL,
--         CONSTRAINT "EventKey_pkey" PRIMARY KEY ("workspaceId", "messageId"));
--       CREATE INDEX "EventKey_receivedAt_idx" ON "EventKey" ("receivedAt");
--       CREATE FUNCTION "EventKey_mirror"() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN
--         INSERT INTO "EventKey" VALUES (NEW."workspaceId", NEW."messageId", NEW.id, NEW."receivedAt")
--         ON CONFLICT DO NOTHING; RETURN NULL; END $f$;
--       CREATE TRIGGER "EventKey_mirror" AFTER INSERT ON "Event"
--         FOR EACH ROW EXECUTE FUNCTION "EventKey_mirror"();    -- waits for in-flight inserts
--       -- 2. The keys of the events already stored: reads "Event", its writers go on.
--       INSERT INTO "EventKey" SELECT "workspaceId", "messageId", id, "receivedAt" FROM "Event"
--         ON CONFLICT DO NOTHING;
--       -- 3. The new key and the range, as for RunTrace.
--       CREATE UNIQUE INDEX CONCURRENTLY "Event_legacy_pkey" ON "Event" ("id", "receivedAt");
--       ALTER TABLE "Event" ADD CONSTRAINT "Event_legacy_receivedAt_check"
--         CHECK ("receivedAt" < '2027-02-01') NOT VALID;  -- catalog only: a brief lock
--       ALTER TABLE "Event" VALIDATE CONSTRAINT "Event_legacy_receivedAt_check";
--                                                         -- scans under SHARE UPDATE EXCLUSIVE:
--                                                         -- inserts and reads go on meanwhile
--
--     The migration then finds them (the trigger, a valid index and a validated constraint of
--     those names), drops the trigger and only changes the catalog: renames, CREATE of empty
--     tables, ATTACH without a scan. Step 2 must have finished before the deploy: the migration
--     trusts a key table it finds beside the trigger.
DO $$
DECLARE
  bound timestamp(3);
  prepared text;
  m timestamp(3);
BEGIN
  -- The legacy partition's upper bound, from a prepared, validated constraint or computed here.
  SELECT pg_get_constraintdef(oid) INTO prepared FROM pg_constraint
   WHERE conrelid = '"Event"'::regclass AND conname = 'Event_legacy_receivedAt_check' AND convalidated;
  IF prepared IS NOT NULL THEN
    bound := substring(prepared FROM '''([^'']+)''')::timestamp(3);
    IF bound IS NULL OR bound <> date_trunc('month', bound) THEN
      RAISE EXCEPTION 'Event_legacy_receivedAt_check must read CHECK ("receivedAt" < ''<the first day of a month>''), found %', prepared;
    END IF;
  ELSE
    ALTER TABLE "Event" DROP CONSTRAINT IF EXISTS "Event_legacy_receivedAt_check";
    SELECT greatest(date_trunc('month', now() AT TIME ZONE 'UTC'), date_trunc('month', max("receivedAt")))
           + interval '1 month'
      INTO bound FROM "Event";
    EXECUTE format(
      'ALTER TABLE "Event" ADD CONSTRAINT "Event_legacy_receivedAt_check" CHECK ("receivedAt" < %L::timestamp(3))',
      bound);
  END IF;

  -- The de-duplication keys of the stored events, from a prepared key table or built here.
  IF to_regclass('"EventKey"') IS NOT NULL THEN
    DROP TRIGGER IF EXISTS "EventKey_mirror" ON "Event";
    DROP FUNCTION IF EXISTS "EventKey_mirror"();
  ELSE
    CREATE TABLE "EventKey" (
      "workspaceId" TEXT NOT NULL,
      "messageId" TEXT NOT NULL,
      "eventId" TEXT NOT NULL,
      "receivedAt" TIMESTAMP(3) NOT NULL
    );
    INSERT INTO "EventKey" SELECT "workspaceId", "messageId", id, "receivedAt" FROM "Event";
    ALTER TABLE "EventKey" ADD CONSTRAINT "EventKey_pkey" PRIMARY KEY ("workspaceId", "messageId");
    CREATE INDEX "EventKey_receivedAt_idx" ON "EventKey" ("receivedAt");
  END IF;

  -- The key ("id", "receivedAt") on the legacy table, from a prepared unique index or built here.
  IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                  WHERE c.relname = 'Event_legacy_pkey' AND i.indrelid = '"Event"'::regclass
                    AND i.indisvalid AND i.indisunique) THEN
    DROP INDEX IF EXISTS "Event_legacy_pkey";
    CREATE UNIQUE INDEX "Event_legacy_pkey" ON "Event" ("id", "receivedAt");
  END IF;
  ALTER TABLE "Event" DROP CONSTRAINT "Event_pkey";
  ALTER TABLE "Event" ADD CONSTRAINT "Event_legacy_pkey" PRIMARY KEY USING INDEX "Event_legacy_pkey";
  -- "EventKey" holds it now (dropping an index is catalog work and a file unlink at commit).
  DROP INDEX "Event_workspaceId_messageId_key";

  ALTER TABLE "Event" RENAME TO "Event_legacy";
  ALTER INDEX "Event_receivedAt_idx" RENAME TO "Event_legacy_receivedAt_idx";
  ALTER INDEX "Event_unprocessed_idx" RENAME TO "Event_legacy_unprocessed_idx";
  ALTER INDEX "Event_unprocessed_customer_idx" RENAME TO "Event_legacy_unprocessed_customer_idx";
  ALTER INDEX "Event_workspaceId_customerId_name_timestamp_idx"
    RENAME TO "Event_legacy_workspaceId_customerId_name_timestamp_idx";
  ALTER INDEX "Event_workspaceId_name_timestamp_customerId_idx"
    RENAME TO "Event_legacy_workspaceId_name_timestamp_customerId_idx";

  -- The partitioned parent: same columns, defaults, indexes and foreign keys. Created while it has
  -- no partitions, they cost nothing; ATTACH adopts the legacy table's matching ones.
  CREATE TABLE "Event" (LIKE "Event_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("receivedAt");
  ALTER TABLE "Event" ADD CONSTRAINT "Event_pkey" PRIMARY KEY ("id", "receivedAt");
  CREATE INDEX "Event_workspaceId_customerId_name_timestamp_idx" ON "Event"
    ("workspaceId", "customerId", name, timestamp);
  CREATE INDEX "Event_workspaceId_name_timestamp_customerId_idx" ON "Event"
    ("workspaceId", name, timestamp, "customerId");
  CREATE INDEX "Event_receivedAt_idx" ON "Event" ("receivedAt");
  -- Partial indexes Prisma cannot describe (schema.prisma, model Event): the sweeper's unprocessed
  -- events, and the events worker's earlier-first read.
  CREATE INDEX "Event_unprocessed_idx" ON "Event" ("receivedAt") WHERE "processedAt" IS NULL;
  CREATE INDEX "Event_unprocessed_customer_idx" ON "Event"
    ("workspaceId", "customerId", name, timestamp, id) WHERE "processedAt" IS NULL;
  ALTER TABLE "Event" ADD CONSTRAINT "Event_workspaceId_fkey" FOREIGN KEY ("workspaceId")
    REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
  ALTER TABLE "Event" ADD CONSTRAINT "Event_customerId_fkey" FOREIGN KEY ("customerId")
    REFERENCES "Customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

  EXECUTE format(
    'ALTER TABLE "Event" ATTACH PARTITION "Event_legacy" FOR VALUES FROM (MINVALUE) TO (%L)',
    bound);
  ALTER TABLE "Event_legacy" DROP CONSTRAINT "Event_legacy_receivedAt_check";
  -- The next two months (the sweeper keeps creating months ahead), then the catch-all.
  FOR i IN 0..1 LOOP
    m := bound + make_interval(months => i);
    EXECUTE format('CREATE TABLE %I PARTITION OF "Event" FOR VALUES FROM (%L) TO (%L)',
                   'Event_' || to_char(m, '"y"YYYY"m"MM'), m, m + interval '1 month');
  END LOOP;
  CREATE TABLE "Event_default" PARTITION OF "Event" DEFAULT;
END $$;
