// Issue 15: segment checks in batches. The identify group commit queues one check per statement
// for all its customers (one "customers" job), and processCustomersChanged checks them together:
// one read of the customers, the saved segments refreshed for all of them, the memberships of
// inline segment triggers written per statement, the entries through enrolEntries. Per customer
// it is the single check's outcome: a customer who enters the segment enters the journey once
// per membership (`segment-<since>`), whatever the retries and later identifies while inside; one
// who leaves loses the membership (and the saved segment's); one who comes back enters again,
// subject to the entry rules. The same for a journey triggered by entering a saved segment (its
// entries, on the refresh's edges, also go through enrolEntries). Real Postgres and Redis.
import type { StepSpec } from "@postpath/journey";
import { describe, expect, it } from "vitest";
import { processEventJob } from "./events.ts";
import { identifyMany } from "./ingest.ts";
import type { EventJob } from "./queues.ts";
import { runProgress, saveSegment, waitFor, type EngineHarness } from "./testing/harness.ts";
import { harnessesClosedAfterEach } from "./testing/harness-hooks.ts";

// The second workspace's harness shares the first one's database.
const harness = harnessesClosedAfterEach();

/** Entering the inline segment `plan = premium` starts it; a day's wait keeps the run active. */
const premiumJourney = (then: StepSpec[]): StepSpec[] => [
  {
    id: "t",
    type: "trigger.segment",
    data: { conditions: [{ property: "plan", op: "eq", value: "premium" }] },
    next: then[0]!.id,
  },
  ...then,
];
const waitADay: StepSpec[] = [
  { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
];

/** Entering the saved segment `segmentId` starts it. */
const savedJourney = (segmentId: string, then: StepSpec[]): StepSpec[] => [
  { id: "t", type: "trigger.segment", data: { segmentId, on: "enter" }, next: then[0]!.id },
  ...then,
];

/** The segment-check jobs waiting in the events queue (no workers run them). */
async function queuedChecks(x: EngineHarness) {
  return (await x.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"])).filter(
    (j) => j.name === "customer" || j.name === "customers",
  );
}

/** Runs the queued checks as a worker would, removing them from the queue. */
async function runChecks(x: EngineHarness): Promise<number> {
  let enrolled = 0;
  for (const job of await queuedChecks(x)) {
    enrolled += (await processEventJob(x.ctx, job.data)).enrolled;
    await job.remove();
  }
  return enrolled;
}

async function runsPerCustomer(x: EngineHarness, journeyId: string) {
  const runs = await x.db.prisma.journeyRun.findMany({
    where: { journeyId },
    select: { customerId: true },
  });
  const out = new Map<string, number>();
  for (const r of runs) out.set(r.customerId, (out.get(r.customerId) ?? 0) + 1);
  return out;
}

const segmentMembers = async (x: EngineHarness, journeyId: string) =>
  (await x.db.prisma.segmentMember.findMany({ where: { journeyId }, select: { customerId: true } }))
    .map((m) => m.customerId)
    .sort();
const savedMembers = async (x: EngineHarness, segmentId: string) =>
  (
    await x.db.prisma.segmentMembership.findMany({
      where: { segmentId },
      select: { customerId: true },
    })
  )
    .map((m) => m.customerId)
    .sort();

const idsOf = async (x: EngineHarness, externalIds: string[]) =>
  (
    await x.db.prisma.customer.findMany({
      where: { workspaceId: x.workspaceId, externalId: { in: externalIds } },
      select: { id: true },
    })
  )
    .map((c) => c.id)
    .sort();

describe("issue 15: segment checks in batches", () => {
  it("one statement's customers are checked by one job: those inside enter once, a retry and later identifies enter nobody again", async () => {
    const h = await harness({ workers: false });
    const { journeyId } = await h.publish("premium", premiumJourney(waitADay), {
      entry: { mode: "afterExit" },
    });
    const saved = await saveSegment(h, "Premium", {
      rules: [{ kind: "attribute", property: "plan", op: "eq", value: "premium" }],
    });
    const bySaved = await h.publish("saved premium", savedJourney(saved.id, waitADay), {
      entry: { mode: "afterExit" },
    });
    const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
    const premium = users.filter((_, i) => i % 3 !== 0);
    const basic = users.filter((_, i) => i % 3 === 0);
    await identifyMany(
      h.ctx,
      h.workspaceId,
      users.map((u, i) => ({
        userId: u,
        traits: { plan: i % 3 === 0 ? "basic" : "premium" },
        messageId: `${u}-1`,
      })),
    );
    const all = await idsOf(h, users);
    const inside = await idsOf(h, premium);
    const outside = await idsOf(h, basic);
    const jobs = await queuedChecks(h);
    expect(jobs.map((j) => j.name)).toEqual(["customers"]);
    const job = jobs[0]!.data;
    expect("customerIds" in job && [...job.customerIds].sort()).toEqual(all);

    // The inline trigger's entries (the saved segment's journey starts inside the refresh).
    expect((await processEventJob(h.ctx, job)).enrolled).toBe(inside.length);
    for (const j of [journeyId, bySaved.journeyId]) {
      const runs = await runsPerCustomer(h, j);
      expect([...runs.keys()].sort()).toEqual(inside);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
    }
    const runs = await runsPerCustomer(h, journeyId);
    expect(await segmentMembers(h, journeyId)).toEqual(inside);
    expect(await savedMembers(h, saved.id)).toEqual(inside);
    for (const id of outside) expect(runs.has(id)).toBe(false);

    // The same job again (a retry after a failure that came after the entries): nobody enters.
    expect((await processEventJob(h.ctx, job)).enrolled).toBe(0);
    // A customer's own check, in the form jobs queued before batches have: nothing either.
    expect(
      (await processEventJob(h.ctx, { customerId: inside[0]!, reason: "identify" })).enrolled,
    ).toBe(0);
    // Later identifies while inside: new checks, no new entry.
    await identifyMany(
      h.ctx,
      h.workspaceId,
      premium.map((u) => ({
        userId: u,
        traits: { plan: "premium", visits: 2 },
        messageId: `${u}-2`,
      })),
    );
    expect(await runChecks(h)).toBe(0);
    expect(await h.db.prisma.journeyRun.count({ where: { journeyId } })).toBe(inside.length);
    expect(await h.db.prisma.journeyRun.count({ where: { journeyId: bySaved.journeyId } })).toBe(
      inside.length,
    );
    // Not refusals either: each entry found its own run.
    expect(await h.db.prisma.entrySkip.count()).toBe(0);
  });

  it("customers who leave lose their memberships; coming back they enter again (entry rules permitting)", async () => {
    const h = await harness();
    const { journeyId } = await h.publish(
      "premium now",
      premiumJourney([{ id: "end", type: "flow.exit" }]),
      { entry: { mode: "afterExit" } },
    );
    const saved = await saveSegment(h, "Premium", {
      rules: [{ kind: "attribute", property: "plan", op: "eq", value: "premium" }],
    });
    const bySaved = await h.publish(
      "saved premium now",
      savedJourney(saved.id, [{ id: "end", type: "flow.exit" }]),
      { entry: { mode: "afterExit" } },
    );
    const users = Array.from({ length: 12 }, (_, i) => `v${i}`);
    const leaving = users.slice(0, 5);
    const staying = users.slice(5);
    const identifyAll = (list: string[], plan: string, n: number) =>
      identifyMany(
        h.ctx,
        h.workspaceId,
        list.map((u) => ({ userId: u, traits: { plan }, messageId: `${u}-${n}` })),
      );
    // n completed runs in each journey.
    const completed = (n: number) =>
      waitFor(
        `${n} completed runs in each journey`,
        async () => {
          for (const j of [journeyId, bySaved.journeyId])
            if (
              (await h.db.prisma.journeyRun.count({
                where: { journeyId: j, status: "COMPLETED" },
              })) !== n
            )
              return false;
          return true;
        },
        {
          progress: async () => [
            await runProgress(h.db, journeyId),
            await runProgress(h.db, bySaved.journeyId),
          ],
        },
      );
    await identifyAll(users, "premium", 1);
    await completed(users.length);
    const all = await idsOf(h, users);
    expect(await segmentMembers(h, journeyId)).toEqual(all);
    expect(await savedMembers(h, saved.id)).toEqual(all);

    await identifyAll(leaving, "basic", 2);
    const left = await idsOf(h, leaving);
    const stay = await idsOf(h, staying);
    const progress = async () => [
      await segmentMembers(h, journeyId),
      await savedMembers(h, saved.id),
    ];
    await waitFor(
      "the leavers' memberships gone",
      async () =>
        JSON.stringify(await progress()) === JSON.stringify([stay, stay]) ? true : undefined,
      { progress },
    );

    // Back, in one statement with the customers still inside: the leavers enter again, the
    // others (one check in the same job) do not.
    await identifyMany(h.ctx, h.workspaceId, [
      ...leaving.map((u) => ({ userId: u, traits: { plan: "premium" }, messageId: `${u}-3` })),
      ...staying.map((u) => ({ userId: u, traits: { plan: "premium" }, messageId: `${u}-3` })),
    ]);
    await completed(users.length + leaving.length);
    for (const j of [journeyId, bySaved.journeyId]) {
      const runs = await runsPerCustomer(h, j);
      for (const id of left) expect(runs.get(id)).toBe(2);
      for (const id of stay) expect(runs.get(id)).toBe(1);
      expect(await h.db.prisma.journeyRun.count({ where: { journeyId: j } })).toBe(
        users.length + leaving.length,
      );
    }
    expect(await segmentMembers(h, journeyId)).toEqual(all);
    expect(await savedMembers(h, saved.id)).toEqual(all);
  });

  it("one job may hold customers of several workspaces, and customers that no longer exist", async () => {
    const a = await harness({ workers: false });
    const b = await harness({ workers: false, db: a.db });
    const ja = await a.publish("premium a", premiumJourney(waitADay));
    const jb = await b.publish("premium b", premiumJourney(waitADay));
    await identifyMany(a.ctx, a.workspaceId, [
      { userId: "ann", traits: { plan: "premium" } },
      { userId: "bob", traits: { plan: "basic" } },
    ]);
    await identifyMany(b.ctx, b.workspaceId, [
      { userId: "ann", traits: { plan: "premium" } },
      { userId: "cyd", traits: { plan: "premium" } },
    ]);
    for (const x of [a, b]) for (const j of await queuedChecks(x)) await j.remove();
    const ids = [...(await idsOf(a, ["ann", "bob"])), ...(await idsOf(b, ["ann", "cyd"]))];
    const job: EventJob = { customerIds: [...ids, "c-gone"], reason: "identify" };
    expect((await processEventJob(a.ctx, job)).enrolled).toBe(3);
    expect([...(await runsPerCustomer(a, ja.journeyId)).keys()]).toEqual(await idsOf(a, ["ann"]));
    expect([...(await runsPerCustomer(b, jb.journeyId)).keys()].sort()).toEqual(
      await idsOf(b, ["ann", "cyd"]),
    );
    expect((await processEventJob(a.ctx, job)).enrolled).toBe(0);
    expect(await a.db.prisma.journeyRun.count()).toBe(3);
  });
});
