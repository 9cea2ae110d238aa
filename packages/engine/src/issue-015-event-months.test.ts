// issue 15: "Event" is partitioned by month of receivedAt. Ingest's events jobs carry the range of
// their events' receivedAt, and the events worker names that range (or the one of the rows it read)
// in every statement on the events, so Postgres reads their month only instead of every month's
// key index for every id (event-months.ts). A range never changes what is found: an event outside
// it is still read by id. Real Postgres and Redis.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rangeParams, receivedRange } from "./event-months.ts";
import { LOAD_EVENTS_IN, MARK_PROCESSED_IN, processEventJob } from "./events.ts";
import { EventCommitter } from "./group-commit.ts";
import { trackMany } from "./ingest.ts";
import { sweep } from "./maintenance.ts";
import { EVENTS, listMonthPartitions } from "./partitions.ts";
import type { EventJob } from "./queues.ts";
import { moveEvent, startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
  await h.publish("Ordered", [
    { id: "t", type: "trigger.event", data: { event: "ordered" }, next: "end" },
  ]);
});
afterAll(async () => {
  await h?.close();
});

/** Each event's receivedAt (epoch ms) and whether it is processed. */
async function receivedOf(ids: readonly string[]) {
  const rows = await h.db.query<{ id: string; ms: number; processed: boolean }>(
    `SELECT id, (extract(epoch FROM "receivedAt") * 1000)::float8 AS ms,
            "processedAt" IS NOT NULL AS processed
       FROM "Event" WHERE id = ANY($1::text[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

const idsOf = (job: EventJob): string[] =>
  "eventIds" in job ? job.eventIds : "eventId" in job ? [job.eventId] : [];

/** The generic plan of `sql` for these parameters: how many month partitions it scans, of all. */
async function monthsRead(sql: string, params: unknown[]): Promise<{ read: number; all: number }> {
  const all = (await listMonthPartitions(h.ctx, EVENTS)).length;
  const plan = await h.db.withSession(async (s) => {
    await s.exec(`SET plan_cache_mode = force_generic_plan`);
    await s.exec(`PREPARE months_read AS ${sql}`);
    const literal = (v: unknown) =>
      Array.isArray(v)
        ? `ARRAY[${v.map((x) => `'${String(x)}'`).join(",")}]::text[]`
        : `'${String(v)}'`;
    try {
      const [row] = await s.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) EXECUTE months_read(${params.map(literal).join(", ")})`,
      );
      return row!["QUERY PLAN"][0].Plan;
    } finally {
      await s.exec(`DEALLOCATE months_read; RESET plan_cache_mode`);
    }
  });
  // The partitions scanned: those pruned when the plan starts are not in it at all.
  const scanned = new Set<string>();
  const walk = (n: PlanNode) => {
    if (n["Node Type"].includes("Scan") && n["Relation Name"]?.startsWith("Event_"))
      scanned.add(n["Relation Name"]);
    n.Plans?.forEach(walk);
  };
  walk(plan);
  return { read: scanned.size, all };
}
interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

describe("issue 15: events are read in their own month", () => {
  it("ingest's events jobs carry the range of their events' receivedAt", async () => {
    const committer = new EventCommitter(h.ctx, { maxEvents: 7, concurrency: 3, lingerMs: 0 });
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        committer.push([
          {
            workspaceId: h.workspaceId,
            userId: `range-${i % 9}`,
            name: "ordered",
            properties: { i },
            timestamp: new Date(),
            messageId: `range-${i}`,
          },
        ]),
      ),
    );
    const fresh = new Set(answers.map(([a]) => a!.eventId));
    const jobsNow = async () =>
      (await h.ctx.queues.events.getJobs(["waiting"]))
        .map((j) => j.data)
        .filter((d) => idsOf(d).some((id) => fresh.has(id)));
    const jobs = await waitFor(
      "every event queued",
      async () => {
        const js = await jobsNow();
        return js.flatMap(idsOf).filter((id) => fresh.has(id)).length >= fresh.size && js;
      },
      { progress: async () => (await jobsNow()).length },
    );
    const stored = await receivedOf([...fresh]);
    for (const job of jobs) {
      expect(job, JSON.stringify(job)).toHaveProperty("received");
      const received = (job as { received: { from: number; to: number } }).received;
      const times = idsOf(job).map((id) => stored.get(id)!.ms);
      const [lo, hi] = [Math.min(...times), Math.max(...times)];
      // Covers every event of the job, with no more than the slack (1 s) beyond them.
      expect(received.from).toBeLessThanOrEqual(lo);
      expect(received.to).toBeGreaterThanOrEqual(hi);
      expect(received.from).toBeGreaterThanOrEqual(lo - 2000);
      expect(received.to).toBeLessThanOrEqual(hi + 2000);
    }
  });

  it("the worker's statements read only the month of the range, not every month", async () => {
    const [a] = await trackMany(h.ctx, h.workspaceId, [
      { userId: "plan", event: "ordered", messageId: "plan-1" },
    ]);
    const stored = await receivedOf([a!.eventId]);
    const range = rangeParams(receivedRange([stored.get(a!.eventId)!.ms])!);
    for (const sql of [LOAD_EVENTS_IN, MARK_PROCESSED_IN]) {
      const { read, all } = await monthsRead(sql, [[a!.eventId], ...range]);
      expect(all).toBeGreaterThanOrEqual(3); // the legacy table, months ahead, the default
      expect(read, sql).toBe(1);
    }
  });

  it("a job's range that misses some of its events still processes every one, and marks each in its month", async () => {
    const calls = Array.from({ length: 6 }, (_, i) => ({
      userId: `miss-${i % 2}`,
      event: "ordered",
      messageId: `miss-${i}`,
    }));
    const ids = (await trackMany(h.ctx, h.workspaceId, calls)).map((a) => a.eventId);
    // One of them received in another month (next January), as after a month's end.
    await moveEvent(h.db, ids[5]!, "2027-01-20T10:00:00Z", false);
    const before = await receivedOf(ids);
    // The range of the first five only: the sixth is outside it.
    const received = receivedRange(ids.slice(0, 5).map((id) => before.get(id)!.ms))!;
    expect(received.to).toBeLessThan(before.get(ids[5]!)!.ms);
    await processEventJob(h.ctx, { eventIds: ids, received } satisfies EventJob);
    const after = await receivedOf(ids);
    expect([...after.values()].filter((e) => e.processed)).toHaveLength(6);
    // Each customer entered the journey (once: every later order is refused by the entry rule).
    const runs = await h.db.prisma.journeyRun.findMany({
      where: { workspaceId: h.workspaceId, triggerEventId: { in: ids } },
    });
    expect(new Set(runs.map((r) => r.customerId)).size).toBe(2);
  });

  it("a job without a range (queued before it existed, or by the sweeper) is processed as before", async () => {
    const ids = (
      await trackMany(h.ctx, h.workspaceId, [
        { userId: "old-job", event: "ordered", messageId: "old-1" },
        { userId: "old-job", event: "ordered", messageId: "old-2" },
      ])
    ).map((a) => a.eventId);
    await processEventJob(h.ctx, { eventIds: ids } satisfies EventJob);
    await processEventJob(h.ctx, { eventId: ids[1]! } satisfies EventJob);
    const after = await receivedOf(ids);
    expect([...after.values()].every((e) => e.processed)).toBe(true);
  });

  it("the sweeper re-queues an unprocessed event with its receivedAt", async () => {
    const [a] = await trackMany(h.ctx, h.workspaceId, [
      { userId: "swept", event: "ordered", messageId: "swept-1" },
    ]);
    // Its job lost (Redis emptied of it), the event stays unprocessed until the sweeper finds it.
    await (await h.ctx.queues.events.getJob(`ev-${a!.eventId}`))?.remove();
    const sweptJob = async () => (await h.ctx.queues.events.getJob(`ev-${a!.eventId}`))?.data;
    await waitFor("the sweeper re-queues it", async () => {
      await sweep(h.ctx, 1);
      return (await sweptJob()) !== undefined;
    });
    const job = (await sweptJob())!;
    const ms = (await receivedOf([a!.eventId])).get(a!.eventId)!.ms;
    expect(job).toMatchObject({ eventId: a!.eventId });
    const received = (job as { received: { from: number; to: number } }).received;
    expect(received.from).toBeLessThanOrEqual(ms);
    expect(received.to).toBeGreaterThanOrEqual(ms);
    await processEventJob(h.ctx, job);
    expect((await receivedOf([a!.eventId])).get(a!.eventId)!.processed).toBe(true);
  });

  it("a malformed range is refused as a malformed job", async () => {
    await expect(
      processEventJob(h.ctx, { eventIds: ["x", "y"], received: { from: 10, to: 5 } }),
    ).rejects.toThrow(/malformed/);
  });
});
