// Issue 15: two run commits (store.ts commitBatch) changing overlapping customers deadlocked when
// the UPDATE of "Customer" took the rows in its join's order (the order of the batch): one commit
// holding customer A and waiting for B, the other holding B and waiting for A. The batcher retried
// each transition on its own after the failed batch, so nothing was lost, but the batch's work was
// done twice. Now each commit locks its customers' rows in one order, ("workspaceId",
// "externalId"), the order an identify's upsert (identify-commit.ts) takes them in: neither two
// commits nor a commit and an identify can wait on each other in a cycle.
// Here another session (T0) holds customer B's row, so that the statements under test queue up on
// it in a known order; what each holds and waits for is read from pg_stat_activity, pg_locks
// (pg_blocking_pids) and the rows' xmax, and every statement's failure is recorded (the run
// batcher retries a failed batch, which would hide a deadlock). Customer ids sort the other way
// round from their external ids, so an order by id would not do (the identify case deadlocks).
// The last case checks the lock step keeps what the UPDATE did alone: a change committed while the
// commit waits is re-read, and a customer it leaves with nothing to change is not rewritten.
// Real Postgres and Redis.
import type { Database } from "@postpath/db";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EngineContext } from "./context.ts";
import { identifyMany } from "./ingest.ts";
import { runStore, type Transition } from "./store.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

const NOW = Date.parse("2031-03-04T05:06:07Z");
let h: EngineHarness;

beforeEach(async () => {
  h = await startEngineHarness({ workers: false, now: () => NOW });
});
afterEach(async () => {
  await h.close();
});

/** SQLSTATEs of the statements that failed, in the order they failed. */
let failures: string[] = [];
const sqlState = (err: unknown): string =>
  (err as { code?: string } | null)?.code ?? (err instanceof Error ? err.message : "unknown");

/**
 * Another worker process: its own batchers (runStore and the identify committer are one per
 * context), on the same database, with every failed statement recorded.
 */
function worker(): EngineContext {
  const db: Database = {
    ...h.db,
    query: async (...args: Parameters<Database["query"]>) => {
      try {
        return await h.db.query(...args);
      } catch (err) {
        failures.push(sqlState(err));
        throw err;
      }
    },
  } as Database;
  return { ...h.ctx, db };
}

/** Customers "a" and "b" (A before B in the lock order); their ids sort the other way. */
async function customers() {
  const make = (id: string, externalId: string) =>
    h.db.prisma.customer.create({ data: { id, workspaceId: h.workspaceId, externalId } });
  return { a: (await make("cust-2", "a")).id, b: (await make("cust-1", "b")).id };
}

/** A journey (trigger, a day's wait) and a run of it for each customer, before its first job. */
async function runsOf(name: string, customerIds: string[]) {
  const { journeyId, versionId } = await h.publish(name, [
    { id: "t", type: "trigger.manual", next: "w" },
    { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
  ]);
  const runs = [];
  for (const customerId of customerIds)
    runs.push(
      await h.db.prisma.journeyRun.create({
        data: {
          workspaceId: h.workspaceId,
          journeyId,
          versionId,
          customerId,
          entryNumber: 1,
          currentStepId: "t",
        },
      }),
    );
  return runs;
}

/** A run's first transition, to its wait, setting the customer's attribute `key`. */
function transition(
  run: { id: string; journeyId: string; versionId: string; customerId: string },
  key: string,
): Transition {
  return {
    runId: run.id,
    seq: 0,
    workspaceId: h.workspaceId,
    journeyId: run.journeyId,
    versionId: run.versionId,
    customerId: run.customerId,
    status: "WAITING",
    state: { stepId: "w" },
    stepId: "w",
    waitingUntil: NOW + 86_400_000,
    parkedEvent: null,
    parkedKey: null,
    endedAt: null,
    now: NOW,
    traces: [],
    messages: [],
    counters: new Map(),
    attributes: { set: { [key]: run.journeyId }, unset: [] },
    tags: null,
  };
}

/**
 * An open transaction of another session holding customer `id`'s row (having merged `set` into its
 * attributes, if given); its backend pid and transaction id.
 */
async function holdCustomer(id: string, set?: Record<string, unknown>) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let got!: (held: { pid: number; xid: string }) => void;
  const holding = new Promise<{ pid: number; xid: string }>((r) => (got = r));
  const tx = h.db.prisma.$transaction(
    async (t) => {
      if (set)
        await t.$executeRaw`UPDATE "Customer" SET attributes = attributes || ${JSON.stringify(set)}::jsonb
          WHERE id = ${id}`;
      else await t.$queryRaw`SELECT 1 FROM "Customer" WHERE id = ${id} FOR NO KEY UPDATE`;
      const [row] = await t.$queryRaw<{ pid: number; xid: string }[]>`
        SELECT pg_backend_pid() AS pid, (txid_current() % 4294967296)::text AS xid`;
      got(row!);
      await released;
    },
    { timeout: 120_000 },
  );
  const held = await Promise.race([holding, tx.then(() => ({ pid: 0, xid: "" }))]);
  return {
    ...held,
    release: async () => {
      release();
      await tx;
    },
  };
}

/** Sessions of this database waiting on a lock, and the sessions they wait for. */
async function lockWaits(): Promise<{ pid: number; blockers: number[] }[]> {
  return h.db.query(
    `SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' ORDER BY pid`,
  );
}

/**
 * Waits until a session other than `known` waits on a lock; answers its pid, what it waits for
 * (by name) and which customers' rows it has locked meanwhile (their xmax is its transaction).
 */
async function nextWaiter(names: Map<number, string>) {
  const w = await waitFor("a statement waits on a customer row", async () =>
    (await lockWaits()).find((x) => !names.has(x.pid) && x.blockers.length > 0),
  );
  const holds = await h.db.query<{ externalId: string }>(
    `SELECT c."externalId" FROM "Customer" c, pg_stat_activity a
     WHERE a.pid = $1 AND a.backend_xid IS NOT NULL AND c.xmax = a.backend_xid
       AND c."workspaceId" = $2 ORDER BY 1`,
    [w.pid, h.workspaceId],
  );
  return {
    pid: w.pid,
    seen: {
      holds: holds.map((r) => r.externalId),
      waitsFor: w.blockers.map((p) => names.get(p) ?? `pid ${p}`).sort(),
    },
  };
}

/** Customers' attributes by external id. */
async function attributes() {
  const rows = await h.db.prisma.customer.findMany({
    where: { workspaceId: h.workspaceId },
    select: { externalId: true, attributes: true },
    orderBy: { externalId: "asc" },
  });
  return Object.fromEntries(rows.map((r) => [r.externalId, r.attributes]));
}

describe("customers' rows locked in one order", () => {
  beforeEach(() => {
    failures = [];
  });

  it("two run commits changing customers [A, B] and [B, A] take A first, and do not deadlock", async () => {
    const { a, b } = await customers();
    const [a1, b1] = await runsOf("commit one", [a, b]);
    const [b2, a2] = await runsOf("commit two", [b, a]);
    const one = runStore(worker());
    const two = runStore(worker());
    const t0 = await holdCustomer(b);
    const names = new Map([[t0.pid, "T0"]]);
    let done: Promise<boolean[]> | undefined;
    try {
      // Commit two first: with its batch's order it would wait for B holding nothing; in the lock
      // order it holds A while it waits for B.
      const second = Promise.all([
        two.commit(transition(b2!, "two")),
        two.commit(transition(a2!, "two")),
      ]);
      const c2 = await nextWaiter(names);
      names.set(c2.pid, "commit two");
      // Commit one: in its batch's order it would take A and queue for B behind commit two, which
      // then takes B and waits for A: a deadlock once T0 lets B go.
      const first = Promise.all([
        one.commit(transition(a1!, "one")),
        one.commit(transition(b1!, "one")),
      ]);
      const c1 = await nextWaiter(names);
      names.set(c1.pid, "commit one");
      await t0.release();
      done = Promise.all([first, second]).then((r) => r.flat());
      const committed = await done;
      expect({ commitTwo: c2.seen, commitOne: c1.seen, failures, committed }).toEqual({
        commitTwo: { holds: ["a"], waitsFor: ["T0"] },
        commitOne: { holds: [], waitsFor: ["commit two"] },
        failures: [],
        committed: [true, true, true, true],
      });
    } finally {
      await t0.release();
      await done?.catch(() => undefined);
    }
    expect(await attributes()).toEqual({
      a: { one: a1!.journeyId, two: a2!.journeyId },
      b: { one: b1!.journeyId, two: b2!.journeyId },
    });
  });

  it("a run commit changing [B, A] and an identify of [A, B] take A first, and do not deadlock", async () => {
    const { a, b } = await customers();
    const [b2, a2] = await runsOf("commit", [b, a]);
    const commits = runStore(worker());
    const identifier = worker();
    const t0 = await holdCustomer(b);
    const names = new Map([[t0.pid, "T0"]]);
    let done: Promise<unknown> | undefined;
    try {
      const commit = Promise.all([
        commits.commit(transition(b2!, "journey")),
        commits.commit(transition(a2!, "journey")),
      ]);
      const c = await nextWaiter(names);
      names.set(c.pid, "commit");
      // One statement upserting "a" then "b" (identify-commit.ts: in (workspace, external id) order).
      const identified = identifyMany(identifier, h.workspaceId, [
        { userId: "b", traits: { identified: "b" } },
        { userId: "a", traits: { identified: "a" } },
      ]);
      const i = await nextWaiter(names);
      names.set(i.pid, "identify");
      await t0.release();
      // The identify's own group is not tried again (GroupBatcher): its failure is the call's.
      const result = identified.then((r) => r.map((x) => x.customerId), sqlState);
      done = Promise.all([commit, result]);
      const [committed, ids] = await Promise.all([commit, result]);
      expect({ commit: c.seen, identify: i.seen, failures, committed, ids }).toEqual({
        commit: { holds: ["a"], waitsFor: ["T0"] },
        identify: { holds: [], waitsFor: ["commit"] },
        failures: [],
        committed: [true, true],
        ids: [b, a],
      });
    } finally {
      await t0.release();
      await done?.catch(() => undefined);
    }
    expect(await attributes()).toEqual({
      a: { journey: a2!.journeyId, identified: "a" },
      b: { journey: b2!.journeyId, identified: "b" },
    });
  });

  it("a change another transaction commits while the commit waits is kept, or makes it write nothing", async () => {
    const { a, b } = await customers();
    const [runB, runA] = await runsOf("commit", [b, a]);
    const commits = runStore(worker());
    // T0 changes A (another attribute) and B (to what the commit sets) while the commit waits.
    const t0a = await holdCustomer(a, { other: "t0" });
    const t0b = await holdCustomer(b, { journey: runB!.journeyId });
    const names = new Map([
      [t0a.pid, "T0 (a)"],
      [t0b.pid, "T0 (b)"],
    ]);
    let done: Promise<boolean[]> | undefined;
    try {
      done = Promise.all([
        commits.commit(transition(runB!, "journey")),
        commits.commit(transition(runA!, "journey")),
      ]);
      // In the lock order, A first (in the batch's, B).
      expect((await nextWaiter(names)).seen).toEqual({ holds: [], waitsFor: ["T0 (a)"] });
      await t0a.release();
      await t0b.release();
      expect(await done).toEqual([true, true]);
    } finally {
      await t0a.release();
      await t0b.release();
      await done?.catch(() => undefined);
    }
    expect({ failures, attributes: await attributes() }).toEqual({
      failures: [],
      attributes: {
        a: { other: "t0", journey: runA!.journeyId },
        b: { journey: runB!.journeyId },
      },
    });
    // B was not rewritten: its row is still the one T0 wrote.
    const [rowB] = await h.db.query<{ xmin: string }>(
      `SELECT xmin::text AS xmin FROM "Customer" WHERE id = $1`,
      [b],
    );
    expect(rowB!.xmin, "B's row version").toBe(t0b.xid);
  });
});
