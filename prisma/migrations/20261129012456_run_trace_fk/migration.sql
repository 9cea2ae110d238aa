-- DropForeignKey
ALTER TABLE "RunTrace" DROP CONSTRAINT "RunTrace_runId_fkey";

