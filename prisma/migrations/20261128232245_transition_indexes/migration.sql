-- DropIndex
DROP INDEX "JourneyRun_journeyId_status_idx";

-- DropIndex
DROP INDEX "RunTrace_stepId_kind_idx";

