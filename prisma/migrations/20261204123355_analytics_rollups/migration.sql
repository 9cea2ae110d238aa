-- CreateTable
CREATE TABLE "JourneyRollup" (
    "versionId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "variant" TEXT NOT NULL DEFAULT '',
    "day" DATE NOT NULL,
    "shard" INTEGER NOT NULL,
    "journeyId" TEXT NOT NULL,
    "entered" INTEGER NOT NULL DEFAULT 0,
    "sent" INTEGER NOT NULL DEFAULT 0,
    "delivered" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "opened" INTEGER NOT NULL DEFAULT 0,
    "openedUnique" INTEGER NOT NULL DEFAULT 0,
    "clicked" INTEGER NOT NULL DEFAULT 0,
    "clickedUnique" INTEGER NOT NULL DEFAULT 0,
    "converted" INTEGER NOT NULL DEFAULT 0,
    "revenue" DECIMAL(18,2) NOT NULL DEFAULT 0,

    CONSTRAINT "JourneyRollup_pkey" PRIMARY KEY ("versionId","stepId","variant","day","shard")
);

-- CreateTable
CREATE TABLE "Order" (
    "workspaceId" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "revenue" DECIMAL(18,2) NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "eventId" TEXT NOT NULL,

    CONSTRAINT "Order_pkey" PRIMARY KEY ("workspaceId","orderId")
);

-- CreateTable
CREATE TABLE "MessageEngagement" (
    "messageId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 1,
    "firstAt" TIMESTAMP(3) NOT NULL,
    "lastAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MessageEngagement_pkey" PRIMARY KEY ("messageId","kind")
);

-- CreateTable
CREATE TABLE "Attribution" (
    "runId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "journeyId" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "variant" TEXT NOT NULL DEFAULT '',
    "messageId" TEXT,
    "eventId" TEXT NOT NULL,
    "orderId" TEXT,
    "revenue" DECIMAL(18,2) NOT NULL DEFAULT 0,
    "basis" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Attribution_pkey" PRIMARY KEY ("runId")
);

-- CreateIndex
CREATE INDEX "JourneyRollup_journeyId_day_idx" ON "JourneyRollup"("journeyId", "day");

-- CreateIndex
CREATE INDEX "Order_customerId_at_idx" ON "Order"("customerId", "at");

-- CreateIndex
CREATE INDEX "Order_workspaceId_at_idx" ON "Order"("workspaceId", "at");

-- CreateIndex
CREATE INDEX "Attribution_journeyId_at_idx" ON "Attribution"("journeyId", "at");

