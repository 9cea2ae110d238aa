// issue 15, item 6: with DATABASE_REPLICA_URL the journey list's figures come from the read
// replica and everything else from the primary. The "replica" here is a second real database
// holding what a lagging standby would: older counts, an older name, and not yet the journey
// created a moment ago. The runtime refuses an unreachable replica at start-up, naming it.
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import { createLogger, openReplica, StartupError } from "@postpath/engine";
import { parseEnv } from "@postpath/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";

describe("issue 15: read replica for read-only figures", () => {
  let env: ApiTestEnv<"m">;
  let replica: TestDatabase;
  beforeAll(async () => {
    env = await openApiTestEnv([["m", "ws-replica", "MARKETER"]]);
    replica = await createTestDatabase();
  });
  afterAll(async () => {
    await replica?.drop();
    await env?.close();
  });

  /** A live journey with `entered` customers counted at its trigger step, in one database. */
  async function liveJourney(db: TestDatabase, id: string, name: string, entered: number) {
    const ws = env.users.m.workspaceId;
    await db.prisma.workspace.upsert({
      where: { id: ws },
      create: { id: ws, name: "ws-replica", slug: "ws-replica" },
      update: {},
    });
    await db.prisma.journey.create({
      data: { id, workspaceId: ws, name, status: "LIVE", draft: {} },
    });
    await db.prisma.journeyVersion.create({
      data: {
        id: `${id}-v1`,
        journeyId: id,
        workspaceId: ws,
        version: 1,
        schemaVersion: 1,
        plan: { triggerStepId: "start" },
        triggerType: "trigger.event",
        triggerEvent: "purchase",
      },
    });
    await db.prisma.stepCounter.create({
      data: { versionId: `${id}-v1`, stepId: "start", shard: 0, journeyId: id, entered },
    });
  }

  it("lists names from the primary and the figures from the replica", async () => {
    await liveJourney(env.db, "j-old", "Welcome series", 12);
    await liveJourney(replica, "j-old", "Welcome (old name)", 10); // the standby lags
    await liveJourney(env.db, "j-new", "Created a moment ago", 3); // not on the standby yet

    const onReplica = createCaller({ ...env.ctxFor(env.users.m), readDb: replica });
    const listed = await onReplica.journeys.list();
    expect(listed.map((j) => [j.id, j.name, j.entered]).sort()).toEqual([
      ["j-new", "Created a moment ago", 0],
      ["j-old", "Welcome series", 10],
    ]);

    // Without a replica the same call reads everything from the primary.
    const primaryOnly = await createCaller(env.ctxFor(env.users.m)).journeys.list();
    expect(primaryOnly.map((j) => [j.id, j.entered]).sort()).toEqual([
      ["j-new", 3],
      ["j-old", 12],
    ]);
  });

  it("start-up opens the replica, or stops with an error naming DATABASE_REPLICA_URL", async () => {
    const log = createLogger("silent");
    const base = { DATABASE_URL: env.db.url };
    const opened = await openReplica(parseEnv({ ...base, DATABASE_REPLICA_URL: replica.url }), log);
    expect(opened).not.toBeNull();
    expect(await opened!.query<{ one: number }>("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await opened!.close();

    expect(await openReplica(parseEnv(base), log)).toBeNull();

    const unreachable = parseEnv({
      ...base,
      DATABASE_REPLICA_URL: "postgresql://postgres@127.0.0.1:1/nowhere",
    });
    const err = await openReplica(unreachable, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/^DATABASE_REPLICA_URL: /);

    const noPrimary = parseEnv({ DATABASE_REPLICA_URL: replica.url });
    await expect(openReplica(noPrimary, log)).rejects.toThrow(/DATABASE_URL is not/);
  });
});
