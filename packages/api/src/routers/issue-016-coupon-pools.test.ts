// Issue 16 item 3 (pickers, not free text): journeys.couponPools lists the workspace's coupon
// pools by name with their codes and how many are still unclaimed, for the coupon step's picker.
// Real Postgres; this workspace's pools only; any signed-in role may read, nobody else.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

describe("journeys.couponPools (issue 16)", () => {
  let env: ApiTestEnv<"marketer" | "viewer" | "other">;

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["marketer", "pools-a", "MARKETER"],
        ["viewer", "pools-a", "VIEWER"],
        ["other", "pools-b", "ADMIN"],
      ] as const,
      { prefix: "pools" },
    );
    const ws = env.users.marketer.workspaceId;
    const spring = await env.db.prisma.couponPool.create({
      data: {
        workspaceId: ws,
        name: "Spring 20% off",
        codes: { create: [{ code: "SPR-1" }, { code: "SPR-2" }, { code: "SPR-3" }] },
      },
    });
    // One code already given to a customer (claimed by a message).
    await env.db.prisma.couponCode.update({
      where: { poolId_code: { poolId: spring.id, code: "SPR-1" } },
      data: { messageId: "msg-1", claimedAt: new Date() },
    });
    await env.db.prisma.couponPool.create({ data: { workspaceId: ws, name: "Autumn (empty)" } });
    await env.db.prisma.couponPool.create({
      data: {
        workspaceId: env.users.other.workspaceId,
        name: "Other shop's pool",
        codes: { create: [{ code: "OTH-1" }] },
      },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("lists this workspace's pools by name with codes and unclaimed codes", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const pools = await marketer.journeys.couponPools();
    expect(pools.map(({ id: _id, ...p }) => p)).toEqual([
      { name: "Autumn (empty)", codes: 0, unclaimed: 0 },
      { name: "Spring 20% off", codes: 3, unclaimed: 2 },
    ]);
    // A viewer reads the same list; another workspace sees only its own pool.
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    expect(await viewer.journeys.couponPools()).toEqual(pools);
    const other = createCaller(env.ctxFor(env.users.other));
    expect((await other.journeys.couponPools()).map((p) => p.name)).toEqual(["Other shop's pool"]);
  });

  it("is refused without a session", async () => {
    expect((await rejects(createCaller(env.ctxFor(null)).journeys.couponPools())).code).toBe(
      "UNAUTHORIZED",
    );
  });
});
