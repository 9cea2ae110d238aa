-- CreateTable
CREATE TABLE "FormStart" (
    "token" TEXT NOT NULL,
    "formId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "page" TEXT NOT NULL,
    "pageVersion" INTEGER NOT NULL,
    "customerId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FormStart_pkey" PRIMARY KEY ("token","formId")
);

