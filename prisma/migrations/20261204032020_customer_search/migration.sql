-- CreateIndex
CREATE INDEX "Customer_workspaceId_email_id_idx" ON "Customer"("workspaceId", "email", "id");

-- CreateIndex
CREATE INDEX "Customer_workspaceId_phone_id_idx" ON "Customer"("workspaceId", "phone", "id");

-- CreateIndex
CREATE INDEX "Customer_attributes_idx" ON "Customer" USING GIN ("attributes" jsonb_path_ops);

