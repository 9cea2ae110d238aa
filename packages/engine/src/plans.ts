import { parsePlan, type Plan } from "@postpath/journey";
import type { EngineContext } from "./context.ts";

/** Published plans never change, so each process keeps the parsed ones it has used. */
const cache = new Map<string, Plan>();
const MAX_CACHED = 500;

export class VersionNotFoundError extends Error {
  constructor(versionId: string) {
    super(`journey version ${versionId} no longer exists`);
    this.name = "VersionNotFoundError";
  }
}

/** The parsed plan of a journey version (throws when it is missing or unreadable). */
export async function loadPlan(ctx: EngineContext, versionId: string): Promise<Plan> {
  const hit = cache.get(versionId);
  if (hit) return hit;
  const v = await ctx.db.prisma.journeyVersion.findUnique({
    where: { id: versionId },
    select: { plan: true },
  });
  if (!v) throw new VersionNotFoundError(versionId);
  const plan = parsePlan(v.plan);
  if (cache.size >= MAX_CACHED) {
    const first = cache.keys().next();
    if (!first.done) cache.delete(first.value);
  }
  cache.set(versionId, plan);
  return plan;
}
