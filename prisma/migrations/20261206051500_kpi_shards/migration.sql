-- issue 15 (scale-out): "KpiBuyerDay", "KpiSecondOrder" and "KpiSecondDays" get a "shard" in their
-- key, as "KpiDay" has had since 20261204160000_kpi_rollups. Every order batch of a workspace
-- upserts the rows of its days — a new buyer today always adds to ("KpiBuyerDay": ws, today, 0) —
-- and holds their row locks until its transaction commits, so concurrent order batches of one
-- workspace (other events jobs, other worker processes) queued on those rows. Each statement now
-- writes the shard it writes "KpiDay" with (counters.ts takeShard(), engine kpi-rollups.ts), and the
-- dashboard (kpis.ts) sums over the shards, as it does for "KpiDay". Nothing compacts the shards
-- (neither does anything for "KpiDay"): a workspace has at most 8 rows where it had one.
--
-- Existing rows become shard 0 (the column's default, which rebuildKpiRollups and the backfill of
-- 20261204160000_kpi_rollups also write). ON CONFLICT needs a unique key of exactly its columns:
-- the old release's order statements fail against the new keys (their job retries; the release
-- that applies this migration at start-up writes the new ones), and the new release's need it.
--
-- Locks, per table:
--   * ADD COLUMN … DEFAULT 0 (a constant): catalog only since Postgres 11, no rewrite: an ACCESS
--     EXCLUSIVE lock for milliseconds once granted.
--   * The key: drop the primary key and add it again with "shard". Built here, the unique index
--     scans and sorts the whole table under ACCESS EXCLUSIVE until the migration commits: every
--     order batch of every workspace (and every dashboard read) waits for it. On a small table (a
--     new install, a test database) that is milliseconds; it grows with the rows (one per
--     workspace, day and gap): 7.8 s for a scratch "KpiBuyerDay" of 3,000,000 rows (50 workspaces,
--     2,000 days, 30 gaps) on a development machine at load 6.5.
--   * On a big table, prepare the new keys first from psql, OUTSIDE a transaction, while the
--     application keeps writing (CONCURRENTLY waits for running transactions and scans the table
--     twice, but blocks no writes; the old key stays, so the old release goes on writing):
--
--       SET lock_timeout = '2s';   -- the ADD COLUMNs wait for running transactions; retry if they time out
--       ALTER TABLE "KpiBuyerDay" ADD COLUMN IF NOT EXISTS "shard" INTEGER NOT NULL DEFAULT 0;
--       ALTER TABLE "KpiSecondOrder" ADD COLUMN IF NOT EXISTS "shard" INTEGER NOT NULL DEFAULT 0;
--       ALTER TABLE "KpiSecondDays" ADD COLUMN IF NOT EXISTS "shard" INTEGER NOT NULL DEFAULT 0;
--       RESET lock_timeout;
--       CREATE UNIQUE INDEX CONCURRENTLY "KpiBuyerDay_shard_key"
--         ON "KpiBuyerDay" ("workspaceId", "day", "gapDays", "shard");
--       CREATE UNIQUE INDEX CONCURRENTLY "KpiSecondOrder_shard_key"
--         ON "KpiSecondOrder" ("workspaceId", "secondDay", "firstDay", "days", "shard");
--       CREATE UNIQUE INDEX CONCURRENTLY "KpiSecondDays_shard_key"
--         ON "KpiSecondDays" ("workspaceId", "days", "shard");
--
--     The migration then finds each index (valid, same columns) and makes it the primary key
--     (ADD PRIMARY KEY USING INDEX renames it "<table>_pkey"; the columns are NOT NULL already, so
--     nothing is scanned): catalog changes only, milliseconds under the lock (6 ms for the table
--     above, whose CONCURRENTLY build took 4.9 s while it stayed writable) — the wait to be
--     granted it (behind running order batches) being the only risk. A failed CONCURRENTLY build
--     leaves an INVALID index: the migration drops it and builds the key itself (or drop it
--     CONCURRENTLY and build it again first). A valid index of that name on other columns stops
--     the migration with an error. A key that already has "shard" is left as it is.
ALTER TABLE "KpiBuyerDay" ADD COLUMN IF NOT EXISTS "shard" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "KpiSecondOrder" ADD COLUMN IF NOT EXISTS "shard" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "KpiSecondDays" ADD COLUMN IF NOT EXISTS "shard" INTEGER NOT NULL DEFAULT 0;

DO $$
DECLARE
  t record;
  pkey_cols text;
  prepared text;
BEGIN
  FOR t IN
    SELECT * FROM (VALUES
      ('KpiBuyerDay', '"workspaceId", day, "gapDays", shard'),
      ('KpiSecondOrder', '"workspaceId", "secondDay", "firstDay", days, shard'),
      ('KpiSecondDays', '"workspaceId", days, shard')
    ) AS v(tbl, cols)
  LOOP
    SELECT pg_get_indexdef(i.indexrelid) INTO pkey_cols
      FROM pg_index i WHERE i.indrelid = format('%I', t.tbl)::regclass AND i.indisprimary;
    CONTINUE WHEN pkey_cols LIKE '%USING btree (' || t.cols || ')';

    SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' -- INVALID' END
      INTO prepared
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relname = t.tbl || '_shard_key' AND i.indrelid = format('%I', t.tbl)::regclass;
    IF prepared LIKE '% -- INVALID' THEN
      EXECUTE format('DROP INDEX %I', t.tbl || '_shard_key');
      prepared := NULL;
    END IF;
    IF prepared IS NOT NULL AND prepared NOT LIKE 'CREATE UNIQUE INDEX %USING btree (' || t.cols || ')' THEN
      RAISE EXCEPTION '% exists with another definition: % (drop it, then run this migration again)',
        t.tbl || '_shard_key', prepared;
    END IF;

    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t.tbl, t.tbl || '_pkey');
    IF prepared IS NOT NULL THEN
      EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I',
        t.tbl, t.tbl || '_pkey', t.tbl || '_shard_key');
    ELSE
      EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (%s)',
        t.tbl, t.tbl || '_pkey', t.cols);
    END IF;
  END LOOP;
END $$;
