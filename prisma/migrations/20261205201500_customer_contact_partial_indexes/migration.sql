-- issue 15, item 3: Customer's email and phone search indexes hold customers that have one only.
-- "Customer_workspaceId_email_id_idx" and "Customer_workspaceId_phone_id_idx" keep their names and
-- columns and become partial, WHERE email IS NOT NULL / WHERE phone IS NOT NULL. A customer row is
-- rewritten whole by every attribute or tag change (the GIN index on attributes rules out HOT
-- updates), which adds an entry to each of its b-tree indexes; a customer without a phone (or
-- email) now adds none to that index. Replayed on 40,000 / 100,000 customers with an email and no
-- phone, the commit's customer update in batches of 200 (the engine-lateness step), alternating
-- between databases: backend CPU per customer 30.9 -> 28.7 and 32.6 -> 29.7 µs (median).
--
-- Every reader compares the column with a strict operator (Customers search: col >= $2 AND col < $3;
-- customer.ts / operate.ts: email = ANY(...) / IN (...)), which the planner proves implies
-- IS NOT NULL, so each still uses its index; nothing reads the customers without one through them.
-- Prisma 6 cannot declare a WHERE: model Customer keeps its two @@index lines (same names, same
-- columns), and this file holds the predicate.
--
-- On a big table: this builds each index in the migration's transaction (a SHARE lock on
-- "Customer": reads go on, writes wait for the build). To avoid that, build them first from psql,
-- outside a transaction, under another name, then swap (the migration then finds them and builds
-- nothing):
--   CREATE INDEX CONCURRENTLY "Customer_email_tmp" ON "Customer" ("workspaceId", email, id) WHERE email IS NOT NULL;
--   DROP INDEX CONCURRENTLY "Customer_workspaceId_email_id_idx";
--   ALTER INDEX "Customer_email_tmp" RENAME TO "Customer_workspaceId_email_id_idx";
-- (and the same for phone).
DO $$
DECLARE
  col text;
  found text;
BEGIN
  FOREACH col IN ARRAY ARRAY['email', 'phone'] LOOP
    SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' -- INVALID' END
      INTO found
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relname = format('Customer_workspaceId_%s_id_idx', col)
       AND i.indrelid = '"Customer"'::regclass;
    IF found IS NULL OR found NOT LIKE format('%%USING btree ("workspaceId", %s, id) WHERE (%s IS NOT NULL)', col, col) THEN
      EXECUTE format('DROP INDEX IF EXISTS %I', format('Customer_workspaceId_%s_id_idx', col));
      EXECUTE format('CREATE INDEX %I ON "Customer" ("workspaceId", %I, id) WHERE %I IS NOT NULL',
                     format('Customer_workspaceId_%s_id_idx', col), col, col);
    END IF;
  END LOOP;
END $$;
