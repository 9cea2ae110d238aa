-- issue 17, item 1: providers report deliveries, bounces and complaints by their own message id
-- (Twilio's MessageSid, the email's Message-ID): delivery reports find the message by it.

-- CreateIndex
CREATE INDEX "Message_workspaceId_providerMessageId_idx" ON "Message"("workspaceId", "providerMessageId");
