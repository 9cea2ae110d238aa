// Issue 18, item 3: moving the customers in flight to a newly published version, in the workers.
//
// One JourneyMigration row per publish that chose "move them", worked through by a `migration`
// job on the jobs queue: keyset pages (by run id) of the old versions' waiting runs; each run's
// move is its own transaction, a compare-and-set on (seq, version, step, WAITING) — the same seq
// guard every transition of the runner commits under (store.ts), so a job that read the run before
// the move finds it moved on and writes nothing (no step runs on both versions, no message is
// stored twice), and a run that moved on before the move is read again by a later pass. The
// transaction rewrites the run (version, step, state, timer), writes the trace line naming both
// versions and the mapping, moves the run's count from the old version's step to the new one's
// (StepCounter and the day's JourneyRollup rows: `movedOut` there, `movedIn` here — see moveOne),
// and counts it on the migration row: so the analytics move with the run exactly once, whatever
// dies when. The cursor is saved after each page, and the page being worked on (`pageEnd`) before
// it, so a retried job (a SIGKILLed worker) continues from the last finished page and re-creates
// the follow-ups (timers, sends) of runs its predecessor moved but had not yet scheduled. Runs busy
// on a step (ACTIVE: a send in flight, a first job not yet run) are moved by a later pass once
// they wait, and so are runs with a message still in the outbox (pending, being sent, uncertain):
// its send is then recorded on the version that made it (and its opens and clicks, engagement.ts,
// follow it there). A pass runs every PASS_DELAY_MS, at most MAX_PASSES times.
import type { Prisma } from "@postpath/db";
import {
  destinationOf,
  moveRunState,
  parsePlan,
  type MigrationChoices,
  type Plan,
  type RunState,
} from "@postpath/journey";
import { randomUUID } from "node:crypto";
import { queueAttributeCheck, segmentChecksApply } from "./attribute-checks.ts";
import type { EngineContext } from "./context.ts";
import { bumpCounters, countersFromTransition, singleCounter, type Counters } from "./counters.ts";
import { labelsOf } from "./migration.ts";
import { addUnlessPending } from "./queues.ts";
import { ensureFollowUps, renderOutbox } from "./runner.ts";
import { bumpRollup, enteredRollups, utcDay, variantAt, type RollupDelta } from "./rollups.ts";
import { scheduleTimer } from "./timers.ts";

/** Runs read per page. */
export const MIGRATION_PAGE = 200;
/** Runs moved at once within a page. */
const LANES = 4;
/** Passes over the old versions for runs that were busy on a step (about two minutes). */
export const MAX_PASSES = 120;
export const PASS_DELAY_MS = 1000;

export interface StoredChoices extends MigrationChoices {
  /** Step names of the new version as drawn when published (the trace lines use them). */
  labels?: Record<string, string>;
}

export const migrationJobId = (id: string, pass: number) => `migration-${id}-${pass}`;

/** Queues the job of a migration's pass (idempotent: one job per pass). */
export async function enqueueMigration(
  ctx: EngineContext,
  migrationId: string,
  pass: number,
  delay = 0,
): Promise<void> {
  await addUnlessPending(
    ctx.queues.jobs,
    "migration",
    { kind: "migration", migrationId, pass },
    { jobId: migrationJobId(migrationId, pass), ...(delay ? { delay } : {}) },
  );
}

interface VersionPlan {
  id: string;
  version: number;
  plan: Plan;
  labels: Record<string, string>;
}

interface MovableRow {
  id: string;
  seq: number;
  status: string;
  state: RunState | null;
  versionId: string;
  stepId: string | null;
  workspaceId: string;
  journeyId: string;
  customerId: string;
}

type MoveOutcome = "moved" | "exited" | "kept" | "busy" | "stale";

function dbStatus(s: RunState["status"]): "ACTIVE" | "WAITING" | "COMPLETED" | "EXITED" {
  return s === "active" || s === "awaiting"
    ? "ACTIVE"
    : s === "waiting" || s === "parked"
      ? "WAITING"
      : s === "completed"
        ? "COMPLETED"
        : "EXITED";
}

function addCounters(into: Counters, more: Counters): void {
  for (const [step, d] of more) {
    const mine = into.get(step);
    if (!mine) into.set(step, { ...d });
    else for (const k of Object.keys(d) as (keyof typeof d)[]) mine[k] += d[k];
  }
}

/** Moves one run; see the file comment. */
async function moveOne(
  ctx: EngineContext,
  migrationId: string,
  row: MovableRow,
  versions: Map<string, VersionPlan>,
  to: VersionPlan,
  choices: MigrationChoices,
): Promise<MoveOutcome> {
  if (row.status !== "WAITING" || !row.state || !row.stepId) return "busy";
  const from = versions.get(row.versionId);
  if (!from) return "kept";
  const now = ctx.now();
  const moved = moveRunState({ from, to, state: row.state, choices, now });
  if (!moved) return "kept";
  const next = moved.nextState;
  const status = dbStatus(next.status);
  const exited = status === "EXITED" || status === "COMPLETED";
  const versionId = exited ? row.versionId : to.id;
  let waitingUntil: number | null = null;
  let parkedEvent: string | null = null;
  let parkedKey: string | null = null;
  const messages: Prisma.MessageCreateManyInput[] = [];
  const traces: { stepId: string | null; kind: string; detail: Prisma.InputJsonValue }[] = [];
  const attrSet: Record<string, unknown> = {};
  const attrUnset = new Set<string>();
  const tagAdd = new Set<string>();
  const tagRemove = new Set<string>();
  let customerChanged = false;
  for (const e of moved.effects) {
    switch (e.kind) {
      case "trace":
        traces.push({
          stepId: e.stepId,
          kind: e.decision,
          // The move's line names both versions by id too (the analytics recount reads them).
          detail: (e.decision === "run.moved"
            ? { ...e.detail, fromVersionId: row.versionId, toVersionId: versionId }
            : e.detail) as Prisma.InputJsonValue,
        });
        break;
      case "schedule":
        waitingUntil = e.at;
        break;
      case "park":
        parkedEvent = e.event;
        parkedKey = e.correlation ? JSON.stringify(e.correlation.value ?? null) : null;
        waitingUntil = e.until;
        break;
      case "send":
      case "issueCoupon":
      case "createPurl": {
        const { recipient, payload, error } = await renderOutbox(e, next);
        messages.push({
          id: `m${randomUUID().replace(/-/g, "").slice(0, 24)}`,
          workspaceId: row.workspaceId,
          runId: row.id,
          customerId: row.customerId,
          stepId: e.stepId,
          runSeq: row.seq + 1,
          createdAt: new Date(now),
          channel: e.kind === "send" ? e.channel : e.kind === "issueCoupon" ? "coupon" : "purl",
          idempotencyKey: `${row.id}:${row.seq}:${e.stepId}`,
          recipient,
          payload: payload as Prisma.InputJsonValue,
          status: error ? "FAILED" : "PENDING",
          error: error ?? null,
        });
        break;
      }
      case "convert":
        traces.push({
          stepId: e.stepId ?? next.stepId,
          kind: "converted",
          detail: { goal: e.goal },
        });
        break;
      case "updateAttributes":
        customerChanged = true;
        for (const [k, v] of Object.entries(e.set)) {
          attrSet[k] = v;
          attrUnset.delete(k);
        }
        for (const k of e.unset) {
          delete attrSet[k];
          attrUnset.add(k);
        }
        break;
      case "updateTags":
        customerChanged = true;
        for (const t of e.add) {
          tagAdd.add(t);
          tagRemove.delete(t);
        }
        for (const t of e.remove) {
          tagRemove.add(t);
          tagAdd.delete(t);
        }
        break;
      case "exit":
      case "complete":
        break;
    }
  }
  const waiting = status === "WAITING" ? waitingUntil : null;
  const parked = next.status === "parked";
  // Analytics stay per version and add up (issue 18): a moved run counts as `movedOut` at its step
  // of the old version and `movedIn` at its step of the new one — not `completed` / `entered`, so
  // each version's `entered` is the runs that arrived at the step on that version and "all
  // versions" counts nobody twice (per version and step, entered + movedIn − completed − movedOut
  // is the runs there now). Steps it goes through after the one it moved to (a deleted step mapped
  // to a send) are counted as any transition counts them (entered, completed). A run the move
  // exits ends at its old step, on its old version: `completed` there, as any exit. The same deltas
  // go to the day's JourneyRollup rows (per A/B variant), in the transaction that moves the run.
  const target = (moved.effects[0] as { detail?: { to?: unknown } }).detail?.to;
  const oldCounters = singleCounter(
    row.stepId,
    typeof target === "string" ? "movedOut" : "completed",
  );
  const newCounters: Counters = new Map();
  const rollups: { versionId: string; plan: Plan; stepId: string; delta: RollupDelta }[] = [];
  if (typeof target === "string") {
    addCounters(newCounters, singleCounter(target, "movedIn"));
    // From a deleted step to another: the step runs, and counts what it goes through.
    const after = countersFromTransition(
      to.plan,
      { ...row.state, stepId: target },
      { kind: "timer", stepId: target },
      moved.effects.slice(1),
    );
    addCounters(newCounters, after);
    rollups.push(
      { versionId: row.versionId, plan: from.plan, stepId: row.stepId, delta: { movedOut: 1 } },
      { versionId: to.id, plan: to.plan, stepId: target, delta: { movedIn: 1 } },
      ...enteredRollups(to.plan, row.id, after, now).map((r) => ({
        versionId: to.id,
        plan: to.plan,
        stepId: r.step,
        delta: { entered: r.entered },
      })),
    );
  }
  // issue 15: the segment check kept with the move (attribute-checks.ts), as a run's commit does.
  const pendingCheck = customerChanged && (await segmentChecksApply(ctx, row.workspaceId));
  const committed = await ctx.db.prisma.$transaction(async (tx) => {
    const n = await tx.$executeRaw`
      UPDATE "JourneyRun" SET
        "versionId" = ${versionId}, seq = seq + 1, status = ${status}::"RunStatus",
        state = ${JSON.stringify(next)}::jsonb, "currentStepId" = ${next.stepId},
        "waitingUntil" = ${waiting === null ? null : new Date(waiting)},
        "parkedEvent" = ${parked ? parkedEvent : null}, "parkedKey" = ${parked ? parkedKey : null},
        "endedAt" = ${exited ? new Date(now) : null}, "updatedAt" = ${new Date(now)}
      WHERE id = ${row.id} AND seq = ${row.seq} AND "versionId" = ${row.versionId}
        AND "currentStepId" = ${row.stepId} AND status = 'WAITING'
        AND NOT EXISTS (SELECT 1 FROM "Message" m WHERE m."runId" = ${row.id}
                        AND m.status IN ('PENDING', 'SENDING', 'UNCERTAIN'))`;
    if (n === 0) return false;
    await tx.runTrace.createMany({ data: traces.map((t) => ({ runId: row.id, ...t })) });
    if (messages.length) {
      // issue 15: each message's idempotency key, unique across every month of "Message", in the
      // same transaction (a key stored before fails the move, as the unique index did).
      await tx.messageKey.createMany({
        data: messages.map((m) => ({
          idempotencyKey: m.idempotencyKey,
          messageId: m.id as string,
          createdAt: m.createdAt ?? new Date(now),
        })),
      });
      await tx.message.createMany({ data: messages });
    }
    // The customer's row before the step's counter and rollup rows: the order the run commit
    // takes them in (store.ts commitBatch), so a move and a commit cannot wait on each other.
    if (customerChanged)
      await tx.$executeRaw`
        UPDATE "Customer" SET
          attributes = (attributes || ${JSON.stringify(attrSet)}::jsonb) - ${[...attrUnset]}::text[],
          tags = ARRAY(SELECT DISTINCT g FROM unnest(tags || ${[...tagAdd]}::text[]) AS g
                       WHERE NOT (g = ANY(${[...tagRemove]}::text[])) ORDER BY g),
          "updatedAt" = now() AT TIME ZONE 'UTC'
        WHERE id = ${row.customerId}`;
    if (pendingCheck)
      await tx.pendingCheck.createMany({
        data: [
          {
            runId: row.id,
            seq: row.seq,
            workspaceId: row.workspaceId,
            customerId: row.customerId,
            createdAt: new Date(now),
          },
        ],
        skipDuplicates: true,
      });
    await bumpCounters(tx, row.versionId, row.journeyId, oldCounters);
    await bumpCounters(tx, to.id, row.journeyId, newCounters);
    for (const r of rollups)
      await bumpRollup(
        tx,
        {
          versionId: r.versionId,
          journeyId: row.journeyId,
          stepId: r.stepId,
          variant: variantAt(r.plan, row.id, r.stepId),
          day: utcDay(now),
        },
        r.delta,
      );
    await tx.$executeRaw`
      UPDATE "JourneyMigration" SET moved = moved + ${exited ? 0 : 1}, exited = exited + ${exited ? 1 : 0}
      WHERE id = ${migrationId}`;
    return true;
  });
  if (!committed) return "stale";
  if (pendingCheck)
    // The customer changed: segment-triggered journeys may now match (checked in batches).
    await queueAttributeCheck(ctx, {
      workspaceId: row.workspaceId,
      customerId: row.customerId,
      runId: row.id,
      seq: row.seq,
    });
  await followUps(ctx, {
    id: row.id,
    seq: row.seq + 1,
    status,
    stepId: next.stepId,
    waiting,
    parked,
  });
  return exited ? "exited" : "moved";
}

/** What carries a moved run on: its timer (bucketed, as the runner schedules it), or its sends. */
async function followUps(
  ctx: EngineContext,
  r: {
    id: string;
    seq: number;
    status: string;
    stepId: string;
    waiting: number | null;
    parked: boolean;
  },
): Promise<void> {
  if (r.status === "WAITING" && r.waiting !== null && !r.parked)
    await scheduleTimer(ctx, { runId: r.id, seq: r.seq, stepId: r.stepId }, r.waiting);
  else if (r.status === "WAITING" || r.status === "ACTIVE") await ensureFollowUps(ctx, r.id); // parked: also looks back for the new event
}

async function loadVersions(ctx: EngineContext, ids: string[]): Promise<Map<string, VersionPlan>> {
  const rows = await ctx.db.prisma.journeyVersion.findMany({
    where: { id: { in: ids } },
    select: { id: true, version: true, plan: true, document: true },
  });
  return new Map(
    rows.map((v) => {
      const labels = labelsOf(v.document);
      return [
        v.id,
        {
          id: v.id,
          version: v.version,
          plan: parsePlan(v.plan),
          labels,
        },
      ];
    }),
  );
}

export interface MigrationOutcome {
  status: string;
  moved: number;
  exited: number;
  kept: number;
  pass: number;
}

/** One pass of a migration (the `migration` job); see the file comment. */
export async function runMigration(
  ctx: EngineContext,
  migrationId: string,
  pass: number,
): Promise<MigrationOutcome> {
  const { prisma } = ctx.db;
  const m = await prisma.journeyMigration.findUnique({ where: { id: migrationId } });
  if (!m) {
    ctx.log.warn({ migrationId }, "migration job for a migration that no longer exists; ignoring");
    return { status: "MISSING", moved: 0, exited: 0, kept: 0, pass };
  }
  const result = () =>
    prisma.journeyMigration.findUniqueOrThrow({ where: { id: migrationId } }).then((r) => ({
      status: r.status,
      moved: r.moved,
      exited: r.exited,
      kept: r.kept,
      pass: r.pass,
    }));
  if (m.status !== "RUNNING" || m.pass !== pass) return result(); // done, or a pass already taken over
  const choices = m.choices as unknown as StoredChoices;
  const versions = await loadVersions(ctx, [...m.fromVersionIds, m.toVersionId]);
  const to = versions.get(m.toVersionId);
  if (!to) {
    await prisma.journeyMigration.update({
      where: { id: m.id },
      data: {
        status: "FAILED",
        error: "the new version no longer exists",
        finishedAt: new Date(ctx.now()),
      },
    });
    return result();
  }
  if (choices.labels) to.labels = { ...to.labels, ...choices.labels };

  // A page in flight when the previous attempt died: its moved runs may lack their follow-ups.
  if (m.pageEnd) {
    const orphans = await ctx.db.query<{ id: string }>(
      `SELECT id FROM "JourneyRun"
       WHERE "versionId" = $1 AND status IN ('ACTIVE', 'WAITING') AND id > $2 AND id <= $3`,
      [m.toVersionId, m.cursor ?? "", m.pageEnd],
    );
    for (const o of orphans) await ensureFollowUps(ctx, o.id, { recover: true });
  }

  let cursor = m.cursor ?? "";
  for (;;) {
    const rows = await ctx.db.query<MovableRow>(
      `SELECT id, seq, status, state, "versionId", "currentStepId" AS "stepId", "workspaceId", "journeyId", "customerId"
       FROM "JourneyRun"
       WHERE "versionId" = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING') AND id > $2
       ORDER BY id LIMIT $3`,
      [m.fromVersionIds, cursor, MIGRATION_PAGE],
    );
    if (rows.length === 0) break;
    const pageEnd = rows.at(-1)!.id;
    await prisma.journeyMigration.update({ where: { id: m.id }, data: { pageEnd } });
    let i = 0;
    const failures: unknown[] = [];
    const lane = async () => {
      while (i < rows.length) {
        const row = rows[i++]!;
        try {
          await moveOne(ctx, m.id, row, versions, to, choices);
        } catch (err) {
          failures.push(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LANES, rows.length) }, lane));
    if (failures.length) {
      const first = failures[0];
      throw new Error(
        `${failures.length} of ${rows.length} runs could not be moved (the page is retried): ${first instanceof Error ? first.message : String(first)}`,
        { cause: first },
      );
    }
    cursor = pageEnd;
    await prisma.journeyMigration.update({
      where: { id: m.id },
      data: { cursor, pageEnd: null },
    });
  }

  // What is left on the old versions: busy runs (moved once they wait) and runs that moved on
  // between the read and the move (a later pass reads them again); runs at a step without a
  // destination stay on their version.
  const left = await ctx.db.query<{
    versionId: string;
    stepId: string | null;
    status: string;
    n: number;
  }>(
    `SELECT "versionId", "currentStepId" AS "stepId", status, count(*)::int AS n
     FROM "JourneyRun" WHERE "versionId" = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING')
     GROUP BY 1, 2, 3`,
    [m.fromVersionIds],
  );
  let pending = 0;
  let kept = 0;
  for (const l of left) {
    const from = versions.get(l.versionId);
    const movable =
      l.status === "ACTIVE" ||
      (from &&
        l.stepId &&
        destinationOf(from.plan, to.plan, l.stepId, choices).kind !== "unmapped");
    if (movable) pending += l.n;
    else kept += l.n;
  }
  if (pending > 0 && pass + 1 < MAX_PASSES) {
    await prisma.journeyMigration.update({
      where: { id: m.id },
      data: { pass: pass + 1, cursor: null, pageEnd: null, kept },
    });
    await enqueueMigration(ctx, m.id, pass + 1, PASS_DELAY_MS);
    return result();
  }
  await prisma.journeyMigration.update({
    where: { id: m.id },
    data: {
      status: "DONE",
      kept: kept + pending,
      pageEnd: null,
      finishedAt: new Date(ctx.now()),
      ...(pending > 0
        ? {
            error: `${pending} customers were busy on a step (or sending a message) throughout and stayed on their version`,
          }
        : {}),
    },
  });
  return result();
}

/** The journey's latest migration, for the journey page's progress. */
export async function latestMigration(ctx: EngineContext, journeyId: string) {
  const m = await ctx.db.prisma.journeyMigration.findFirst({
    where: { journeyId },
    orderBy: { startedAt: "desc" },
  });
  if (!m) return null;
  const versions = await ctx.db.prisma.journeyVersion.findMany({
    where: { id: { in: [...m.fromVersionIds, m.toVersionId] } },
    select: { id: true, version: true },
  });
  const number = new Map(versions.map((v) => [v.id, v.version]));
  return {
    id: m.id,
    status: m.status as "RUNNING" | "DONE" | "FAILED",
    total: m.total,
    moved: m.moved,
    exited: m.exited,
    kept: m.kept,
    pass: m.pass,
    error: m.error,
    fromVersions: m.fromVersionIds.map((id) => number.get(id) ?? 0).sort((a, b) => a - b),
    toVersion: number.get(m.toVersionId) ?? 0,
    startedAt: m.startedAt.toISOString(),
    finishedAt: m.finishedAt?.toISOString() ?? null,
  };
}
