-- issue 18: a run moved to a newer version on publish counts as moved out of its old step and
-- moved in at the new version's step (not as completed / entered), so per-version figures add up.
-- AlterTable
ALTER TABLE "StepCounter" ADD COLUMN     "movedIn" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "movedOut" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "JourneyRollup" ADD COLUMN     "movedIn" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "movedOut" INTEGER NOT NULL DEFAULT 0;
