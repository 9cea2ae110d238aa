-- issue 15, item 6: the version index of "JourneyRun" covers live runs only. The whole
-- ("versionId", status, "currentStepId") index becomes the partial index
-- "JourneyRun_live_version_idx" on the same columns WHERE status IN ('ACTIVE', 'WAITING'): a run
-- that completes, exits or fails adds no entry to it (a run's every transition rewrites each index,
-- none of its updates being HOT), and it holds the live runs only (~1/10 of the rows of a table of
-- mostly finished runs). Prisma 6 cannot declare a WHERE, so it lives here and in the /// comment
-- of model JourneyRun, like "JourneyRun_waiting_idx" and "JourneyRun_active_idx".
--
-- Every query that used the whole index names the live statuses as literals (operate.ts nodeCounts,
-- analytics.ts, migration.ts, move.ts, exit.ts), which the planner proves imply the predicate.
-- A version's runs in every status (funnel.ts, experiments.ts) are read together with their journey
-- through the ("journeyId", "customerId", …) unique index. The customer index stays whole: the
-- customer's page, erasure and attribution read finished runs by customer.
--
-- How it runs on existing data:
--   * The migration runner (packages/db migrate.ts) applies each file inside BEGIN … COMMIT, and
--     `prisma migrate deploy` sends a file as one multi-statement query, which Postgres runs as one
--     implicit transaction: CREATE INDEX CONCURRENTLY fails in either ("cannot run inside a
--     transaction block"). So a migration file can only build the index the plain way, which holds
--     a SHARE lock on "JourneyRun" while it scans the whole table: reads go on, but enrolments and
--     transitions (every INSERT/UPDATE of a run) wait for the build, and the workers with them. On
--     a small table (a new install, a test database) that is milliseconds; on a development copy of
--     2,000,000 runs (a 298 MB table, 8 % of its runs live) it took 1.1 s at load 5 — a second of
--     stalled runs, growing with the table (the whole heap is read, however few runs are live).
--   * On a big table, build it first from psql, OUTSIDE a transaction, while the application keeps
--     writing (CONCURRENTLY waits for running transactions and scans the table twice, but blocks
--     no writes; 1.5 s on the copy above):
--
--       CREATE INDEX CONCURRENTLY "JourneyRun_live_version_idx" ON "JourneyRun"
--         ("versionId", status, "currentStepId") WHERE status IN ('ACTIVE', 'WAITING');
--       DROP INDEX CONCURRENTLY "JourneyRun_versionId_status_currentStepId_idx";   -- optional
--
--     The migration then finds the index (valid, same definition) and builds nothing. If the build
--     failed, it left an INVALID index of that name: the migration drops it and builds it itself
--     (or run the two statements again: DROP INDEX CONCURRENTLY it, then CREATE … CONCURRENTLY).
--     A valid index of that name with another definition stops the migration with an error.
--   * Dropping the whole index takes an ACCESS EXCLUSIVE lock on the table until the migration
--     commits: a catalog change, milliseconds, but it waits for transactions already reading the
--     table (and holds everything queued behind it meanwhile). Dropping it CONCURRENTLY beforehand,
--     as above, avoids that too; the DROP below is then a no-op.
--   * Order: the partial index exists before the whole one goes, so the canvas's "waiting now" count
--     always has an index.
DO $$
DECLARE
  found text;
BEGIN
  SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' -- INVALID' END
    INTO found
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE c.relname = 'JourneyRun_live_version_idx' AND i.indrelid = '"JourneyRun"'::regclass;
  IF found IS NULL OR found LIKE '% -- INVALID' THEN
    DROP INDEX IF EXISTS "JourneyRun_live_version_idx";
    CREATE INDEX "JourneyRun_live_version_idx" ON "JourneyRun" ("versionId", status, "currentStepId")
      WHERE status IN ('ACTIVE', 'WAITING');
  ELSIF found NOT LIKE '%USING btree ("versionId", status, "currentStepId") WHERE (status = ANY (ARRAY[''ACTIVE''::%"RunStatus", ''WAITING''::%"RunStatus"]))' THEN
    RAISE EXCEPTION 'JourneyRun_live_version_idx exists with another definition: % (drop it, then run this migration again)', found;
  END IF;
END $$;

DROP INDEX IF EXISTS "JourneyRun_versionId_status_currentStepId_idx";
