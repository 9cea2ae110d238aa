import type { Prisma } from "@postpath/db";
import type { Effect, Plan, RunInput, RunState } from "@postpath/journey";

/** Increments per step id, for the canvas overlay (see StepCounter in the schema). */
export interface CounterDelta {
  entered: number;
  completed: number;
  sent: number;
  failed: number;
  converted: number;
  /**
   * issue 18: a run moved to a newer version on publish counts as `movedOut` at its step of the
   * old version and `movedIn` at its step of the new one (never `completed` / `entered`): each
   * version's `entered` counts only the runs that arrived there on that version, so "all versions"
   * adds up without counting a moved run twice, and per version and step
   * entered + movedIn − completed − movedOut is the runs there now.
   */
  movedIn: number;
  movedOut: number;
}
export type Counters = Map<string, CounterDelta>;

/** Rows per (version, step): concurrent writers spread over them instead of queueing on one. */
const SHARDS = 8;
let nextShard = Math.floor(Math.random() * SHARDS);
/** The shard for the next write: consecutive writes of one process take different shards. */
export function takeShard(): number {
  const shard = nextShard;
  nextShard = (nextShard + 1) % SHARDS;
  return shard;
}

function bump(c: Counters, stepId: string, field: keyof CounterDelta, n = 1): void {
  let d = c.get(stepId);
  if (!d) {
    d = { entered: 0, completed: 0, sent: 0, failed: 0, converted: 0, movedIn: 0, movedOut: 0 };
    c.set(stepId, d);
  }
  d[field] += n;
}

/**
 * What one transition adds to the per-step counters, read from the effects `advance()` returned:
 * a run enters the trigger on "entered" and every step a "go" trace leads to (or a goal it jumps
 * to); it completes a step when it leaves it (a "go" trace, or the run ending there).
 */
export function countersFromTransition(
  plan: Plan,
  prev: RunState,
  input: RunInput,
  effects: Effect[],
): Counters {
  const c: Counters = new Map();
  if (input.kind === "entered") bump(c, plan.triggerStepId, "entered");
  const left = new Set<string>();
  let current = prev.stepId;
  for (const e of effects) {
    if (e.kind === "trace" && e.stepId) {
      const next = (e.detail as { next?: unknown }).next;
      if (e.detail && "branch" in e.detail && "next" in e.detail) {
        bump(c, e.stepId, "completed");
        left.add(e.stepId);
        if (typeof next === "string") {
          bump(c, next, "entered");
          current = next;
        }
      }
    } else if (e.kind === "convert") {
      bump(c, e.stepId ?? current, "converted");
      if (e.stepId) {
        if (!left.has(current)) {
          bump(c, current, "completed");
          left.add(current);
        }
        bump(c, e.stepId, "entered");
        current = e.stepId;
      }
    } else if ((e.kind === "exit" || e.kind === "complete") && !left.has(current)) {
      bump(c, current, "completed");
      left.add(current);
    }
  }
  return c;
}

/** Adds the deltas in the caller's transaction (rows sorted by step id: a stable lock order). */
export async function bumpCounters(
  tx: Prisma.TransactionClient,
  versionId: string,
  journeyId: string,
  counters: Counters,
): Promise<void> {
  if (counters.size === 0) return;
  const shard = takeShard();
  const rows = [...counters.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const steps = rows.map(([s]) => s);
  const col = (f: keyof CounterDelta) => rows.map(([, d]) => d[f]);
  await tx.$executeRaw`
    INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId", entered, completed, sent, failed, converted, "movedIn", "movedOut")
    SELECT ${versionId}, s, ${shard}, ${journeyId}, e, c, se, f, cv, mi, mo
    FROM unnest(${steps}::text[], ${col("entered")}::int[], ${col("completed")}::int[], ${col("sent")}::int[], ${col("failed")}::int[], ${col("converted")}::int[], ${col("movedIn")}::int[], ${col("movedOut")}::int[])
      AS t(s, e, c, se, f, cv, mi, mo)
    ON CONFLICT ("versionId", "stepId", shard) DO UPDATE SET
      entered = "StepCounter".entered + EXCLUDED.entered,
      completed = "StepCounter".completed + EXCLUDED.completed,
      sent = "StepCounter".sent + EXCLUDED.sent,
      failed = "StepCounter".failed + EXCLUDED.failed,
      converted = "StepCounter".converted + EXCLUDED.converted,
      "movedIn" = "StepCounter"."movedIn" + EXCLUDED."movedIn",
      "movedOut" = "StepCounter"."movedOut" + EXCLUDED."movedOut"`;
}

export function singleCounter(stepId: string, field: keyof CounterDelta): Counters {
  const c: Counters = new Map();
  bump(c, stepId, field);
  return c;
}
