// Issue 16 (bench/segments at the 1 M customers): the first sweep of a segment most
// customers are in gathers every membership change of the workspace; gathering them with a spread
// call (`push(...changes)`) threw "RangeError: Maximum call stack size exceeded" past ~120,000,
// so the segment never got members. 200,000 customers on real Postgres: every one enters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forgetSegments, sweepSegments } from "./segments.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

const CUSTOMERS = 200_000;

describe("a sweep that changes hundreds of thousands of memberships", () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await startEngineHarness({ workers: false });
    await h.db.query(
      `INSERT INTO "Customer" (id, "workspaceId", "externalId", attributes, "updatedAt")
       SELECT $1 || '-c' || g, $1, 'u' || g, jsonb_build_object('tier', 'gold'), now()
       FROM generate_series(1, $2::int) AS g`,
      [h.workspaceId, CUSTOMERS],
    );
    await h.db.query(`ANALYZE "Customer"`);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lets all of them enter", async () => {
    const segment = await h.db.prisma.segment.create({
      data: {
        workspaceId: h.workspaceId,
        name: "Gold",
        definition: {
          match: "all",
          rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }],
        },
      },
    });
    forgetSegments(h.workspaceId);
    const swept = await sweepSegments(h.ctx, h.workspaceId, segment.id);
    expect(swept).toEqual({ segments: 1, entered: CUSTOMERS, left: 0 });
    const [row] = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "SegmentMembership" WHERE "segmentId" = $1`,
      [segment.id],
    );
    expect(row?.n).toBe(CUSTOMERS);
  });
});
