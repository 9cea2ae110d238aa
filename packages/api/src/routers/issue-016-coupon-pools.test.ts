// Issue 16 item 3 (pickers, not free text): journeys.couponPools lists the workspace's coupon
// pools by name with their codes and how many are still unclaimed, for the coupon step's picker.
// Real Postgres; this workspace's pools only; any signed-in role may read, nobody else. Checking a
// draft, a PURL step naming a page the workspace lacks or has not published, and a coupon step
// drawing from a pool it lacks, are warnings on those steps (read fresh, not from the cache).
import { draftFromSteps } from "@postpath/journey";
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

  it("a missing or unpublished page and a missing pool are warnings when a draft is checked", async () => {
    const ws = env.users.marketer.workspaceId;
    await env.db.prisma.page.create({
      data: {
        workspaceId: ws,
        name: "Spring sale",
        slug: "spring",
        draft: {},
        publishedVersion: 1,
      },
    });
    await env.db.prisma.page.create({
      data: { workspaceId: ws, name: "Autumn preview", slug: "autumn", draft: {} },
    });
    const draft = (page: string, pool: string) =>
      draftFromSteps([
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "p" },
        { id: "p", type: "action.purl", data: { page }, next: "c" },
        {
          id: "c",
          type: "action.coupon",
          data: { source: { kind: "pool", pool }, value: { kind: "percent", amount: 10 } },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ]);
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const codes = async (page: string, pool: string) =>
      (await marketer.journeys.validate({ draft: draft(page, pool) })).issues.map((i) => [
        i.nodeId,
        i.code,
        i.severity,
      ]);
    expect(await codes("spring", "Spring 20% off")).toEqual([]);
    expect(await codes("autumn", "Other shop's pool")).toEqual([
      ["p", "purl.page_unpublished", "warning"],
      ["c", "coupon.unknown_pool", "warning"],
    ]);
    expect(await codes("winter", "Spring 20% off")).toEqual([
      ["p", "purl.unknown_page", "warning"],
    ]);
    // Published a moment later: no warning any more.
    await env.db.prisma.page.updateMany({
      where: { workspaceId: ws, slug: "autumn" },
      data: { publishedVersion: 1 },
    });
    expect(await codes("autumn", "Spring 20% off")).toEqual([]);
  });

  it("is refused without a session", async () => {
    expect((await rejects(createCaller(env.ctxFor(null)).journeys.couponPools())).code).toBe(
      "UNAUTHORIZED",
    );
  });
});
