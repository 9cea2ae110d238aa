-- CreateEnum
CREATE TYPE "EnrolmentStatus" AS ENUM ('RUNNING', 'DONE', 'FAILED');

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "customerId" TEXT;

-- CreateTable
CREATE TABLE "StepCounter" (
    "versionId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "shard" INTEGER NOT NULL,
    "journeyId" TEXT NOT NULL,
    "entered" INTEGER NOT NULL DEFAULT 0,
    "completed" INTEGER NOT NULL DEFAULT 0,
    "sent" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "converted" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "StepCounter_pkey" PRIMARY KEY ("versionId","stepId","shard")
);

-- CreateTable
CREATE TABLE "CouponPool" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CouponPool_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CouponCode" (
    "id" TEXT NOT NULL,
    "poolId" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "messageId" TEXT,
    "claimedAt" TIMESTAMP(3),

    CONSTRAINT "CouponCode_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Purl" (
    "token" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "page" TEXT NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "expiresAt" TIMESTAMP(3),
    "visits" INTEGER NOT NULL DEFAULT 0,
    "lastVisitAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Purl_pkey" PRIMARY KEY ("token")
);

-- CreateTable
CREATE TABLE "SegmentMember" (
    "journeyId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "since" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SegmentMember_pkey" PRIMARY KEY ("journeyId","customerId")
);

-- CreateTable
CREATE TABLE "Enrolment" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "journeyId" TEXT NOT NULL,
    "status" "EnrolmentStatus" NOT NULL DEFAULT 'RUNNING',
    "criteria" JSONB NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "enrolled" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "cursor" TEXT,
    "error" TEXT,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Enrolment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StepCounter_journeyId_idx" ON "StepCounter"("journeyId");

-- CreateIndex
CREATE UNIQUE INDEX "CouponPool_workspaceId_name_key" ON "CouponPool"("workspaceId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "CouponCode_messageId_key" ON "CouponCode"("messageId");

-- CreateIndex
CREATE INDEX "CouponCode_poolId_messageId_idx" ON "CouponCode"("poolId", "messageId");

-- CreateIndex
CREATE UNIQUE INDEX "CouponCode_poolId_code_key" ON "CouponCode"("poolId", "code");

-- CreateIndex
CREATE UNIQUE INDEX "Purl_messageId_key" ON "Purl"("messageId");

-- CreateIndex
CREATE INDEX "Enrolment_journeyId_createdAt_idx" ON "Enrolment"("journeyId", "createdAt");

-- CreateIndex
CREATE INDEX "JourneyRun_status_waitingUntil_idx" ON "JourneyRun"("status", "waitingUntil");

-- CreateIndex
CREATE INDEX "JourneyRun_status_updatedAt_idx" ON "JourneyRun"("status", "updatedAt");

-- CreateIndex
CREATE INDEX "JourneyRun_journeyId_status_idx" ON "JourneyRun"("journeyId", "status");

-- CreateIndex
CREATE INDEX "Message_customerId_channel_createdAt_idx" ON "Message"("customerId", "channel", "createdAt");

-- AddForeignKey
ALTER TABLE "CouponCode" ADD CONSTRAINT "CouponCode_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "CouponPool"("id") ON DELETE CASCADE ON UPDATE CASCADE;

