-- issue 15: "Event" loses its foreign keys to "Customer" and "Workspace" (as "RunTrace" lost its
-- one to "JourneyRun" in 20261129012456_run_trace_fk, and "JourneyRun" its own). With them, every
-- inserted event ran two checks, each locking the parent row FOR KEY SHARE (writing the customer's
-- tuple header, a MultiXact when two batches hold it, contending with the customer's updates), and
-- every month the sweeper attached or dropped (partitions.ts) cloned or dropped the keys' triggers
-- on "Customer" and "Workspace", under their SHARE ROW EXCLUSIVE / ACCESS EXCLUSIVE locks. The
-- customer's erasure (api customers.erase) deletes the customer's events and their "EventKey" rows
-- explicitly in its transaction; nothing deletes a workspace (whatever does one day must delete
-- its events and keys too: "EventKey" has no foreign key either).
--
-- Measured: ingest's statement shape (keys, then the events whose key went in) for 2,000 events of
-- 2,000 of 10,000 customers, on 500,000 stored events, alternating 10 rounds between two databases
-- that differ only in these keys (EXPLAIN ANALYZE, load 7 on 2 cores): median 180 ms with them, of
-- which 59 ms in their check triggers, and 121 ms without.
--
-- Dropped on the partitioned parent: every partition's inherited copy ("Event_legacy", the months,
-- "Event_default") goes with it, and so do the keys' triggers on "Customer" and "Workspace".
--
-- Locks: ACCESS EXCLUSIVE on "Event", on each of its partitions, on "Customer" and on "Workspace",
-- held until the migration's transaction commits. It is catalog work only (no scan, no rewrite):
-- once granted, milliseconds whatever the number of events (measured: the DO block 10.6 ms and its
-- commit 1.8 ms, 4 partitions holding 500,000 events / 146 MB, load 5 on 2 cores). The risk is the
-- wait to be granted: the migration queues behind any running query on those tables (a long
-- analytics read, a customers export), and every request reading customers or events queues
-- behind the migration meanwhile. On a busy database drop them beforehand from psql, one at a
-- time, each with a short lock timeout, retried until it goes through:
--
--       SET lock_timeout = '2s';
--       ALTER TABLE "Event" DROP CONSTRAINT IF EXISTS "Event_customerId_fkey";
--       ALTER TABLE "Event" DROP CONSTRAINT IF EXISTS "Event_workspaceId_fkey";
--
-- The migration then finds nothing to drop and takes no lock.
-- (ALTER TABLE locks the table even when the constraint is gone, hence the catalog check first.)
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint
              WHERE conrelid = '"Event"'::regclass AND conname = 'Event_customerId_fkey') THEN
    ALTER TABLE "Event" DROP CONSTRAINT "Event_customerId_fkey";
  END IF;
  IF EXISTS (SELECT 1 FROM pg_constraint
              WHERE conrelid = '"Event"'::regclass AND conname = 'Event_workspaceId_fkey') THEN
    ALTER TABLE "Event" DROP CONSTRAINT "Event_workspaceId_fkey";
  END IF;
END $$;
