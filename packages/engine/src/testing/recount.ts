// issue 17: the analytics rollups recounted from the raw rows they summarise — run traces (a step
// entered: the trigger's own "go" line, or another step's line naming it as `next`), messages
// (sent), message engagement (opened, clicked) and attributions (converted, revenue) — per
// (version, step, variant), so tests can check the rollups kept by the engine agree.
//
// issue 18: a run moved to a newer version on publish has its traces on both: each trace counts on
// the version the run was on when it was written — the first move's `fromVersionId` before the
// first "run.moved" line, that line's `toVersionId` after it — and the move line itself counts
// `movedOut` at the old version's step and `movedIn` at the new one's. A message counts (sent, and
// its opens and clicks) on the version its "message.sent" line was written on.
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
  movedIn: number;
  movedOut: number;
}
const zero = (): Figures => ({
  entered: 0,
  sent: 0,
  opened: 0,
  clicked: 0,
  converted: 0,
  revenue: 0,
  movedIn: 0,
  movedOut: 0,
});

/** `${versionId} ${stepId} ${variant}` → figures, from the rollups (zero rows left out). */
export async function rollupFigures(
  db: Database,
  journeyId: string,
): Promise<Map<string, Figures>> {
  const rows = await db.query<Figures & { versionId: string; stepId: string; variant: string }>(
    `SELECT "versionId", "stepId", variant, sum(entered)::int AS entered, sum(sent)::int AS sent,
            sum(opened)::int AS opened, sum(clicked)::int AS clicked,
            sum(converted)::int AS converted, sum(revenue)::float8 AS revenue,
            sum("movedIn")::int AS "movedIn", sum("movedOut")::int AS "movedOut"
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
      movedIn: r.movedIn,
      movedOut: r.movedOut,
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
  // Every trace line that counts, per run in the order written, with the run's version now.
  const lines = await db.query<{
    runId: string;
    runVersion: string;
    id: string;
    stepId: string | null;
    kind: string;
    detail: {
      branch?: unknown;
      next?: unknown;
      to?: unknown;
      from?: unknown;
      fromVersionId?: string;
      toVersionId?: string;
      messageId?: string;
    } | null;
  }>(
    `SELECT r.id AS "runId", r."versionId" AS "runVersion", t.id::text AS id, t."stepId", t.kind, t.detail
     FROM "RunTrace" t JOIN "JourneyRun" r ON r.id = t."runId"
     WHERE r."journeyId" = $1
       AND ((t.detail ? 'branch' AND t.detail ? 'next') OR t.kind IN ('run.moved', 'message.sent'))
     ORDER BY r.id, t.id`,
    [journeyId],
  );
  const startedOn = new Map<string, string>(); // run → the version before its first move
  for (const t of lines)
    if (t.kind === "run.moved" && t.detail?.fromVersionId && !startedOn.has(t.runId))
      startedOn.set(t.runId, t.detail.fromVersionId);
  const sentOn = new Map<string, string>(); // message id → the version it was sent on
  let run = "";
  let version = "";
  for (const t of lines) {
    if (t.runId !== run) {
      run = t.runId;
      version = startedOn.get(run) ?? t.runVersion;
    }
    const d = t.detail ?? {};
    if (t.kind === "run.moved") {
      if (typeof d.to === "string" && d.toVersionId && typeof d.from === "string") {
        await add(version, t.runId, d.from, { movedOut: 1 });
        version = d.toVersionId;
        await add(version, t.runId, d.to, { movedIn: 1 });
      }
    } else if (t.kind === "message.sent") {
      if (d.messageId && !sentOn.has(d.messageId)) sentOn.set(d.messageId, version);
    } else if (t.stepId) {
      if (t.stepId === (await planOf(version))?.triggerStepId)
        await add(version, t.runId, t.stepId, { entered: 1 });
      if (typeof d.next === "string") await add(version, t.runId, d.next, { entered: 1 });
    }
  }
  const sent = await db.query<{ id: string; versionId: string; runId: string; stepId: string }>(
    `SELECT m.id, r."versionId", m."runId", m."stepId" FROM "Message" m JOIN "JourneyRun" r ON r.id = m."runId"
     WHERE r."journeyId" = $1 AND m.status = 'SENT'`,
    [journeyId],
  );
  for (const s of sent) await add(sentOn.get(s.id) ?? s.versionId, s.runId, s.stepId, { sent: 1 });
  const engaged = await db.query<{
    id: string;
    versionId: string;
    runId: string;
    stepId: string;
    kind: string;
    count: number;
  }>(
    `SELECT m.id, r."versionId", m."runId", m."stepId", e.kind, e.count
     FROM "MessageEngagement" e JOIN "Message" m ON m.id = e."messageId" JOIN "JourneyRun" r ON r.id = m."runId"
     WHERE r."journeyId" = $1`,
    [journeyId],
  );
  for (const e of engaged)
    await add(
      sentOn.get(e.id) ?? e.versionId,
      e.runId,
      e.stepId,
      // Delivery reports (delivered, bounced, …) are engagement rows too; they count no open.
      e.kind === "clicked" ? { clicked: e.count } : e.kind === "opened" ? { opened: e.count } : {},
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
