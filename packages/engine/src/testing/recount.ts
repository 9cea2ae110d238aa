// issue 17: the analytics rollups recounted from the raw rows they summarise — run traces (a step
// entered: the trigger's own "go" line, or another step's line naming it as `next`), messages
// (sent), message engagement (opened, clicked) and attributions (converted, revenue) — per
// (version, step, variant), so tests can check the rollups kept by the engine agree.
import type { Database } from "@postpath/db";
import type { EngineContext } from "../context.ts";
import { loadPlan } from "../plans.ts";
import { variantAt } from "../rollups.ts";

export interface Figures {
  entered: number;
  sent: number;
  opened: number;
  clicked: number;
  converted: number;
  revenue: number;
}
const zero = (): Figures => ({
  entered: 0,
  sent: 0,
  opened: 0,
  clicked: 0,
  converted: 0,
  revenue: 0,
});

/** `${versionId} ${stepId} ${variant}` → figures, from the rollups (zero rows left out). */
export async function rollupFigures(
  db: Database,
  journeyId: string,
): Promise<Map<string, Figures>> {
  const rows = await db.query<Figures & { versionId: string; stepId: string; variant: string }>(
    `SELECT "versionId", "stepId", variant, sum(entered)::int AS entered, sum(sent)::int AS sent,
            sum(opened)::int AS opened, sum(clicked)::int AS clicked,
            sum(converted)::int AS converted, sum(revenue)::float8 AS revenue
     FROM "JourneyRollup" WHERE "journeyId" = $1 GROUP BY 1, 2, 3`,
    [journeyId],
  );
  const out = new Map<string, Figures>();
  for (const r of rows) {
    const f: Figures = {
      entered: r.entered,
      sent: r.sent,
      opened: r.opened,
      clicked: r.clicked,
      converted: r.converted,
      revenue: r.revenue,
    };
    if (Object.values(f).some((v) => v !== 0))
      out.set(`${r.versionId} ${r.stepId} ${r.variant}`, f);
  }
  return out;
}

/** The same figures recounted from traces, messages, engagement and attributions. */
export async function recountFigures(
  ctx: EngineContext,
  journeyId: string,
): Promise<Map<string, Figures>> {
  const db = ctx.db;
  const out = new Map<string, Figures>();
  const plans = new Map<string, Awaited<ReturnType<typeof loadPlan>>>();
  const planOf = async (v: string) => {
    if (!plans.has(v)) plans.set(v, await loadPlan(ctx, v));
    return plans.get(v)!;
  };
  const add = async (versionId: string, runId: string, stepId: string, f: Partial<Figures>) => {
    const key = `${versionId} ${stepId} ${variantAt(await planOf(versionId), runId, stepId)}`;
    const cur = out.get(key) ?? zero();
    for (const [k, v] of Object.entries(f)) cur[k as keyof Figures] += v;
    out.set(key, cur);
  };
  const entered = await db.query<{
    versionId: string;
    runId: string;
    stepId: string;
    trigger: boolean;
  }>(
    `SELECT r."versionId", r.id AS "runId", t."stepId", t.detail->>'next' AS next,
            (t."stepId" = v.plan->>'triggerStepId') AS trigger
     FROM "RunTrace" t JOIN "JourneyRun" r ON r.id = t."runId"
     JOIN "JourneyVersion" v ON v.id = r."versionId"
     WHERE r."journeyId" = $1 AND t.detail ? 'branch' AND t.detail ? 'next'`,
    [journeyId],
  );
  for (const e of entered as ((typeof entered)[number] & { next: string | null })[]) {
    if (e.trigger) await add(e.versionId, e.runId, e.stepId, { entered: 1 });
    if (e.next) await add(e.versionId, e.runId, e.next, { entered: 1 });
  }
  const sent = await db.query<{ versionId: string; runId: string; stepId: string }>(
    `SELECT r."versionId", m."runId", m."stepId" FROM "Message" m JOIN "JourneyRun" r ON r.id = m."runId"
     WHERE r."journeyId" = $1 AND m.status = 'SENT'`,
    [journeyId],
  );
  for (const s of sent) await add(s.versionId, s.runId, s.stepId, { sent: 1 });
  const engaged = await db.query<{
    versionId: string;
    runId: string;
    stepId: string;
    kind: string;
    count: number;
  }>(
    `SELECT r."versionId", m."runId", m."stepId", e.kind, e.count
     FROM "MessageEngagement" e JOIN "Message" m ON m.id = e."messageId" JOIN "JourneyRun" r ON r.id = m."runId"
     WHERE r."journeyId" = $1`,
    [journeyId],
  );
  for (const e of engaged)
    await add(
      e.versionId,
      e.runId,
      e.stepId,
      e.kind === "clicked" ? { clicked: e.count } : { opened: e.count },
    );
  const attributed = await db.query<{
    versionId: string;
    runId: string;
    stepId: string;
    revenue: number;
  }>(
    `SELECT "versionId", "runId", "stepId", revenue::float8 AS revenue FROM "Attribution" WHERE "journeyId" = $1`,
    [journeyId],
  );
  for (const a of attributed)
    await add(a.versionId, a.runId, a.stepId, { converted: 1, revenue: a.revenue });
  return out;
}
