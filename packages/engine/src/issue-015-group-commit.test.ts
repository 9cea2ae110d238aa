// Issue 15, item 1: ingest's group commit (concurrent track calls share one statement and one
// queue round trip) and the batched events worker, on the real Postgres and Redis.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventCommitter, eventCommitter } from "./group-commit.ts";
import { track, trackMany } from "./ingest.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
});
afterAll(async () => {
  await h?.close();
});

const stored = (messageIds: string[]) =>
  h.db.prisma.event.findMany({
    where: { workspaceId: h.workspaceId, messageId: { in: messageIds } },
    select: { id: true, messageId: true, properties: true },
  });

describe("issue 15: group-commit ingest", () => {
  it("a concurrent burst of duplicates across batches stores each messageId once and answers duplicate for the rest", async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `dup-${i}`);
    // 12 groups of 60 and 60 single calls, all at once: every messageId is sent 6 times, by
    // different groups (so by different statements, and within one statement).
    const groups = Array.from({ length: 12 }, (_, g) =>
      Array.from({ length: 60 }, (_, k) => ({
        userId: `burst-${(g * 7 + k) % 25}`,
        event: "viewed",
        properties: { g, k },
        messageId: ids[(g * 60 + k) % ids.length]!,
      })),
    );
    const singles = Array.from({ length: 60 }, (_, k) => ({
      userId: `burst-${k % 25}`,
      event: "viewed",
      messageId: ids[(k * 2) % ids.length]!,
    }));
    const answers = (
      await Promise.all([
        ...groups.map(async (calls) =>
          (await trackMany(h.ctx, h.workspaceId, calls)).map((a, i) => ({
            ...a,
            messageId: calls[i]!.messageId,
          })),
        ),
        ...singles.map(async (call) => [
          { ...(await track(h.ctx, h.workspaceId, call)), messageId: call.messageId },
        ]),
      ])
    ).flat();
    const rows = await stored(ids);
    expect(rows).toHaveLength(ids.length);
    const idOf = new Map(rows.map((r) => [r.messageId, r.id]));
    for (const messageId of ids) {
      const mine = answers.filter((a) => a.messageId === messageId);
      expect(
        mine.filter((a) => !a.duplicate),
        messageId,
      ).toHaveLength(1);
      expect(new Set(mine.map((a) => a.eventId)), messageId).toEqual(
        new Set([idOf.get(messageId)]),
      );
    }
    // 25 customers, each once.
    expect(
      await h.db.prisma.customer.count({
        where: { workspaceId: h.workspaceId, externalId: { startsWith: "burst-" } },
      }),
    ).toBe(25);
  });

  it("events committed by many flushes at once are each queued in exactly one events job", async () => {
    // Flushes of at most 5 events, 4 statements in flight: the flushes' addBulk calls overlap,
    // and the ones committed while another is on its way to Redis go out with the next.
    // A name a journey is triggered by (one nothing reads is stored processed and queues nothing:
    // issue-015-quiet-events.test.ts).
    await h.publish("Signed up", [
      { id: "t", type: "trigger.event", data: { event: "signed up" }, next: "end" },
    ]);
    const committer = new EventCommitter(h.ctx, { maxEvents: 5, concurrency: 4, lingerMs: 0 });
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        committer.push([
          {
            workspaceId: h.workspaceId,
            userId: `q-${i % 30}`,
            name: "signed up",
            properties: { i },
            timestamp: new Date(),
            messageId: `queued-${i}`,
          },
        ]),
      ),
    );
    const fresh = new Set(answers.map(([a]) => a!.eventId));
    expect(fresh.size).toBe(200);
    // The answer comes once committed; the jobs follow (one addBulk at a time).
    const queuedNow = async () => {
      const queued: string[] = [];
      for (const job of await h.ctx.queues.events.getJobs(["waiting"])) {
        const ids =
          "eventIds" in job.data
            ? job.data.eventIds
            : "eventId" in job.data
              ? [job.data.eventId]
              : [];
        queued.push(...ids.filter((id) => fresh.has(id)));
      }
      return queued;
    };
    const queued = await waitFor(
      "every committed event queued",
      async () => {
        const q = await queuedNow();
        return q.length >= 200 && q;
      },
      { progress: async () => (await queuedNow()).length },
    );
    expect(queued.length).toBe(200);
    expect(new Set(queued)).toEqual(fresh);
  });

  it("doubles are stored exactly", async () => {
    const values = [0.1 + 0.2, 1e-310, 123456789.12345679, -2.2250738585072014e-308, 1.7e308];
    const [a] = await trackMany(h.ctx, h.workspaceId, [
      { userId: "num", event: "n", properties: { values }, messageId: "num-1" },
    ]);
    const row = await h.db.query<{ p: string }>(
      `SELECT properties::text AS p FROM "Event" WHERE id = $1`,
      [a!.eventId],
    );
    expect((JSON.parse(row[0]!.p) as { values: number[] }).values).toEqual(values);
  });

  it("a group whose commit fails is refused whole and stores nothing; the groups committed beside it are stored; a retry stores it once", async () => {
    // A check Postgres makes at COMMIT (a deferred constraint trigger): the statement succeeded,
    // the commit fails, as a commit can when the server goes away at that moment.
    await h.db.exec(`
      CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected commit failure' USING ERRCODE = 'XX000'; END $$;
      CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON "Event"
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.properties ? 'failCommit') EXECUTE FUNCTION fail_commit();`);
    try {
      const group = (tag: string, bad: boolean) =>
        Array.from({ length: 20 }, (_, k) => ({
          userId: `fail-${tag}`,
          event: "viewed",
          properties: bad && k === 13 ? { failCommit: true } : { k },
          messageId: `fail-${tag}-${k}`,
        }));
      const outcomes = await Promise.allSettled([
        trackMany(h.ctx, h.workspaceId, group("a", false)),
        trackMany(h.ctx, h.workspaceId, group("bad", true)),
        trackMany(h.ctx, h.workspaceId, group("b", false)),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const bad = outcomes[1] as PromiseRejectedResult;
      expect(String(bad.reason)).toContain("injected commit failure");
      const ids = (tag: string) => Array.from({ length: 20 }, (_, k) => `fail-${tag}-${k}`);
      expect(await stored(ids("bad"))).toHaveLength(0);
      expect(await stored([...ids("a"), ...ids("b")])).toHaveLength(40);
      expect(await h.db.prisma.customer.count({ where: { externalId: "fail-bad" } })).toBeLessThan(
        2,
      );
      // The client retries (the item that broke the commit fixed): stored once, no doubles.
      await h.db.exec(`DROP TRIGGER fail_commit ON "Event"; DROP FUNCTION fail_commit();`);
      const retry = await trackMany(h.ctx, h.workspaceId, [
        ...group("bad", false),
        ...group("a", false),
      ]);
      expect(retry.slice(0, 20).every((r) => !r.duplicate)).toBe(true);
      expect(retry.slice(20).every((r) => r.duplicate)).toBe(true);
      expect(await stored(ids("bad"))).toHaveLength(20);
    } finally {
      await h.db.exec(
        `DROP TRIGGER IF EXISTS fail_commit ON "Event"; DROP FUNCTION IF EXISTS fail_commit();`,
      );
    }
  });

  it("the events worker takes a batch: enrols, tells the run a later event of the same batch, marks every event processed", async () => {
    const { journeyId } = await h.publish("batch", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      {
        id: "w",
        type: "wait.event",
        data: {
          event: "registered",
          timeout: { amount: 1, unit: "hours" },
          correlate: { property: "serial", triggerProperty: "serial" },
        },
        next: { arrived: "end", timedOut: "late" },
      },
      { id: "late", type: "flow.exit" },
    ]);
    const now = Date.now();
    const calls = Array.from({ length: 40 }, (_, i) => [
      {
        userId: `buyer-${i}`,
        event: "purchase",
        properties: { serial: `S${i}` },
        timestamp: new Date(now - 2000).toISOString(),
        messageId: `buy-${i}`,
      },
      {
        userId: `buyer-${i}`,
        event: "registered",
        properties: { serial: `S${i}` },
        timestamp: new Date(now - 1000).toISOString(),
        messageId: `reg-${i}`,
      },
      { userId: `buyer-${i}`, event: "viewed", messageId: `view-${i}` },
    ]).flat();
    const answers = await trackMany(h.ctx, h.workspaceId, calls);
    expect(answers.every((a) => !a.duplicate)).toBe(true);
    // Queued right after the commit, in jobs of many.
    await waitFor("the batch's events jobs", async () =>
      (await h.ctx.queues.events.getJobs(["waiting"])).some(
        (j) => "eventIds" in j.data && j.data.eventIds.length > 1,
      ),
    );

    h.startWorkers();
    await waitFor(
      "every run to take its registration",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) === 40,
      {
        progress: async () => [
          await h.db.prisma.journeyRun.groupBy({
            by: ["status", "currentStepId"],
            where: { journeyId },
            _count: true,
          }),
        ],
      },
    );
    const runIds = (
      await h.db.prisma.journeyRun.findMany({ where: { journeyId }, select: { id: true } })
    ).map((r) => r.id);
    const arrived = await h.db.prisma.runTrace.count({
      where: { runId: { in: runIds }, kind: "event.arrived" },
    });
    expect(arrived).toBe(40);
    await waitFor(
      "every event processed",
      async () =>
        (await h.db.prisma.event.count({
          where: { id: { in: answers.map((a) => a.eventId) }, processedAt: null },
        })) === 0,
    );
    expect(eventCommitter(h.ctx)).toBeDefined();
  });
});
