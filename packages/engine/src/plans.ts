import { parsePlan, type Plan } from "@postpath/journey";
import type { EngineContext } from "./context.ts";

/**
 * Published plans never change, so each process keeps the parsed ones it has used — as promises,
 * so the runs that need a plan at once share one read and one parse. (A process starting under
 * load, or the first runs of a new version, read and parsed the plan once per run in flight: a
 * new worker process's first four timer buckets were 480 reads and parses of one plan. Those
 * buckets still took 1.0-1.5 s with this; most of what was left was Prisma's query compiler loading
 * and compiling this read: bench/README.md, engine-lateness, 2026-12-07 10:15.)
 * A read that fails is not kept: the next call reads again.
 */
const cache = new Map<string, Promise<Plan>>();
const MAX_CACHED = 500;

export class VersionNotFoundError extends Error {
  constructor(versionId: string) {
    super(`journey version ${versionId} no longer exists`);
    this.name = "VersionNotFoundError";
  }
}

/** The parsed plan of a journey version (throws when it is missing or unreadable). */
export function loadPlan(ctx: EngineContext, versionId: string): Promise<Plan> {
  const hit = cache.get(versionId);
  if (hit) return hit;
  const loading = (async () => {
    // Raw SQL, not Prisma: a Prisma query shape's first use in a process compiles it (~20 ms),
    // and every run of a new process's first buckets waited for that (bench/README.md,
    // engine-lateness, 2026-12-07 10:15).
    const [v] = await ctx.db.query<{ plan: unknown }>(
      `SELECT plan FROM "JourneyVersion" WHERE id = $1`,
      [versionId],
      { prepare: "engine.loadPlan" },
    );
    if (!v) throw new VersionNotFoundError(versionId);
    return parsePlan(v.plan);
  })();
  if (cache.size >= MAX_CACHED) {
    const first = cache.keys().next();
    if (!first.done) cache.delete(first.value);
  }
  cache.set(versionId, loading);
  loading.catch(() => {
    if (cache.get(versionId) === loading) cache.delete(versionId);
  });
  return loading;
}
