-- issue 15: the segment check of a journey step that changed its customer (an attribute or tag
-- step, in a workspace with live segment-triggered journeys), kept in Postgres with the
-- transition until a check has read the customer after it: a transactional outbox. The run's
-- commit inserts the row in the same statement as the transition (store.ts); the check job
-- (events.ts processCustomersChanged) reads the customer's rows in the statement that reads the
-- customer and deletes exactly those once done; the sweeper queues a check for rows older than its
-- grace (maintenance.ts). So a check that never reached Redis (Redis refusing it and the timer
-- bucket's hand-off both, a worker dying in between) or that Redis lost is queued again.
-- Workspaces without segment-triggered journeys write nothing here. No foreign keys (hot path).
-- A new, empty table: no lock on anything else.
CREATE TABLE "PendingCheck" (
    "runId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingCheck_pkey" PRIMARY KEY ("runId", "seq")
);

CREATE INDEX "PendingCheck_customerId_idx" ON "PendingCheck"("customerId");

CREATE INDEX "PendingCheck_createdAt_idx" ON "PendingCheck"("createdAt");
