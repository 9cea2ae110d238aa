// issue 15, item 1: the segment checks of journey steps that change a customer's attributes or
// tags, in batches. Runs commit through the run store's group commit (store.ts), so a busy worker
// commits many transitions at once; each one that changed its customer (in a workspace with live
// segment-triggered journeys) pushes its change here, and the changes pushed in the same turn (plus
// those that arrive while an `addBulk` is in flight) go to Redis as one `{ customerIds, reason:
// "attributes" }` job per MAX_CUSTOMERS_PER_CHECK customers (events.ts processCustomersChanged),
// in one `addBulk`. A run job returns once its check is queued; should queueing fail, its push
// rejects and the run job fails and retries (batch.ts tries each change of a failed batch again
// on its own first).
//
// Replays. A check job is named by the transitions it checks for, (run, seq) each: a lone change's
// `attributes-<run>-<seq>`, several changes' a digest of theirs. Any job under such a name was
// queued after those transitions committed, so Redis adding nothing for a name it still holds is
// right; and a job never takes the name of one that does not check its customers. A run job retried
// after its transition committed (the worker died between the commit and the `add`, or the `add`
// failed) finds its run one seq further on: `recheckAfterCommit` queues the check again from
// there (runner.ts), under the same name when it goes alone, so a check that did reach Redis is
// not queued twice. A check queued twice anyway costs a read: the check is idempotent (entries
// are per segment membership).
//
// A transition applied by a timer bucket (wake.ts) whose check did not reach Redis: the bucket job
// fails and its retry reads only the runs still waiting, so the bucket hands each failed run its
// own run job, which takes the stale path above.
//
// And underneath all of that, the check is kept in Postgres with the transition (a transactional
// outbox): the run's commit inserts a "PendingCheck" row in the same statement (store.ts, when
// the workspace has segment-triggered journeys); the check job reads the customer's rows with the
// customer and deletes those once done (events.ts); the sweeper queues a check for rows older than
// its grace (maintenance.ts). So a check is queued again even when Redis refused both the check and
// the bucket's hand-off, the worker died in between, or Redis lost the job.
import type { Plan } from "@postpath/journey";
import { Batcher } from "./batch.ts";
import { onePer } from "./batcher.ts";
import type { EngineContext } from "./context.ts";
import { customerCheckJobs, MAX_CUSTOMERS_PER_CHECK } from "./queues.ts";

/** A committed transition (run `runId` from `seq` to `seq + 1`) that changed its customer. */
export interface AttributeChange {
  workspaceId: string;
  customerId: string;
  runId: string;
  seq: number;
}

/** BullMQ forbids ':' in custom ids. */
const changeName = (c: AttributeChange) => `${c.runId}-${c.seq}`.replace(/:/g, "_");

/** The check jobs of a batch of changes: each customer checked for every change of theirs. */
export function attributeCheckJobs(changes: readonly AttributeChange[]) {
  const byCustomer = new Map<string, string[]>();
  for (const c of changes) {
    const names = byCustomer.get(c.customerId);
    if (names) names.push(changeName(c));
    else byCustomer.set(c.customerId, [changeName(c)]);
  }
  return customerCheckJobs("attributes", byCustomer);
}

/** The engine context's batcher of attribute checks (one per context, made on first use). */
const checks = onePer(
  (ctx: EngineContext) =>
    new Batcher<AttributeChange, void>(
      async (changes) => {
        await ctx.queues.events.addBulk(attributeCheckJobs(changes));
        return changes.map(() => undefined);
      },
      // A few jobs per round trip; two round trips in flight, like the run store's.
      { max: 4 * MAX_CUSTOMERS_PER_CHECK, concurrency: 2 },
    ),
);

/**
 * Queues the segment check of a committed transition that changed its customer's attributes or
 * tags, together with the others committing now; nothing when the workspace has no live
 * segment-triggered journey. Resolves once the check is in Redis; rejects if it could not be queued.
 */
export async function queueAttributeCheck(
  ctx: EngineContext,
  change: AttributeChange,
): Promise<void> {
  if (!(await hasSegmentJourneys(ctx, change.workspaceId))) return;
  await checks(ctx).push(change);
}

const CHANGES_CUSTOMER = new Set<string>(["action.attribute", "action.tag"]);
const changesCustomer = new WeakMap<Plan, boolean>();
/** Whether a plan has a step that changes its customer (attributes or tags). */
function planChangesCustomer(plan: Plan): boolean {
  let yes = changesCustomer.get(plan);
  if (yes === undefined) {
    yes = Object.values(plan.steps).some((s) => CHANGES_CUSTOMER.has(s.type));
    changesCustomer.set(plan, yes);
  }
  return yes;
}

/**
 * A run job found its run at `seq + 1`: a job for `seq` committed (this one before the process
 * died or its check failed to queue, or another job for the same seq). The transition may have
 * changed the customer, and its check may never have reached Redis: when the run's journey has a
 * step that changes customers, the check is queued again (what the transition did is not kept, so
 * a journey with such a step anywhere counts). At most a redundant, idempotent check.
 */
export async function recheckAfterCommit(
  ctx: EngineContext,
  change: AttributeChange,
  plan: Plan,
): Promise<void> {
  if (!planChangesCustomer(plan)) return;
  await queueAttributeCheck(ctx, change);
}

/**
 * Whether a change to this workspace's customers needs a segment check: it has live
 * segment-triggered journeys. Asked before the transition commits, so the commit keeps the check
 * ("PendingCheck") with it.
 */
export function segmentChecksApply(ctx: EngineContext, workspaceId: string): Promise<boolean> {
  return hasSegmentJourneys(ctx, workspaceId);
}

/**
 * Whether the workspace has live segment-triggered journeys (cached for a few seconds). The
 * pending answer is what is cached, so the many run jobs of a batch that find the entry expired
 * share one count instead of each starting its own; a failed count is not kept.
 */
const segmentCache = new Map<string, { at: number; yes: Promise<boolean> }>();
function hasSegmentJourneys(ctx: EngineContext, workspaceId: string): Promise<boolean> {
  const hit = segmentCache.get(workspaceId);
  if (hit && Date.now() - hit.at < 5000) return hit.yes;
  const entry = {
    at: Date.now(),
    // Raw SQL: a Prisma query's first use in a process compiles it, on the run path (plans.ts).
    yes: ctx.db
      .query<{ yes: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM "JourneyVersion"
                        WHERE "workspaceId" = $1 AND status = 'LIVE' AND "triggerType" = 'trigger.segment') AS yes`,
        [workspaceId],
        { prepare: "engine.segmentJourneysLive" },
      )
      .then((rows) => rows[0]?.yes === true),
  };
  segmentCache.set(workspaceId, entry);
  entry.yes.catch(() => {
    if (segmentCache.get(workspaceId) === entry) segmentCache.delete(workspaceId);
  });
  return entry.yes;
}
