-- issue 15, item 6: "RunTrace" becomes a table partitioned by month of "at" (declarative RANGE
-- partitioning), so trace retention drops whole months (engine partitions.ts, run by the sweeper)
-- instead of deleting rows. The key becomes ("id", "at"): a partitioned table's key must hold its
-- partition column; ids still come from the one sequence "RunTrace_id_seq".
--
-- How it avoids rewriting or long-locking the existing table:
--   * The existing table is not copied: it is renamed "RunTrace_legacy" and attached as the
--     partition FROM (MINVALUE) TO (<bound>), <bound> being the first month boundary after now
--     (or after its newest trace, if a test clock wrote some in the future). Months from <bound>
--     on get partitions of their own, and "RunTrace_default" takes any "at" no month holds, so an
--     insert never fails. The sweeper drops the legacy partition too once its whole range is past
--     TRACE_RETENTION_DAYS.
--   * ATTACH skips its scan of the table because a validated CHECK ("at" < <bound>) already proves
--     the range, and it adopts the existing ("runId", "id") and converted indexes instead of
--     building new ones. The new parent, its month partitions and the default one start empty.
--   * The one thing that must be built is the unique index on ("id", "at") for the new key.
--   * The migration runner applies each migration in one transaction, and the rename takes the
--     table's ACCESS EXCLUSIVE lock until it commits: whatever is built inside it holds writes to
--     traces for its duration. On a small table (a new install, a test database) that is
--     milliseconds and the migration builds both itself. On a big table, prepare them first from
--     psql, OUTSIDE a transaction, while the application keeps writing (<bound>: the first day of
--     a month after the day you deploy, e.g. '2027-02-01'):
--
--       CREATE UNIQUE INDEX CONCURRENTLY "RunTrace_legacy_pkey" ON "RunTrace" ("id", "at");
--       ALTER TABLE "RunTrace" ADD CONSTRAINT "RunTrace_legacy_at_check"
--         CHECK ("at" < '2027-02-01') NOT VALID;        -- catalog only: a brief lock
--       ALTER TABLE "RunTrace" VALIDATE CONSTRAINT "RunTrace_legacy_at_check";
--                                                       -- scans, but under SHARE UPDATE EXCLUSIVE:
--                                                       -- inserts and reads go on meanwhile
--
--     The migration then finds them (a valid index and a validated constraint of those names)
--     and only changes the catalog: renames, CREATE of empty tables, ATTACH without a scan —
--     milliseconds under the lock. (A failed CONCURRENTLY build leaves an invalid index; the
--     migration drops it and builds the index itself.)
DO $$
DECLARE
  bound timestamp(3);
  prepared text;
  m timestamp(3);
BEGIN
  -- The legacy partition's upper bound, from a prepared, validated constraint or computed here.
  SELECT pg_get_constraintdef(oid) INTO prepared FROM pg_constraint
   WHERE conrelid = '"RunTrace"'::regclass AND conname = 'RunTrace_legacy_at_check' AND convalidated;
  IF prepared IS NOT NULL THEN
    bound := substring(prepared FROM '''([^'']+)''')::timestamp(3);
    IF bound IS NULL OR bound <> date_trunc('month', bound) THEN
      RAISE EXCEPTION 'RunTrace_legacy_at_check must read CHECK ("at" < ''<the first day of a month>''), found %', prepared;
    END IF;
  ELSE
    ALTER TABLE "RunTrace" DROP CONSTRAINT IF EXISTS "RunTrace_legacy_at_check";
    SELECT greatest(date_trunc('month', now() AT TIME ZONE 'UTC'), date_trunc('month', max("at")))
           + interval '1 month'
      INTO bound FROM "RunTrace";
    EXECUTE format(
      'ALTER TABLE "RunTrace" ADD CONSTRAINT "RunTrace_legacy_at_check" CHECK ("at" < %L::timestamp(3))',
      bound);
  END IF;

  -- The key ("id", "at") on the legacy table, from a prepared unique index or built here.
  IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                  WHERE c.relname = 'RunTrace_legacy_pkey' AND i.indrelid = '"RunTrace"'::regclass
                    AND i.indisvalid AND i.indisunique) THEN
    DROP INDEX IF EXISTS "RunTrace_legacy_pkey";
    CREATE UNIQUE INDEX "RunTrace_legacy_pkey" ON "RunTrace" ("id", "at");
  END IF;
  ALTER TABLE "RunTrace" DROP CONSTRAINT "RunTrace_pkey";
  ALTER TABLE "RunTrace" ADD CONSTRAINT "RunTrace_legacy_pkey" PRIMARY KEY USING INDEX "RunTrace_legacy_pkey";

  ALTER TABLE "RunTrace" RENAME TO "RunTrace_legacy";
  ALTER INDEX "RunTrace_runId_id_idx" RENAME TO "RunTrace_legacy_runId_id_idx";
  ALTER INDEX "RunTrace_converted_idx" RENAME TO "RunTrace_legacy_converted_idx";

  -- The partitioned parent: same columns, defaults (the id sequence) and indexes. Created while
  -- it has no partitions, its indexes cost nothing; ATTACH adopts the legacy table's matching ones.
  CREATE TABLE "RunTrace" (LIKE "RunTrace_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("at");
  ALTER SEQUENCE "RunTrace_id_seq" OWNED BY "RunTrace"."id";
  ALTER TABLE "RunTrace" ADD CONSTRAINT "RunTrace_pkey" PRIMARY KEY ("id", "at");
  CREATE INDEX "RunTrace_runId_id_idx" ON "RunTrace" ("runId", "id");
  -- issue 14's partial index (Prisma cannot describe it): runs with a conversion.
  CREATE INDEX "RunTrace_converted_idx" ON "RunTrace" ("runId") WHERE kind = 'converted';

  EXECUTE format(
    'ALTER TABLE "RunTrace" ATTACH PARTITION "RunTrace_legacy" FOR VALUES FROM (MINVALUE) TO (%L)',
    bound);
  -- The next two months (the sweeper keeps creating months ahead), then the catch-all.
  FOR i IN 0..1 LOOP
    m := bound + make_interval(months => i);
    EXECUTE format('CREATE TABLE %I PARTITION OF "RunTrace" FOR VALUES FROM (%L) TO (%L)',
                   'RunTrace_' || to_char(m, '"y"YYYY"m"MM'), m, m + interval '1 month');
  END LOOP;
  CREATE TABLE "RunTrace_default" PARTITION OF "RunTrace" DEFAULT;
END $$;
