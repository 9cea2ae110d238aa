-- CreateIndex
CREATE INDEX "Event_receivedAt_idx" ON "Event"("receivedAt");

