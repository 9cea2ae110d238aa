-- issue 13: a send claims its message (SENDING) before the provider call; a worker dying after the
-- hand-over leaves it SENDING, which the next attempt resolves per the step's delivery policy
-- (resend with the same key, or UNCERTAIN for a person). Replays keep the earlier outcomes.
ALTER TYPE "MessageStatus" ADD VALUE 'SENDING';
ALTER TYPE "MessageStatus" ADD VALUE 'UNCERTAIN';

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "claimToken" TEXT,
ADD COLUMN     "history" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "replayedAt" TIMESTAMP(3),
ADD COLUMN     "dismissedAt" TIMESTAMP(3);
