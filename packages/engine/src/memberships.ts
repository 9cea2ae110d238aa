// issue 16: the customer's saved segments and lifecycle stage for a run whose plan reads them
// (a split "is in segment …" / "lifecycle stage is …", packages/journey/src/membership.ts). Read
// fresh before each advance of such a run — a wait may have moved the customer in or out since
// the run started — with one indexed query ("SegmentMembership" by customerId); runs of plans
// that never read them pay nothing (the run row's load is shared by every journey).
import {
  LIFECYCLE_STAGES,
  planReadsMemberships,
  type Plan,
  type RunState,
} from "@postpath/journey";
import type { EngineContext } from "./context.ts";

export interface Memberships {
  /** Ids of the saved segments the customer is in (lifecycle stages included), sorted. */
  segments: string[];
  lifecycleStage: string | null;
}

export async function membershipsOf(
  ctx: Pick<EngineContext, "db">,
  customerId: string,
): Promise<Memberships> {
  const rows = await ctx.db.query<{ id: string; kind: string; stage: string | null }>(
    `SELECT m."segmentId" AS id, s.kind, s.stage FROM "SegmentMembership" m
     JOIN "Segment" s ON s.id = m."segmentId"
     WHERE m."customerId" = $1
     ORDER BY m."segmentId"`,
    [customerId],
    { prepare: "engine.memberships" },
  );
  // The stages exclude each other; should two rows exist for a moment, the first in stage order.
  const stages = new Set(rows.flatMap((r) => (r.kind === "lifecycle" && r.stage ? [r.stage] : [])));
  return {
    segments: rows.map((r) => r.id),
    lifecycleStage: LIFECYCLE_STAGES.find((s) => stages.has(s)) ?? null,
  };
}

/** The state with the customer's memberships as they are now, when the plan reads them. */
export async function withMemberships(
  ctx: Pick<EngineContext, "db">,
  plan: Plan,
  state: RunState,
  customerId: string,
): Promise<RunState> {
  if (!planReadsMemberships(plan)) return state;
  const m = await membershipsOf(ctx, customerId);
  return { ...state, customer: { ...state.customer, ...m } };
}
