-- AlterTable
ALTER TABLE "Purl" ADD COLUMN     "stepId" TEXT;

-- CreateTable
CREATE TABLE "PageVisit" (
    "id" BIGSERIAL NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "page" TEXT NOT NULL,
    "pageVersion" INTEGER,
    "customerId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "stepId" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PageVisit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PageVisit_workspaceId_page_pageVersion_idx" ON "PageVisit"("workspaceId", "page", "pageVersion");

-- CreateIndex
CREATE INDEX "PageVisit_token_idx" ON "PageVisit"("token");

-- CreateIndex
CREATE INDEX "Purl_workspaceId_page_idx" ON "Purl"("workspaceId", "page");

-- CreateIndex
CREATE INDEX "Purl_workspaceId_stepId_idx" ON "Purl"("workspaceId", "stepId");


-- Links made before the column: their step is their outbox message's step.
UPDATE "Purl" p SET "stepId" = m."stepId" FROM "Message" m WHERE m.id = p."messageId" AND p."stepId" IS NULL;
