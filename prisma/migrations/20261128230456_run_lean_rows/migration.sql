-- DropForeignKey
ALTER TABLE "JourneyRun" DROP CONSTRAINT "JourneyRun_workspaceId_fkey";

-- DropForeignKey
ALTER TABLE "JourneyRun" DROP CONSTRAINT "JourneyRun_journeyId_fkey";

-- DropIndex
DROP INDEX "JourneyRun_workspaceId_customerId_status_idx";

-- DropIndex
DROP INDEX "JourneyRun_workspaceId_parkedEvent_parkedKey_idx";

-- DropIndex
DROP INDEX "JourneyRun_status_waitingUntil_idx";

-- DropIndex
DROP INDEX "JourneyRun_status_updatedAt_idx";

-- AlterTable
ALTER TABLE "JourneyRun" ADD COLUMN     "trigger" JSONB,
ALTER COLUMN "state" DROP NOT NULL;

-- CreateIndex
CREATE INDEX "JourneyRun_customerId_status_idx" ON "JourneyRun"("customerId", "status");


-- Partial indexes (written by hand: Prisma 6 cannot declare them; schema.prisma lists them in a
-- comment on JourneyRun). A run is in each only while it is waiting or active.
CREATE INDEX "JourneyRun_waiting_idx" ON "JourneyRun"("waitingUntil") WHERE "status" = 'WAITING';
CREATE INDEX "JourneyRun_active_idx" ON "JourneyRun"("updatedAt") WHERE "status" = 'ACTIVE';
