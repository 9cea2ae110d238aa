-- CreateTable
CREATE TABLE "IdentifyCall" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "externalId" TEXT NOT NULL,
    "enqueuedAt" TIMESTAMP(3),
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdentifyCall_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "IdentifyCall_workspaceId_messageId_key" ON "IdentifyCall"("workspaceId", "messageId");

-- AddForeignKey
ALTER TABLE "IdentifyCall" ADD CONSTRAINT "IdentifyCall_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

