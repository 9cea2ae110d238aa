-- issue 15: an identify call's segment check, kept in Postgres with the merge of its traits until
-- a check has read the customer after it: a transactional outbox, as "PendingCheck" is for journey
-- steps. The identify group commit's statement inserts one row per customer it merged
-- (identify-commit.ts); the check job (events.ts processCustomersChanged) reads the customer's rows
-- in the statement that reads the customer and deletes exactly those once done; the sweeper queues
-- a check for rows older than its grace (maintenance.ts). So a check Redis accepted and then lost
-- (a restart without persistence) is queued again. No foreign keys (hot path).
-- A new, empty table: no lock on anything else.
CREATE TABLE "IdentifyCheck" (
    "customerId" TEXT NOT NULL,
    "callId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdentifyCheck_pkey" PRIMARY KEY ("customerId","callId")
);

CREATE INDEX "IdentifyCheck_createdAt_idx" ON "IdentifyCheck"("createdAt");
