-- issue 15, item 3: a run's traces are found through a hash index on "runId" instead of the
-- B-tree on ("runId", "id"). Every reader looks traces up by equal run id (a timeline, the
-- experiments' join, the rollups' moved-run read, a customer's deletion; the funnel's conversion
-- EXISTS keeps its partial B-tree) and sorts a run's few by id itself; none walks a range of ids. A hash entry is a 4-byte hash code and the row's address, where the B-tree's
-- held the run id's text: each trace insert (about four per run step) skips the B-tree descent's
-- text comparisons under the database's collation, and the index is about half the size.
-- Measured on this table, 200,000 traces inserted 800 at a time beside 1,000,000 (bench/README.md,
-- "2026-12-07, 04:15"): 8.6-8.7 µs per row with the B-tree, 6.3-7.2 with the hash index; at
-- 1,600,000 traces the B-tree took 119 MB, the hash index 56 MB.
--
-- The migration runner applies it in one transaction: the CREATE below takes a SHARE lock on
-- "RunTrace" and its months for as long as it reads them, which holds trace inserts (run steps)
-- for its duration. On a small table (a new install, a test database) that is milliseconds. On a
-- big one, build the index first from psql, OUTSIDE a transaction, while the application keeps
-- writing: the parent's index on its own (no partition is read), then each month's CONCURRENTLY,
-- attached to it (the parent's index is valid once every month has one):
--
--   CREATE INDEX "RunTrace_runId_idx" ON ONLY "RunTrace" USING HASH ("runId");
--   -- for each partition P of "RunTrace" (\d+ "RunTrace" lists them; a month's "P_runId_idx"
--   -- is already taken, by its share of "RunTrace_converted_idx"):
--   CREATE INDEX CONCURRENTLY "P_runId_hash" ON "P" USING HASH ("runId");
--   ALTER INDEX "RunTrace_runId_idx" ATTACH PARTITION "P_runId_hash";
--
-- The migration then finds the valid index and keeps it; what is left is the DROP of the old
-- B-tree, a catalog change under a brief ACCESS EXCLUSIVE lock. (An index prepared only in part is
-- not valid: the migration drops it and builds the whole index itself.)
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                  WHERE c.relname = 'RunTrace_runId_idx' AND i.indrelid = '"RunTrace"'::regclass
                    AND i.indisvalid) THEN
    DROP INDEX IF EXISTS "RunTrace_runId_idx";
    CREATE INDEX "RunTrace_runId_idx" ON "RunTrace" USING HASH ("runId");
  END IF;
END $$;

DROP INDEX "RunTrace_runId_id_idx";
