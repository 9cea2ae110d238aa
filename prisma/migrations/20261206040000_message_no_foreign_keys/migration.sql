-- issue 15: "Message" loses its foreign keys to "JourneyRun" and "Workspace", as "Event"
-- (20261205230000_event_no_foreign_keys), "RunTrace" and "JourneyRun" lost theirs. "Message" is
-- partitioned by month (20261206020000_message_partitions): every month the sweeper creates
-- (partitions.ts) cloned both keys, which takes SHARE ROW EXCLUSIVE on "JourneyRun" (the hottest
-- table: every run transition writes it) and "Workspace" until the creating transaction commits,
-- and every month dropped with a retention set took ACCESS EXCLUSIVE on both. Each inserted
-- message also ran two checks locking its run and workspace rows FOR KEY SHARE.
--
-- What their ON DELETE CASCADE did, and who does it now: deleting a run or a workspace deleted
-- their messages. The customer's erasure (api customers.erase) deletes the customer's messages and
-- their "MessageKey" rows explicitly, after locking the customer's runs so that a transition in
-- flight commits its messages first; nothing else deletes runs or workspaces (whatever does one day
-- must delete their messages and keys, as for "Event" and "RunTrace"). A send whose run is gone
-- sends nothing (sends.ts).
--
-- Dropped on the partitioned parent: every partition's inherited copy ("Message_legacy", the
-- months, "Message_default") goes with it, and so do the keys' triggers on "JourneyRun" and
-- "Workspace". "Message_legacy"'s own keys were adopted by the parent's at the ATTACH (same names),
-- so they go too.
--
-- Locks: ACCESS EXCLUSIVE on "Message", each of its partitions, "JourneyRun" and "Workspace", held
-- until the migration's transaction commits. Catalog work only (no scan, no rewrite): once
-- granted, milliseconds whatever the number of messages. The risk is the wait to be granted: the
-- migration queues behind any running query on those tables, and every run transition queues
-- behind the migration meanwhile. On a busy database drop them beforehand from psql, one at a
-- time, each with a short lock timeout, retried until it goes through:
--
--       SET lock_timeout = '2s';
--       ALTER TABLE "Message" DROP CONSTRAINT IF EXISTS "Message_runId_fkey";
--       ALTER TABLE "Message" DROP CONSTRAINT IF EXISTS "Message_workspaceId_fkey";
--
-- The migration then finds nothing to drop and takes no lock.
-- (ALTER TABLE locks the table even when the constraint is gone, hence the catalog check first.)
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint
              WHERE conrelid = '"Message"'::regclass AND conname = 'Message_runId_fkey') THEN
    ALTER TABLE "Message" DROP CONSTRAINT "Message_runId_fkey";
  END IF;
  IF EXISTS (SELECT 1 FROM pg_constraint
              WHERE conrelid = '"Message"'::regclass AND conname = 'Message_workspaceId_fkey') THEN
    ALTER TABLE "Message" DROP CONSTRAINT "Message_workspaceId_fkey";
  END IF;
END $$;
