// Issue 15, item 1: identify calls share a group commit (identify-commit.ts) on real Postgres and
// Redis, no workers (the queued segment checks stay countable). Calls for one customer in one
// statement merge in call order; a messageId repeated inside the statement, or replayed from an
// earlier one, merges nothing; each customer of a statement gets one segment check (also for a
// replay whose first check never reached Redis); a bad call in a group stores nothing of the
// group; concurrent requests share statements.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { identify, identifyMany } from "./ingest.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
});
afterAll(async () => {
  await h?.close();
});

const customerOf = (externalId: string) =>
  h.db.prisma.customer.findFirst({ where: { workspaceId: h.workspaceId, externalId } });

/** The segment checks queued per customer id (the events queue's "customer" and "customers" jobs). */
async function segmentChecks(): Promise<Map<string, number>> {
  const jobs = await h.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"]);
  const counts = new Map<string, number>();
  for (const j of jobs)
    for (const id of "customerId" in j.data
      ? [j.data.customerId]
      : "customerIds" in j.data
        ? j.data.customerIds
        : [])
      counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

describe("issue 15: identify calls in a group commit", () => {
  it("calls for one customer in one group merge in order; a repeated messageId merges nothing", async () => {
    const results = await identifyMany(h.ctx, h.workspaceId, [
      {
        userId: "gia",
        traits: { plan: "basic", email: "gia@old.example", city: "Oslo" },
        messageId: "g-1",
      },
      { userId: "hal", traits: { plan: "premium" }, messageId: "h-1" },
      { userId: "gia", traits: { plan: "premium", email: "gia@new.example" }, messageId: "g-2" },
      // g-1 again inside the same group (a client's retry merged into one batch): a duplicate.
      { userId: "gia", traits: { plan: "basic", email: "gia@old.example" }, messageId: "g-1" },
      { userId: "gia", traits: { machine: "Barista 3" }, messageId: "g-3" },
    ]);
    const gia = await customerOf("gia");
    const hal = await customerOf("hal");
    expect(results).toEqual([
      { customerId: gia!.id, duplicate: false },
      { customerId: hal!.id, duplicate: false },
      { customerId: gia!.id, duplicate: false },
      { customerId: gia!.id, duplicate: true },
      { customerId: gia!.id, duplicate: false },
    ]);
    expect(gia?.attributes).toEqual({
      plan: "premium",
      email: "gia@new.example",
      city: "Oslo",
      machine: "Barista 3",
    });
    expect(gia?.email).toBe("gia@new.example");
    expect(hal?.attributes).toEqual({ plan: "premium" });
    // One segment check per customer: it reads the customer as all of the group's calls left it.
    const checks = await segmentChecks();
    expect(checks.get(gia!.id)).toBe(1);
    expect(checks.get(hal!.id)).toBe(1);
    const calls = await h.db.prisma.identifyCall.findMany({
      where: { workspaceId: h.workspaceId, externalId: { in: ["gia", "hal"] } },
      select: { messageId: true, enqueuedAt: true },
      orderBy: { messageId: "asc" },
    });
    expect(calls.map((c) => c.messageId)).toEqual(["g-1", "g-2", "g-3", "h-1"]);
    expect(calls.every((c) => c.enqueuedAt !== null)).toBe(true);

    // A later replay of g-1 changes nothing and queues nothing.
    const before = await customerOf("gia");
    expect(
      await identify(h.ctx, h.workspaceId, {
        userId: "gia",
        traits: { plan: "basic" },
        messageId: "g-1",
      }),
    ).toEqual({ customerId: gia!.id, duplicate: true });
    const after = await customerOf("gia");
    expect(after?.attributes).toEqual(before?.attributes);
    expect(after?.updatedAt).toEqual(before?.updatedAt);
    expect((await segmentChecks()).get(gia!.id)).toBe(1);
  });

  it("a replay whose check never reached Redis is checked with its customer's new call", async () => {
    const first = await identify(h.ctx, h.workspaceId, {
      userId: "jay",
      traits: { plan: "basic" },
      messageId: "j-1",
    });
    // What a crash (or a Redis failure) between the commit and the queueing leaves behind.
    for (const job of await h.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"]))
      if ("customerId" in job.data && job.data.customerId === first.customerId) await job.remove();
    await h.db.prisma.identifyCall.updateMany({
      where: { workspaceId: h.workspaceId, messageId: "j-1" },
      data: { enqueuedAt: null },
    });
    expect((await segmentChecks()).get(first.customerId)).toBeUndefined();

    const results = await identifyMany(h.ctx, h.workspaceId, [
      { userId: "jay", traits: { plan: "premium" }, messageId: "j-2" },
      { userId: "jay", traits: { plan: "basic" }, messageId: "j-1" },
    ]);
    expect(results.map((r) => r.duplicate)).toEqual([false, true]);
    expect((await customerOf("jay"))?.attributes).toEqual({ plan: "premium" });
    expect((await segmentChecks()).get(first.customerId)).toBe(1);
    const calls = await h.db.prisma.identifyCall.findMany({
      where: { workspaceId: h.workspaceId, externalId: "jay" },
      select: { enqueuedAt: true },
    });
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.enqueuedAt !== null)).toBe(true);
  });

  it("a bad call stores nothing of its group and names the field", async () => {
    const bad = identifyMany(h.ctx, h.workspaceId, [
      { userId: "ivy", traits: { plan: "basic" }, messageId: "i-1" },
      { userId: "", traits: {}, messageId: "i-2" },
    ]);
    await expect(bad).rejects.toBeInstanceOf(ZodError);
    await expect(bad).rejects.toThrow(/userId is required/);
    expect(await customerOf("ivy")).toBeNull();
    expect(
      await h.db.prisma.identifyCall.count({
        where: { workspaceId: h.workspaceId, messageId: { in: ["i-1", "i-2"] } },
      }),
    ).toBe(0);
  });

  it("concurrent calls share statements: each merged once, each customer checked once", async () => {
    const users = Array.from({ length: 20 }, (_, i) => `c-${i}`);
    // Three calls per customer, sent concurrently, plus a replay of each first call.
    const sent = users.flatMap((u) =>
      [1, 2, 3].map((n) => ({ userId: u, traits: { [`t${n}`]: n }, messageId: `${u}-${n}` })),
    );
    const replays = users.map((u) => ({ userId: u, traits: { t1: 100 }, messageId: `${u}-1` }));
    const statements: string[] = [];
    const query = h.ctx.db.query.bind(h.ctx.db);
    h.ctx.db.query = ((sql: string, ...rest: unknown[]) => {
      if (sql.includes('INSERT INTO "IdentifyCall"')) statements.push(sql);
      return (query as (...a: unknown[]) => unknown)(sql, ...rest);
    }) as typeof h.ctx.db.query;
    let results;
    try {
      results = await Promise.all(sent.map((call) => identify(h.ctx, h.workspaceId, call)));
      await Promise.all(replays.map((call) => identify(h.ctx, h.workspaceId, call)));
    } finally {
      h.ctx.db.query = query;
    }
    expect(results.filter((r) => r.duplicate)).toEqual([]);
    // Each Promise.all queues its calls in one turn of the event loop: one statement each.
    expect(statements).toHaveLength(2);
    const checks = await segmentChecks();
    for (const u of users) {
      const c = await customerOf(u);
      // The replay's t1: 100 was not merged: the first call's value stays.
      expect(c?.attributes).toEqual({ t1: 1, t2: 2, t3: 3 });
      expect(checks.get(c!.id)).toBe(1);
    }
  });
});
