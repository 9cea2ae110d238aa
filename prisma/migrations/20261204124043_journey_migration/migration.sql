-- CreateTable
CREATE TABLE "JourneyMigration" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "journeyId" TEXT NOT NULL,
    "fromVersionIds" TEXT[],
    "toVersionId" TEXT NOT NULL,
    "choices" JSONB NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "moved" INTEGER NOT NULL DEFAULT 0,
    "exited" INTEGER NOT NULL DEFAULT 0,
    "kept" INTEGER NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL DEFAULT 'RUNNING',
    "cursor" TEXT,
    "pageEnd" TEXT,
    "pass" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdById" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "JourneyMigration_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "JourneyMigration_journeyId_startedAt_idx" ON "JourneyMigration"("journeyId", "startedAt");

