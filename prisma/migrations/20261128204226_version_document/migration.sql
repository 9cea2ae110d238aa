-- AlterTable
ALTER TABLE "JourneyVersion" ADD COLUMN     "document" JSONB;

