-- DropForeignKey
ALTER TABLE "JourneyRun" DROP CONSTRAINT "JourneyRun_versionId_fkey";

-- DropForeignKey
ALTER TABLE "JourneyRun" DROP CONSTRAINT "JourneyRun_customerId_fkey";

