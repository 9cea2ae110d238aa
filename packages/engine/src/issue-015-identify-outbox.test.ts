// issue 15: an identify call's segment check is kept in Postgres with its merge ("IdentifyCheck",
// written by the identify group commit's statement, identify-commit.ts) until a check has read the
// customer after it: the check deletes exactly the rows it read with the customer (events.ts), and
// the sweeper queues a check for rows older than its grace (maintenance.ts). So a check job Redis
// accepted and then lost (a restart without persistence) is queued again, and the customer still
// enters the segment-triggered journey. Real Postgres and Redis; the test runs the jobs itself.
import { describe, expect, it } from "vitest";
import { processEventJob } from "./events.ts";
import { identify, identifyMany } from "./ingest.ts";
import { sweep } from "./maintenance.ts";
import { PREMIUM_SEGMENT_JOURNEY, sleep, type EngineHarness } from "./testing/harness.ts";
import { harnessesClosedAfterEach } from "./testing/harness-hooks.ts";

const harness = harnessesClosedAfterEach({ workers: false });

async function setUp() {
  const h = await harness();
  const premium = await h.publish("premium", PREMIUM_SEGMENT_JOURNEY);
  return { h, premium };
}

/** The customers whose identify checks are still owed. */
const owed = (h: EngineHarness) =>
  h.db.query<{ customerId: string }>(
    `SELECT "customerId" FROM "IdentifyCheck" WHERE "workspaceId" = $1 ORDER BY 1`,
    [h.workspaceId],
  );

/** The segment-check jobs queued ("customer" and "customers" jobs on the events queue). */
async function queuedChecks(h: EngineHarness) {
  return (await h.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"])).filter(
    (j) => j.name === "customer" || j.name === "customers",
  );
}
const customersOf = (jobs: Awaited<ReturnType<typeof queuedChecks>>) =>
  jobs
    .flatMap((j): string[] =>
      "customerIds" in j.data
        ? j.data.customerIds
        : "customerId" in j.data
          ? [j.data.customerId]
          : [],
    )
    .sort();

/** Runs the queued checks as a worker would, then removes their jobs. */
async function runChecks(h: EngineHarness) {
  const jobs = await queuedChecks(h);
  for (const j of jobs) await processEventJob(h.ctx, j.data);
  for (const j of jobs) await j.remove();
  return jobs;
}

async function entered(h: EngineHarness, journeyId: string) {
  const runs = await h.db.prisma.journeyRun.findMany({
    where: { journeyId },
    select: { customerId: true },
  });
  return runs.map((r) => r.customerId).sort();
}

describe("issue 15: identify's segment checks are kept in Postgres until done", () => {
  it("a check Redis accepted and then lost is queued again by the sweeper, and the customer enters", async () => {
    const { h, premium } = await setUp();
    const results = await identifyMany(h.ctx, h.workspaceId, [
      { userId: "ann", traits: { plan: "premium" }, messageId: "a-1" },
      { userId: "bob", traits: { plan: "basic" }, messageId: "b-1" },
      { userId: "bob", traits: { plan: "premium" }, messageId: "b-2" },
    ]);
    const ids = [...new Set(results.map((r) => r.customerId))].sort();
    // Redis accepted the check (enqueuedAt set), and the check is owed in Postgres too.
    expect(customersOf(await queuedChecks(h))).toEqual(ids);
    const calls = await h.db.prisma.identifyCall.findMany({
      where: { workspaceId: h.workspaceId },
      select: { enqueuedAt: true },
    });
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.enqueuedAt !== null)).toBe(true);
    expect((await owed(h)).map((r) => r.customerId)).toEqual(ids);

    // Redis loses the job (restarted without persistence).
    await h.ctx.queues.events.obliterate({ force: true });
    expect(await queuedChecks(h)).toHaveLength(0);
    // A replay of the call does not queue it again (its enqueuedAt is set)...
    await identify(h.ctx, h.workspaceId, {
      userId: "ann",
      traits: { plan: "premium" },
      messageId: "a-1",
    });
    expect(await queuedChecks(h)).toHaveLength(0);
    expect(await entered(h, premium.journeyId)).toEqual([]);

    // ...but the sweeper does, from the rows, once they are older than its grace.
    await sleep(20);
    const swept = await sweep(h.ctx, 10);
    expect(swept.checkJobs).toBeGreaterThan(0);
    expect(customersOf(await runChecks(h))).toEqual(ids);
    expect(await entered(h, premium.journeyId)).toEqual(ids);
    // Done: nothing owed, and the next sweep queues nothing.
    expect(await owed(h)).toEqual([]);
    await sleep(20);
    expect((await sweep(h.ctx, 10)).checkJobs).toBe(0);
    expect(await queuedChecks(h)).toHaveLength(0);
  });

  it("a completed check leaves nothing owed; a check of a customer now gone clears its rows", async () => {
    const { h, premium } = await setUp();
    const [ann] = await identifyMany(h.ctx, h.workspaceId, [
      { userId: "ann", traits: { plan: "premium" } },
      { userId: "cy", traits: { plan: "basic" } },
    ]);
    await identify(h.ctx, h.workspaceId, { userId: "cy", traits: { city: "Oslo" } });
    expect(await owed(h)).toHaveLength(3);
    // The checks as queued, run once each: every row they read is done.
    await runChecks(h);
    expect(await owed(h)).toEqual([]);
    expect(await entered(h, premium.journeyId)).toEqual([ann!.customerId]);
    await sleep(20);
    expect((await sweep(h.ctx, 10)).checkJobs).toBe(0);

    // A customer deleted before its check ran (its job lost): the swept check finds it gone and
    // clears what it owed.
    const { customerId: dee } = await identify(h.ctx, h.workspaceId, {
      userId: "dee",
      traits: { plan: "premium" },
    });
    await h.ctx.queues.events.obliterate({ force: true });
    await h.db.prisma.customer.delete({ where: { id: dee } });
    expect((await owed(h)).map((r) => r.customerId)).toEqual([dee]);
    await sleep(20);
    expect((await sweep(h.ctx, 10)).checkJobs).toBe(1);
    expect(customersOf(await runChecks(h))).toEqual([dee]);
    expect(await owed(h)).toEqual([]);
    expect(await entered(h, premium.journeyId)).toEqual([ann!.customerId]);
  });
});
