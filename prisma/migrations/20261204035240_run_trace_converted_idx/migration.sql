-- issue 14, item 6: the page funnel's "reached goal" finds the runs with a conversion among the
-- runs that made a page's links. A partial index (conversions only: tiny, and no cost to the
-- other trace rows) instead of probing every run's traces. Prisma cannot describe it, so the
-- schema does not name it (like Event_unprocessed_idx).
CREATE INDEX "RunTrace_converted_idx" ON "RunTrace" ("runId") WHERE kind = 'converted';

-- The funnel joins a workspace's form starts.
CREATE INDEX "FormStart_workspaceId_idx" ON "FormStart"("workspaceId");
