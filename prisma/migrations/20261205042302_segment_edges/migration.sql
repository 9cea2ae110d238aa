-- Failure correctness (issue 16's segment triggers): a segment entry or exit is kept until the
-- journeys it triggers were started, so a crash between the membership change and their start
-- loses no entry (the sweeper replays it; the entry's trigger id makes each journey start once).
-- A new, empty table: no lock on existing data.

-- CreateTable
CREATE TABLE "SegmentEdge" (
    "segmentId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "change" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "workspaceId" TEXT NOT NULL,

    CONSTRAINT "SegmentEdge_pkey" PRIMARY KEY ("segmentId","customerId","change","at")
);

-- CreateIndex
CREATE INDEX "SegmentEdge_at_idx" ON "SegmentEdge"("at");

-- AddForeignKey
ALTER TABLE "SegmentEdge" ADD CONSTRAINT "SegmentEdge_segmentId_fkey" FOREIGN KEY ("segmentId") REFERENCES "Segment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentEdge" ADD CONSTRAINT "SegmentEdge_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "Customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

