-- issue 15, item 6: "Message" becomes a table partitioned by month of "createdAt" (declarative
-- RANGE partitioning), like "RunTrace" (20261205063109_runtrace_partitions) and "Event"
-- (20261205200000_event_partitions), so message retention (MESSAGE_RETENTION_DAYS, default 0:
-- kept forever) drops whole months instead of deleting rows. The key becomes ("id", "createdAt").
--
-- The idempotency key moves to a key table. A partitioned table's unique keys must hold its
-- partition column, so "idempotencyKey" cannot stay unique on "Message" itself: "MessageKey" holds
-- it, one row per message (its id and "createdAt"), inserted in the same statement or transaction
-- as every message (store.ts commitBatch, move.ts), so a second message under a key fails with
-- 23505 as the unique index did. The sweeper deletes a month's keys before it drops the month.
-- Foreign keys to "JourneyRun" and "Workspace" stay (declared on the parent; each month clones
-- them); nothing references "Message" by foreign key.
--
-- How it avoids rewriting or long-locking the existing table:
--   * The messages are not copied: the table is renamed "Message_legacy" and attached as the
--     partition FROM (MINVALUE) TO (<bound>), <bound> being the first month boundary after now (or
--     after its newest message). Months from <bound> on get partitions of their own, and
--     "Message_default" takes any "createdAt" no month holds.
--   * ATTACH skips its scan because a validated CHECK ("createdAt" < <bound>) proves the range, and
--     adopts the existing indexes and foreign keys (the parent declares the same ones) instead of
--     building or validating new ones.
--   * What must be built: the unique index on ("id", "createdAt") for the new key, and the key
--     table with one row per existing message.
--   * The migration runner applies each migration in one transaction, and the rename holds the
--     table's ACCESS EXCLUSIVE lock until it commits: whatever is built inside it holds every send
--     and every run transition that writes a message for its duration. On a small table that is
--     milliseconds. On a big table prepare all of it first from psql, OUTSIDE a transaction, in
--     this order, while the application keeps sending (<bound>: the first day of a month after the
--     day you deploy):
--
--       -- 1. The key table, kept up to date by a trigger while the current release writes.
--       CREATE TABLE "MessageKey" ("idempotencyKey" text NOT NULL, "messageId" text NOT NULL,
--         "createdAt" timestamp(3) NOT NULL, CONSTRAINT "MessageKey_pkey" PRIMARY KEY ("idempotencyKey"));
--       CREATE INDEX "MessageKey_createdAt_idx" ON "MessageKey" ("createdAt");
--       CREATE FUNCTION "MessageKey_mirror"() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN
--         INSERT INTO "MessageKey" VALUES (NEW."idempotencyKey", NEW.id, NEW."createdAt")
--         ON CONFLICT DO NOTHING; RETURN NULL; END $f$;
--       CREATE TRIGGER "MessageKey_mirror" AFTER INSERT ON "Message"
--         FOR EACH ROW EXECUTE FUNCTION "MessageKey_mirror"();  -- waits for in-flight inserts
--       -- 2. The keys of the messages already stored: reads "Message", its writers go on.
--       INSERT INTO "MessageKey" SELECT "idempotencyKey", id, "createdAt" FROM "Message"
--         ON CONFLICT DO NOTHING;
--       -- 3. The new key and the range.
--       CREATE UNIQUE INDEX CONCURRENTLY "Message_legacy_pkey" ON "Message" ("id", "createdAt");
--       ALTER TABLE "Message" ADD CONSTRAINT "Message_legacy_createdAt_check"
--         CHECK ("createdAt" < '2027-02-01') NOT VALID;  -- catalog only: a brief lock
--       ALTER TABLE "Message" VALIDATE CONSTRAINT "Message_legacy_createdAt_check";
--                                                        -- scans under SHARE UPDATE EXCLUSIVE:
--                                                        -- inserts and updates go on meanwhile
--
--     The migration then finds them (the key table, a valid index and a validated constraint of
--     those names), drops the trigger and only changes the catalog: renames, CREATE of empty
--     tables, ATTACH without a scan. Step 2 must have finished before the deploy: the migration
--     trusts a key table it finds. (The unique index on "idempotencyKey" still guards the old
--     release until the migration; after it, only the new release inserts the keys: stop the old
--     release's workers before the migration, as every deploy of this repository does.)
--
-- Locks, as measured on the test databases (see the test issue-015-message-partitions): the whole
-- migration holds ACCESS EXCLUSIVE on "Message" (the rename, DROP CONSTRAINT, ATTACH) and, for the
-- foreign keys the new parent declares and its new months clone, SHARE ROW EXCLUSIVE on
-- "JourneyRun" and "Workspace" (their writers wait; their readers do not) until it commits.
DO $$
DECLARE
  bound timestamp(3);
  prepared text;
  m timestamp(3);
BEGIN
  -- The legacy partition's upper bound, from a prepared, validated constraint or computed here.
  SELECT pg_get_constraintdef(oid) INTO prepared FROM pg_constraint
   WHERE conrelid = '"Message"'::regclass AND conname = 'Message_legacy_createdAt_check' AND convalidated;
  IF prepared IS NOT NULL THEN
    bound := substring(prepared FROM '''([^'']+)''')::timestamp(3);
    IF bound IS NULL OR bound <> date_trunc('month', bound) THEN
      RAISE EXCEPTION 'Message_legacy_createdAt_check must read CHECK ("createdAt" < ''<the first day of a month>''), found %', prepared;
    END IF;
  ELSE
    ALTER TABLE "Message" DROP CONSTRAINT IF EXISTS "Message_legacy_createdAt_check";
    SELECT greatest(date_trunc('month', now() AT TIME ZONE 'UTC'), date_trunc('month', max("createdAt")))
           + interval '1 month'
      INTO bound FROM "Message";
    EXECUTE format(
      'ALTER TABLE "Message" ADD CONSTRAINT "Message_legacy_createdAt_check" CHECK ("createdAt" < %L::timestamp(3))',
      bound);
  END IF;

  -- The idempotency keys of the stored messages, from a prepared key table or built here.
  IF to_regclass('"MessageKey"') IS NOT NULL THEN
    DROP TRIGGER IF EXISTS "MessageKey_mirror" ON "Message";
    DROP FUNCTION IF EXISTS "MessageKey_mirror"();
  ELSE
    CREATE TABLE "MessageKey" (
      "idempotencyKey" TEXT NOT NULL,
      "messageId" TEXT NOT NULL,
      "createdAt" TIMESTAMP(3) NOT NULL
    );
    INSERT INTO "MessageKey" SELECT "idempotencyKey", id, "createdAt" FROM "Message";
    ALTER TABLE "MessageKey" ADD CONSTRAINT "MessageKey_pkey" PRIMARY KEY ("idempotencyKey");
    CREATE INDEX "MessageKey_createdAt_idx" ON "MessageKey" ("createdAt");
  END IF;

  -- The key ("id", "createdAt") on the legacy table, from a prepared unique index or built here.
  IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                  WHERE c.relname = 'Message_legacy_pkey' AND i.indrelid = '"Message"'::regclass
                    AND i.indisvalid AND i.indisunique) THEN
    DROP INDEX IF EXISTS "Message_legacy_pkey";
    CREATE UNIQUE INDEX "Message_legacy_pkey" ON "Message" ("id", "createdAt");
  END IF;
  ALTER TABLE "Message" DROP CONSTRAINT "Message_pkey";
  ALTER TABLE "Message" ADD CONSTRAINT "Message_legacy_pkey" PRIMARY KEY USING INDEX "Message_legacy_pkey";
  -- "MessageKey" holds it now.
  DROP INDEX "Message_idempotencyKey_key";

  ALTER TABLE "Message" RENAME TO "Message_legacy";
  ALTER INDEX "Message_workspaceId_status_idx" RENAME TO "Message_legacy_workspaceId_status_idx";
  ALTER INDEX "Message_runId_idx" RENAME TO "Message_legacy_runId_idx";
  ALTER INDEX "Message_customerId_channel_createdAt_idx"
    RENAME TO "Message_legacy_customerId_channel_createdAt_idx";
  ALTER INDEX "Message_workspaceId_providerMessageId_idx"
    RENAME TO "Message_legacy_workspaceId_providerMessageId_idx";

  -- The partitioned parent: same columns, defaults, indexes and foreign keys. Created while it has
  -- no partitions, they cost nothing; ATTACH adopts the legacy table's matching ones.
  CREATE TABLE "Message" (LIKE "Message_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("createdAt");
  ALTER TABLE "Message" ADD CONSTRAINT "Message_pkey" PRIMARY KEY ("id", "createdAt");
  CREATE INDEX "Message_workspaceId_status_idx" ON "Message" ("workspaceId", status);
  CREATE INDEX "Message_runId_idx" ON "Message" ("runId");
  CREATE INDEX "Message_customerId_channel_createdAt_idx" ON "Message" ("customerId", channel, "createdAt");
  CREATE INDEX "Message_workspaceId_providerMessageId_idx" ON "Message" ("workspaceId", "providerMessageId");
  ALTER TABLE "Message" ADD CONSTRAINT "Message_workspaceId_fkey" FOREIGN KEY ("workspaceId")
    REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
  ALTER TABLE "Message" ADD CONSTRAINT "Message_runId_fkey" FOREIGN KEY ("runId")
    REFERENCES "JourneyRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

  EXECUTE format(
    'ALTER TABLE "Message" ATTACH PARTITION "Message_legacy" FOR VALUES FROM (MINVALUE) TO (%L)',
    bound);
  ALTER TABLE "Message_legacy" DROP CONSTRAINT "Message_legacy_createdAt_check";
  -- The next two months (the sweeper keeps creating months ahead), then the catch-all.
  FOR i IN 0..1 LOOP
    m := bound + make_interval(months => i);
    EXECUTE format('CREATE TABLE %I PARTITION OF "Message" FOR VALUES FROM (%L) TO (%L)',
                   'Message_' || to_char(m, '"y"YYYY"m"MM'), m, m + interval '1 month');
  END LOOP;
  CREATE TABLE "Message_default" PARTITION OF "Message" DEFAULT;
END $$;
