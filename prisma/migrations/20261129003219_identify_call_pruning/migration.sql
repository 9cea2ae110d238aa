-- CreateIndex
CREATE INDEX "IdentifyCall_receivedAt_idx" ON "IdentifyCall"("receivedAt");

