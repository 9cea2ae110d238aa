-- DropIndex
DROP INDEX "JourneyRun_journeyId_customerId_entryNumber_key";

-- AlterTable
ALTER TABLE "JourneyRun" ADD COLUMN     "entryKey" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE UNIQUE INDEX "JourneyRun_journeyId_customerId_entryKey_entryNumber_key" ON "JourneyRun"("journeyId", "customerId", "entryKey", "entryNumber");

