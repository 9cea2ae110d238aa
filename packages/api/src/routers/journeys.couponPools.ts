// issue 16 (pickers, not free text): the coupon step's pool is chosen from the workspace's coupon
// pools by name, with how many codes are left, instead of typed. Read-only; the engine takes a
// pool by id or by name (engine outputs.ts issueCoupon), and the picker stores the name.
import type { ApiContext } from "../trpc.ts";

export interface CouponPoolRow {
  id: string;
  name: string;
  /** Codes in the pool. */
  codes: number;
  /** Codes not yet claimed by a coupon step (0: the step fails once it reaches the pool). */
  unclaimed: number;
}

type Ctx = ApiContext & { user: NonNullable<ApiContext["user"]> };

/** At most this many pools are listed (by name); a workspace has a handful. */
export const COUPON_POOLS_LISTED = 500;

export async function couponPools({ ctx }: { ctx: Ctx }): Promise<CouponPoolRow[]> {
  const pools = await ctx.db.prisma.couponPool.findMany({
    where: { workspaceId: ctx.user.workspaceId },
    orderBy: { name: "asc" },
    take: COUPON_POOLS_LISTED,
    select: { id: true, name: true, _count: { select: { codes: true } } },
  });
  if (pools.length === 0) return [];
  // One grouped count of the unclaimed codes of the listed pools (index poolId, messageId).
  const free = await ctx.db.prisma.couponCode.groupBy({
    by: ["poolId"],
    where: { poolId: { in: pools.map((p) => p.id) }, messageId: null },
    _count: { _all: true },
  });
  const unclaimed = new Map(free.map((f) => [f.poolId, f._count._all]));
  return pools.map((p) => ({
    id: p.id,
    name: p.name,
    codes: p._count.codes,
    unclaimed: unclaimed.get(p.id) ?? 0,
  }));
}
