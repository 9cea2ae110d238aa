-- AlterTable
ALTER TABLE "Event" ADD COLUMN     "processedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "EntrySkip" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "journeyId" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "triggerId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EntrySkip_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "EntrySkip_journeyId_reason_idx" ON "EntrySkip"("journeyId", "reason");

-- CreateIndex
CREATE INDEX "EntrySkip_customerId_at_idx" ON "EntrySkip"("customerId", "at");

-- CreateIndex
CREATE UNIQUE INDEX "EntrySkip_journeyId_customerId_triggerId_key" ON "EntrySkip"("journeyId", "customerId", "triggerId");


-- Events stored before this migration were handed to their jobs by the code that had no marker:
-- count them as processed, so the sweeper does not queue the whole retention window again.
UPDATE "Event" SET "processedAt" = "receivedAt" WHERE "processedAt" IS NULL;

-- The sweeper's look-up of events still to process, oldest first (partial: stays small).
CREATE INDEX "Event_unprocessed_idx" ON "Event"("receivedAt") WHERE "processedAt" IS NULL;
