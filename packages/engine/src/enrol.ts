import { Prisma } from "@postpath/db";
import { customAlphabet } from "nanoid";
import {
  entryDecision,
  entryKeyOf,
  type CustomerSnapshot,
  type EntryDecision,
  type EntryKey,
  type Plan,
} from "@postpath/journey";
import type { EngineContext } from "./context.ts";
import { loadPlan } from "./plans.ts";
import { runJobId, type RunJob } from "./queues.ts";

export interface EnrolResult {
  runId: string | null;
  /** Why no run was created, in words for the trace/log. */
  skipped?: string;
}

export interface TriggerInput {
  /** Dedupe key: one run per (journey, customer, trigger id) — an event id, `date-<due>`, `enrol-<id>`. */
  eventId: string;
  name: string;
  properties: Record<string, unknown>;
  timestamp: number;
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";
}

/** Why an entry was refused (stored in EntrySkip.reason; the words go in `detail`). */
export type EntrySkipReason =
  | Extract<EntryDecision, { ok: false }>["reason"]
  | Extract<EntryKey, { ok: false }>["reason"]
  | "filter"
  | "concurrentEntry";

/**
 * Records a refused entry (issue 13): one row per (journey, customer, trigger), so a retried
 * event job, a second pass of the date scheduler or a replay records it once.
 */
export async function recordEntrySkip(ctx: EngineContext, s: EntrySkipRow): Promise<void> {
  await ctx.db.query(
    `INSERT INTO "EntrySkip" (id, "workspaceId", "journeyId", "versionId", "customerId", "triggerId", reason, detail, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9) AT TIME ZONE 'UTC')
     ON CONFLICT ("journeyId", "customerId", "triggerId") DO NOTHING`,
    [
      `k${newRunId().slice(1)}`,
      s.workspaceId,
      s.journeyId,
      s.versionId,
      s.customerId,
      s.triggerId,
      s.reason,
      s.detail,
      ctx.now() / 1000,
    ],
    { prepare: "engine.entrySkip" },
  );
}

function describeRefusal(
  d: Extract<EntryDecision, { ok: false }>,
  rules: Plan["settings"]["entry"],
  key: string,
): string {
  // Entries counted per value of a trigger property: "… for serial SN-1".
  const per = rules.perValueOf && key ? ` for ${rules.perValueOf} ${key}` : "";
  switch (d.reason) {
    case "activeRun":
      return `entry rule: already in this journey${per}`;
    case "enteredBefore":
      return `entry rule: enters once${per}`;
    case "maxEntries":
      return `entry rule: at most ${rules.maxEntries ?? 0} entries${per}`;
    case "coolingDown":
      return `entry rule: cooling down${per} until ${new Date(d.retryAt ?? 0).toISOString()}`;
  }
}

interface History {
  entries: number;
  active: boolean;
  lastEnteredAt: number | null;
}

/**
 * Enrols one customer into one published version. Entry rules are decided by the journey
 * package's `entryDecision` and enforced by the (journey, customer, entryKey, entryNumber) and
 * (journey, customer, triggerEventId) unique constraints: two racing enrolments compute the same
 * entry number and exactly one insert wins. `entryKey` is "" unless the journey counts entries per
 * value of a trigger property (`entry.perValueOf`, e.g. a serial): then the history, the entry
 * number and the rules are those of that value, so runs for two values go side by side.
 */
export async function enrol(
  ctx: EngineContext,
  args: {
    workspaceId: string;
    journeyId: string;
    versionId: string;
    customer: CustomerSnapshot;
    trigger: TriggerInput | null;
  },
): Promise<EnrolResult> {
  const { prisma } = ctx.db;
  const plan = await loadPlan(ctx, args.versionId);

  if (args.trigger) {
    const existing = await prisma.journeyRun.findUnique({
      where: {
        journeyId_customerId_triggerEventId: {
          journeyId: args.journeyId,
          customerId: args.customer.id,
          triggerEventId: args.trigger.eventId,
        },
      },
      select: { id: true, seq: true },
    });
    if (existing) {
      // A retry after a crash between the insert and the job: make sure the run starts.
      if (existing.seq === 0) {
        const job: RunJob = { runId: existing.id, seq: 0, input: { kind: "entered" } };
        await ctx.queues.runs.add("entered", job, { jobId: runJobId(job) });
      }
      return { runId: existing.id, skipped: "already enrolled by this trigger" };
    }
  }
  // This trigger's own run, made meanwhile by another pass over the same event (a retry, an
  // earlier-first pass of a later event's job): not a refusal.
  const mine = async () =>
    args.trigger
      ? prisma.journeyRun.findUnique({
          where: {
            journeyId_customerId_triggerEventId: {
              journeyId: args.journeyId,
              customerId: args.customer.id,
              triggerEventId: args.trigger.eventId,
            },
          },
          select: { id: true },
        })
      : null;
  const skip = async (reason: EntrySkipReason, detail: string): Promise<EnrolResult> => {
    if (args.trigger) {
      // The other pass may have committed the run between the check above and the history read
      // that refused this one (it then counts as "already in this journey").
      const own = await mine();
      if (own) return { runId: own.id, skipped: "already enrolled by this trigger" };
      await recordEntrySkip(ctx, {
        workspaceId: args.workspaceId,
        journeyId: args.journeyId,
        versionId: args.versionId,
        customerId: args.customer.id,
        triggerId: args.trigger.eventId,
        reason,
        detail,
      });
    }
    return { runId: null, skipped: detail };
  };
  const keyed = entryKeyOf(plan.settings.entry, args.trigger?.properties ?? null);
  if (!keyed.ok) return skip(keyed.reason, keyed.detail);
  const entryKey = keyed.key;
  const previous = await prisma.journeyRun.findFirst({
    where: { journeyId: args.journeyId, customerId: args.customer.id, entryKey },
    orderBy: { entryNumber: "desc" },
    select: { entryNumber: true, status: true, startedAt: true },
  });
  const history: History = previous
    ? {
        entries: previous.entryNumber,
        active: previous.status === "ACTIVE" || previous.status === "WAITING",
        lastEnteredAt: previous.startedAt.getTime(),
      }
    : { entries: 0, active: false, lastEnteredAt: null };
  const decision = entryDecision(plan.settings.entry, history, ctx.now());
  if (!decision.ok)
    return skip(decision.reason, describeRefusal(decision, plan.settings.entry, entryKey));

  const runId = newRunId();
  try {
    // No state yet: the run's first job builds it from `trigger` and the customer's profile.
    await prisma.journeyRun.create({
      data: {
        id: runId,
        workspaceId: args.workspaceId,
        journeyId: args.journeyId,
        versionId: args.versionId,
        customerId: args.customer.id,
        entryNumber: history.entries + 1,
        entryKey,
        status: "ACTIVE",
        currentStepId: plan.triggerStepId,
        trigger: args.trigger
          ? (triggerOfRun(args.trigger) as Prisma.InputJsonObject)
          : Prisma.DbNull,
        triggerEventId: args.trigger?.eventId ?? null,
        startedAt: new Date(ctx.now()),
      },
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return skip("concurrentEntry", "entry rule: a concurrent entry won");
  }
  const job: RunJob = { runId, seq: 0, input: { kind: "entered" } };
  await ctx.queues.runs.add("entered", job, { jobId: runJobId(job) });
  return { runId };
}

/** What a run keeps of its trigger (the run state's `trigger`). */
function triggerOfRun(t: TriggerInput): {
  name: string;
  properties: Record<string, unknown>;
  timestamp: number;
} {
  return { name: t.name, properties: t.properties, timestamp: t.timestamp };
}

/**
 * Enrols many customers at once (bulk/manual enrolment, benchmarks), optimistically: most
 * customers have never been in the journey, so every one is first inserted as entry 1 in one
 * multi-row insert that skips conflicts (the (journey, customer, entryNumber) and (journey,
 * customer, trigger) unique constraints decide, exactly as for concurrent single enrolments; the
 * conflict check is the index probe a history query would have made). Only the customers that
 * conflicted get a history query, the entry rules, and a second insert. Then the first jobs go out
 * with `addBulk`. Re-running a batch is harmless: `trigger.eventId` is the same, so the inserts
 * conflict, and the entry jobs of this trigger's runs still at seq 0 are (re-)added under their
 * deterministic ids.
 */
export async function enrolMany(
  ctx: EngineContext,
  args: {
    workspaceId: string;
    journeyId: string;
    versionId: string;
    /** Customer ids: a run reads its customer's profile when it starts, not at enrolment. */
    customerIds: string[];
    trigger: TriggerInput;
  },
): Promise<{ enrolled: number; skipped: number }> {
  const ids = args.customerIds;
  if (ids.length === 0) return { enrolled: 0, skipped: 0 };
  const plan = await loadPlan(ctx, args.versionId);
  const now = ctx.now();
  const rules = plan.settings.entry;
  // One trigger for all: one value to count entries by (or none, and no one enters).
  const keyed = entryKeyOf(rules, args.trigger.properties);
  if (!keyed.ok) {
    await recordEntrySkips(
      ctx,
      args,
      ids.map((customerId) => ({ customerId, reason: keyed.reason, detail: keyed.detail })),
    );
    return { enrolled: 0, skipped: ids.length };
  }
  const entryKey = keyed.key;
  const insert = (customerIds: string[], entryNumbers: number[]) =>
    insertRuns(ctx, args, plan, now, entryKey, customerIds, entryNumbers);

  const firstEntryAllowed = entryDecision(
    rules,
    { entries: 0, active: false, lastEnteredAt: null },
    now,
  ).ok;
  const inserted = firstEntryAllowed
    ? await insert(
        ids,
        ids.map(() => 1),
      )
    : [];
  let skipped = 0;
  let retried: string[] = [];
  const refused: { customerId: string; reason: EntrySkipReason; detail: string }[] = [];
  if (inserted.length < ids.length) {
    const done = new Set(inserted.map((r) => r.customerId));
    const rest = ids.filter((id) => !done.has(id));
    const hist = await history(ctx, args.journeyId, entryKey, rest, args.trigger.eventId);
    const again: string[] = [];
    const entryNumbers: number[] = [];
    for (const customerId of rest) {
      const h = hist.get(customerId);
      if (h?.mine) continue; // this enrolment already made the run (a retried batch)
      const past: History = h
        ? { entries: h.entries, active: h.active, lastEnteredAt: h.last }
        : { entries: 0, active: false, lastEnteredAt: null };
      const d = entryDecision(rules, past, now);
      if (!d.ok) {
        skipped++;
        refused.push({
          customerId,
          reason: d.reason,
          detail: describeRefusal(d, rules, entryKey),
        });
        continue;
      }
      again.push(customerId);
      entryNumbers.push(past.entries + 1);
    }
    const more = again.length ? await insert(again, entryNumbers) : [];
    skipped += again.length - more.length; // lost a race with a concurrent enrolment
    const got = new Set(more.map((r) => r.customerId));
    for (const customerId of again)
      if (!got.has(customerId))
        refused.push({
          customerId,
          reason: "concurrentEntry",
          detail: "entry rule: a concurrent entry won",
        });
    for (const r of more) inserted.push(r);
    retried = rest.filter((id) => hist.get(id)?.mine);
  }
  // Entry jobs for the new runs, and (a retried batch) for this trigger's runs that have not
  // started yet — a crash between the insert and addBulk on an earlier attempt.
  const pending = [
    ...inserted,
    ...(retried.length
      ? await ctx.db.prisma.journeyRun.findMany({
          where: {
            journeyId: args.journeyId,
            triggerEventId: args.trigger.eventId,
            customerId: { in: retried },
            seq: 0,
          },
          select: { id: true },
        })
      : []),
  ];
  if (refused.length) await recordEntrySkips(ctx, args, refused);
  if (pending.length) {
    await ctx.queues.runs.addBulk(
      pending.map((r) => {
        const job: RunJob = { runId: r.id, seq: 0, input: { kind: "entered" } };
        return { name: "entered", data: job, opts: { jobId: runJobId(job) } };
      }),
    );
  }
  return { enrolled: inserted.length, skipped };
}

/**
 * One INSERT … SELECT FROM unnest(arrays) (much cheaper than per-row ORM inserts); rows that
 * conflict with a unique constraint are skipped, and the inserted ones returned. The run ids are
 * made here, so Postgres answers with the inserted ids only when some conflicted (null: all went in).
 */
async function insertRuns(
  ctx: EngineContext,
  args: { workspaceId: string; journeyId: string; versionId: string; trigger: TriggerInput },
  plan: Plan,
  now: number,
  entryKey: string,
  customerIds: string[],
  entryNumbers: number[],
): Promise<{ id: string; customerId: string }[]> {
  const runIds = customerIds.map(() => newRunId());
  const [res] = await ctx.db.query<{ ids: string[] | null }>(
    `WITH ins AS (
       INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber", "entryKey", status, "currentStepId", trigger, "triggerEventId", "startedAt", "updatedAt")
       SELECT id, $1, $2, $3, cid, n, $11, 'ACTIVE', $4, $5::jsonb, $6, to_timestamp($7) AT TIME ZONE 'UTC', to_timestamp($7) AT TIME ZONE 'UTC'
       FROM unnest($8::text[], $9::text[], $10::int[]) AS t(id, cid, n)
       ON CONFLICT DO NOTHING
       RETURNING id)
     SELECT CASE WHEN count(*) < cardinality($8::text[]) THEN COALESCE(array_agg(id), '{}') END AS ids FROM ins`,
    [
      args.workspaceId,
      args.journeyId,
      args.versionId,
      plan.triggerStepId,
      JSON.stringify(triggerOfRun(args.trigger)),
      args.trigger.eventId,
      now / 1000,
      runIds,
      customerIds,
      entryNumbers,
      entryKey,
    ],
    { prepare: "engine.enrolInsert" },
  );
  const inserted = res?.ids ? new Set(res.ids) : null;
  const out: { id: string; customerId: string }[] = [];
  runIds.forEach((id, i) => {
    if (!inserted || inserted.has(id)) out.push({ id, customerId: customerIds[i]! });
  });
  return out;
}

/** Refused entries of a bulk enrolment, in one statement (see recordEntrySkip). */
async function recordEntrySkips(
  ctx: EngineContext,
  args: { workspaceId: string; journeyId: string; versionId: string; trigger: TriggerInput },
  refused: { customerId: string; reason: EntrySkipReason; detail: string }[],
): Promise<void> {
  await ctx.db.query(
    `INSERT INTO "EntrySkip" (id, "workspaceId", "journeyId", "versionId", "customerId", "triggerId", reason, detail, at)
     SELECT id, $1, $2, $3, cid, $4, reason, detail, to_timestamp($5) AT TIME ZONE 'UTC'
     FROM unnest($6::text[], $7::text[], $8::text[], $9::text[]) AS t(id, cid, reason, detail)
     ON CONFLICT ("journeyId", "customerId", "triggerId") DO NOTHING`,
    [
      args.workspaceId,
      args.journeyId,
      args.versionId,
      args.trigger.eventId,
      ctx.now() / 1000,
      refused.map(() => `k${newRunId().slice(1)}`),
      refused.map((r) => r.customerId),
      refused.map((r) => r.reason),
      refused.map((r) => r.detail),
    ],
    { prepare: "engine.entrySkips" },
  );
}

/** The customers' past runs of the journey with this entry key, folded per customer. */
async function history(
  ctx: EngineContext,
  journeyId: string,
  entryKey: string,
  customerIds: string[],
  triggerEventId: string,
): Promise<Map<string, { entries: number; active: boolean; last: number | null; mine: boolean }>> {
  const rows = await ctx.db.query<{
    customerId: string;
    entries: number;
    active: boolean;
    last: number | null;
    mine: boolean;
  }>(
    // One probe of the (journey, customer) unique index per customer (OFFSET 0 keeps the lateral
    // subquery from being flattened into a hash join over every run of the journey, which the
    // planner picks from stale statistics while the table grows: O(runs) per batch).
    `SELECT r."customerId", max(r."entryNumber")::int AS entries, bool_or(r.status IN ('ACTIVE', 'WAITING')) AS active,
            (extract(epoch FROM max(r."startedAt")) * 1000)::float8 AS last, bool_or(r."triggerEventId" = $3) AS mine
     FROM unnest($2::text[]) AS c(id)
     CROSS JOIN LATERAL (SELECT * FROM "JourneyRun" WHERE "journeyId" = $1 AND "customerId" = c.id AND "entryKey" = $4 OFFSET 0) r
     GROUP BY r."customerId"`,
    [journeyId, customerIds, triggerEventId, entryKey],
    { prepare: "engine.enrolHistory" },
  );
  return new Map(rows.map((h) => [h.customerId, h]));
}

/** One entry of a batched enrolment: its own journey version, customer and trigger. */
export interface EntryInput {
  workspaceId: string;
  journeyId: string;
  versionId: string;
  customer: CustomerSnapshot;
  trigger: TriggerInput;
}

/** A refused entry to record (see recordEntrySkip). */
export interface EntrySkipRow {
  workspaceId: string;
  journeyId: string;
  versionId: string;
  customerId: string;
  triggerId: string;
  reason: EntrySkipReason;
  detail: string;
}

/**
 * Enrols many entries at once, each with its own journey version, customer and trigger (the
 * events worker: a batch's triggering events). The outcome of each entry is exactly `enrol()`'s
 * for it — same run row, same refusal row, same first job, same answer — found with a few
 * statements for the whole batch instead of three Prisma round trips per entry, the way
 * `enrolMany` does it:
 *
 * 1. Every entry whose rules admit a first entry is inserted as entry 1 in one multi-row insert
 *    that skips conflicts. Runs are only deleted with their customer, so entry numbers have no
 *    gaps: entry 1 goes in exactly when the customer has no run for this entry key and none for
 *    this trigger — when `enrol()` would have found no history and inserted entry 1 too.
 * 2. The others (a conflict, a trigger without the value entries are counted by, rules that
 *    refuse a first entry) get one probe for all: this trigger's own run (a re-processed event:
 *    "already enrolled by this trigger", its first job re-added while it is at seq 0) and the
 *    latest run for the entry key (`enrol()`'s history), then `entryDecision`.
 * 3. The admitted ones are inserted with the next entry number; one still conflicting lost a race
 *    with a concurrent enrolment ("concurrentEntry").
 * 4. Refusals are recorded in one statement, unless this trigger's run exists by then (another
 *    pass made it meanwhile: then "already enrolled", as `enrol()` checks before recording).
 * 5. One `addBulk` of the first jobs.
 *
 * An entry's (journey, customer) may appear more than once (a customer's two events triggering
 * one journey): those go in successive waves, in the order given, so the later one sees the
 * earlier one's run as history, as one `enrol()` after another would. Rows are inserted in
 * (journey, customer) order so concurrent batches take the unique indexes' locks in one order.
 *
 * No transaction: each statement commits alone and everything is idempotent, decided by the
 * unique constraints, as for `enrol()`. If a statement fails, the caller's job fails; its retry
 * finds the runs already inserted by their trigger (first jobs re-added while at seq 0) and the
 * refusals already recorded (ON CONFLICT DO NOTHING), so nothing is entered twice and nothing is
 * left half done.
 */
export async function enrolEntries(
  ctx: EngineContext,
  entries: readonly EntryInput[],
): Promise<EnrolResult[]> {
  const results: EnrolResult[] = new Array<EnrolResult>(entries.length);
  // Waves: the n-th entry of a (journey, customer) goes in wave n.
  const waves: number[][] = [];
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const pair = `${e.journeyId}\u0000${e.customer.id}`;
    const n = seen.get(pair) ?? 0;
    seen.set(pair, n + 1);
    (waves[n] ??= []).push(i);
  });
  for (const wave of waves) {
    const got = await enrolWave(
      ctx,
      wave.map((i) => entries[i]!),
    );
    wave.forEach((i, w) => (results[i] = got[w]!));
  }
  return results;
}

const ALREADY = "already enrolled by this trigger";

/** enrolEntries for entries of distinct (journey, customer) pairs. */
async function enrolWave(ctx: EngineContext, entries: EntryInput[]): Promise<EnrolResult[]> {
  const results: (EnrolResult | undefined)[] = entries.map(() => undefined);
  if (entries.length === 0) return [];
  const now = ctx.now();
  const plans = await Promise.all(entries.map((e) => loadPlan(ctx, e.versionId)));
  const keyed = entries.map((e, i) => entryKeyOf(plans[i]!.settings.entry, e.trigger.properties));
  const started: string[] = []; // runs whose first job goes out

  // 1. Entry 1, optimistically.
  const first = entries.flatMap((_, i) => {
    const k = keyed[i]!;
    return k.ok &&
      entryDecision(
        plans[i]!.settings.entry,
        { entries: 0, active: false, lastEnteredAt: null },
        now,
      ).ok
      ? [{ i, key: k.key, entryNumber: 1 }]
      : [];
  });
  for (const r of await insertEntryRuns(ctx, entries, plans, first, now)) {
    results[r.i] = { runId: r.id };
    started.push(r.id);
  }

  // 2. The others: this trigger's own run and the entry key's latest run, then the rules.
  const refused: { i: number; reason: EntrySkipReason; detail: string }[] = [];
  const rest = entries.flatMap((_, i) => (results[i] ? [] : [i]));
  const again: { i: number; key: string; entryNumber: number }[] = [];
  if (rest.length > 0) {
    const probed = await probeEntries(ctx, entries, keyed, rest);
    rest.forEach((i, p) => {
      const found = probed[p]!;
      if (found.mineId !== null) {
        // A retry after a crash between the insert and the job: make sure the run starts.
        if (found.mineSeq === 0) started.push(found.mineId);
        results[i] = { runId: found.mineId, skipped: ALREADY };
        return;
      }
      const k = keyed[i]!;
      if (!k.ok) {
        refused.push({ i, reason: k.reason, detail: k.detail });
        return;
      }
      const rules = plans[i]!.settings.entry;
      const history: History =
        found.lastNumber !== null
          ? {
              entries: found.lastNumber,
              active: found.lastActive === true,
              lastEnteredAt: found.lastAt,
            }
          : { entries: 0, active: false, lastEnteredAt: null };
      const d = entryDecision(rules, history, now);
      if (!d.ok) {
        refused.push({ i, reason: d.reason, detail: describeRefusal(d, rules, k.key) });
        return;
      }
      again.push({ i, key: k.key, entryNumber: history.entries + 1 });
    });
  }

  // 3. The admitted ones, with their next entry number.
  if (again.length > 0) {
    const more = await insertEntryRuns(ctx, entries, plans, again, now);
    for (const r of more) {
      results[r.i] = { runId: r.id };
      started.push(r.id);
    }
    for (const a of again)
      if (!results[a.i])
        refused.push({
          i: a.i,
          reason: "concurrentEntry",
          detail: "entry rule: a concurrent entry won",
        });
  }

  // 4. Refusals, unless this trigger's own run appeared meanwhile.
  if (refused.length > 0) {
    const own = await recordSkipRows(
      ctx,
      refused.map((r) => {
        const e = entries[r.i]!;
        return {
          workspaceId: e.workspaceId,
          journeyId: e.journeyId,
          versionId: e.versionId,
          customerId: e.customer.id,
          triggerId: e.trigger.eventId,
          reason: r.reason,
          detail: r.detail,
        };
      }),
      true,
    );
    refused.forEach((r, n) => {
      const mine = own.get(n);
      results[r.i] = mine ? { runId: mine, skipped: ALREADY } : { runId: null, skipped: r.detail };
    });
  }

  // 5. The first jobs.
  if (started.length > 0)
    await ctx.queues.runs.addBulk(
      started.map((runId) => {
        const job: RunJob = { runId, seq: 0, input: { kind: "entered" } };
        return { name: "entered", data: job, opts: { jobId: runJobId(job) } };
      }),
    );
  return results.map((r) => r!);
}

/**
 * Inserts the picked entries' runs in one statement (INSERT … SELECT FROM unnest, conflicts
 * skipped) and answers the inserted ones. As in insertRuns, Postgres names the inserted ids only
 * when some conflicted (null: all went in).
 */
async function insertEntryRuns(
  ctx: EngineContext,
  entries: EntryInput[],
  plans: Plan[],
  picked: { i: number; key: string; entryNumber: number }[],
  now: number,
): Promise<{ i: number; id: string }[]> {
  if (picked.length === 0) return [];
  const rows = [...picked].sort((a, b) => {
    const x = entries[a.i]!;
    const y = entries[b.i]!;
    return cmp(x.journeyId, y.journeyId) || cmp(x.customer.id, y.customer.id);
  });
  const runIds = rows.map(() => newRunId());
  const [res] = await ctx.db.query<{ ids: string[] | null }>(
    `WITH ins AS (
       INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber", "entryKey", status, "currentStepId", trigger, "triggerEventId", "startedAt", "updatedAt")
       SELECT id, ws, j, v, c, n, k, 'ACTIVE', step, trig::jsonb, te, to_timestamp($11) AT TIME ZONE 'UTC', to_timestamp($11) AT TIME ZONE 'UTC'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS t(id, ws, j, v, c, n, k, step, trig, te)
       ON CONFLICT DO NOTHING
       RETURNING id)
     SELECT CASE WHEN count(*) < cardinality($1::text[]) THEN COALESCE(array_agg(id), '{}') END AS ids FROM ins`,
    [
      runIds,
      rows.map((r) => entries[r.i]!.workspaceId),
      rows.map((r) => entries[r.i]!.journeyId),
      rows.map((r) => entries[r.i]!.versionId),
      rows.map((r) => entries[r.i]!.customer.id),
      rows.map((r) => r.entryNumber),
      rows.map((r) => r.key),
      rows.map((r) => plans[r.i]!.triggerStepId),
      rows.map((r) => JSON.stringify(triggerOfRun(entries[r.i]!.trigger))),
      rows.map((r) => entries[r.i]!.trigger.eventId),
      now / 1000,
    ],
    { prepare: "engine.enrolEntriesInsert" },
  );
  const inserted = res?.ids ? new Set(res.ids) : null;
  return rows.flatMap((r, n) =>
    !inserted || inserted.has(runIds[n]!) ? [{ i: r.i, id: runIds[n]! }] : [],
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Per entry: the run this trigger made (`enrol()`'s first check), and the latest run for its
 * entry key (`enrol()`'s history: the highest entry number, its status and start) — two probes of
 * the (journey, customer, …) unique indexes per entry, one statement for all.
 */
async function probeEntries(
  ctx: EngineContext,
  entries: EntryInput[],
  keyed: EntryKey[],
  picked: number[],
): Promise<
  {
    mineId: string | null;
    mineSeq: number | null;
    lastNumber: number | null;
    lastActive: boolean | null;
    lastAt: number | null;
  }[]
> {
  const rows = await ctx.db.query<{
    n: number;
    mineId: string | null;
    mineSeq: number | null;
    lastNumber: number | null;
    lastActive: boolean | null;
    lastAt: number | null;
  }>(
    `SELECT t.n::int AS n, m.id AS "mineId", m.seq AS "mineSeq", l."entryNumber" AS "lastNumber",
            l.status IN ('ACTIVE', 'WAITING') AS "lastActive",
            round(extract(epoch FROM l."startedAt") * 1000)::float8 AS "lastAt"
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(j, c, te, k, n)
     LEFT JOIN LATERAL (
       SELECT id, seq FROM "JourneyRun" WHERE "journeyId" = t.j AND "customerId" = t.c AND "triggerEventId" = t.te
     ) m ON true
     LEFT JOIN LATERAL (
       SELECT "entryNumber", status, "startedAt" FROM "JourneyRun"
       WHERE "journeyId" = t.j AND "customerId" = t.c AND "entryKey" = t.k
       ORDER BY "entryNumber" DESC LIMIT 1
     ) l ON true`,
    [
      picked.map((i) => entries[i]!.journeyId),
      picked.map((i) => entries[i]!.customer.id),
      picked.map((i) => entries[i]!.trigger.eventId),
      // No key (refused anyway): no history read.
      picked.map((i) => {
        const k = keyed[i]!;
        return k.ok ? k.key : null;
      }),
    ],
    { prepare: "engine.enrolEntriesProbe" },
  );
  const out = picked.map(() => ({
    mineId: null as string | null,
    mineSeq: null as number | null,
    lastNumber: null as number | null,
    lastActive: null as boolean | null,
    lastAt: null as number | null,
  }));
  for (const r of rows) {
    const { n, ...found } = r;
    out[n - 1] = found;
  }
  return out;
}

/**
 * Refused entries in one statement (see recordEntrySkip). With `unlessEnrolled`, a refusal is not
 * recorded when the run of its trigger exists (another pass over the same event made it meanwhile):
 * answers those runs' ids by the refusal's index.
 */
async function recordSkipRows(
  ctx: EngineContext,
  rows: EntrySkipRow[],
  unlessEnrolled: boolean,
): Promise<Map<number, string>> {
  // In key order, as insertEntryRuns: two batches recording the same refusals (one event in two
  // jobs' batches) wait on each other's rows in one order instead of deadlocking.
  const order = rows
    .map((_, n) => n)
    .sort((a, b) => {
      const x = rows[a]!;
      const y = rows[b]!;
      return (
        cmp(x.journeyId, y.journeyId) ||
        cmp(x.customerId, y.customerId) ||
        cmp(x.triggerId, y.triggerId)
      );
    });
  const sorted = order.map((n) => rows[n]!);
  const found = await ctx.db.query<{ n: number; runId: string }>(
    `WITH t AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
         WITH ORDINALITY AS t(id, ws, j, v, c, te, reason, detail, n)),
     own AS (
       SELECT t.n, r.id AS "runId" FROM t
       JOIN "JourneyRun" r ON r."journeyId" = t.j AND r."customerId" = t.c AND r."triggerEventId" = t.te
       WHERE $10::boolean),
     ins AS (
       INSERT INTO "EntrySkip" (id, "workspaceId", "journeyId", "versionId", "customerId", "triggerId", reason, detail, at)
       SELECT id, ws, j, v, c, te, reason, detail, to_timestamp($9) AT TIME ZONE 'UTC' FROM t
       WHERE NOT EXISTS (SELECT 1 FROM own WHERE own.n = t.n)
       ON CONFLICT ("journeyId", "customerId", "triggerId") DO NOTHING)
     SELECT n::int AS n, "runId" FROM own`,
    [
      sorted.map(() => `k${newRunId().slice(1)}`),
      sorted.map((r) => r.workspaceId),
      sorted.map((r) => r.journeyId),
      sorted.map((r) => r.versionId),
      sorted.map((r) => r.customerId),
      sorted.map((r) => r.triggerId),
      sorted.map((r) => r.reason),
      sorted.map((r) => r.detail),
      ctx.now() / 1000,
      unlessEnrolled,
    ],
    { prepare: "engine.entrySkipRows" },
  );
  return new Map(found.map((r) => [order[r.n - 1]!, r.runId]));
}

/** Refused entries of many journeys and triggers in one statement (e.g. a batch's trigger filters). */
export async function recordEntrySkipRows(ctx: EngineContext, rows: EntrySkipRow[]): Promise<void> {
  if (rows.length > 0) await recordSkipRows(ctx, rows, false);
}

/** 12 random base-36 characters (62 bits), from nanoid's pooled random bytes. */
const randomPart = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 12);

/**
 * Run ids are made here (not by Postgres), so a bulk insert knows its ids before Postgres answers:
 * "r", the time in base 36 (8 chars), 12 random base-36 chars. Short on purpose: a waiting run's
 * timer job carries its id four times in Redis (job key, delayed-set member, opts, data).
 */
export function newRunId(): string {
  return `r${Date.now().toString(36)}${randomPart()}`;
}
