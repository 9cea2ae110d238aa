// Issue 15: "Message" has no foreign keys to "JourneyRun" and "Workspace" any more
// (20261206040000_message_no_foreign_keys). With them, each month of messages the sweeper created
// cloned both keys under SHARE ROW EXCLUSIVE on "JourneyRun" and "Workspace", so a run transition
// in flight (ROW EXCLUSIVE on "JourneyRun") held the month's creation up, and every transition
// queued behind it; a dropped month took them ACCESS EXCLUSIVE. Measured here on a database
// migrated up to the one before (the keys still there) and on a fresh one, each with a run
// transition's lock held open by another session. Real Postgres (fresh databases) and Redis.
import type { Database } from "@postpath/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineContext } from "./context.ts";
import { MESSAGES } from "./maintenance.ts";
import { dropMonthPartition, ensureMonthPartitions } from "./partitions.ts";
import { processSendJob } from "./sends.ts";
import { databaseBefore } from "./testing/migration-db.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

const MIGRATION = "20261206040000_message_no_foreign_keys";
const JUNE_2031 = Date.parse("2031-06-10T00:00:00Z");
const MONTHS = ["Message_y2031m06", "Message_y2031m07", "Message_y2031m08"];

let h: EngineHarness;
let before: { db: Database; drop: () => Promise<void> };
beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
  before = await databaseBefore(h.db, MIGRATION, "");
});
afterAll(async () => {
  await before?.drop();
  await h?.close();
});

const ctxOn = (db: Database): EngineContext => ({ ...h.ctx, db });

/**
 * Keeps a transaction open on `db` that has written `table` (ROW EXCLUSIVE, as every run
 * transition and enrolment holds on "JourneyRun" until it commits) while `fn` runs.
 */
async function whileWriting<T>(db: Database, table: string, fn: () => Promise<T>): Promise<T> {
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let started!: () => void;
  const writing = new Promise<void>((r) => (started = r));
  const tx = db.prisma.$transaction(
    async (t) => {
      await t.$executeRawUnsafe(`UPDATE "${table}" SET id = id WHERE false`);
      started();
      await finished;
    },
    { timeout: 120_000 },
  );
  await Promise.race([writing, tx]);
  try {
    return await fn();
  } finally {
    done();
    await tx;
  }
}

/** The locks one session holds on "JourneyRun" and "Workspace" after creating a month in its transaction. */
async function locksOfMonthCreation(db: Database, name: string, from: string, to: string) {
  let locks: { relation: string; mode: string }[] = [];
  await db.prisma
    .$transaction(async (t) => {
      // The sweeper's statements (partitions.ts ensureMonthPartitions), without the move from
      // the default partition (empty here).
      await t.$executeRawUnsafe(`CREATE TABLE "${name}" (LIKE "Message" INCLUDING DEFAULTS)`);
      await t.$executeRawUnsafe(
        `ALTER TABLE "Message" ATTACH PARTITION "${name}" FOR VALUES FROM ('${from}') TO ('${to}')`,
      );
      locks = await t.$queryRawUnsafe(
        `SELECT relation::regclass::text AS relation, mode FROM pg_locks
         WHERE pid = pg_backend_pid() AND relation IN ('"JourneyRun"'::regclass, '"Workspace"'::regclass)
         ORDER BY 1, 2`,
      );
      throw new Error("rollback");
    })
    .catch((err: unknown) => {
      if (!(err instanceof Error && err.message === "rollback")) throw err;
    });
  return locks;
}

const foreignKeys = (db: Database) =>
  db.query<{ tbl: string; conname: string }>(
    `SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint
     WHERE contype = 'f' AND (conrelid::regclass::text LIKE '"Message%' OR confrelid = '"Message"'::regclass)
     ORDER BY 1, 2`,
  );

describe("Message without foreign keys to JourneyRun and Workspace", () => {
  it("before the migration: creating a month locks JourneyRun and Workspace, and waits for a run transition", async () => {
    expect((await foreignKeys(before.db)).map((k) => k.conname)).toContain("Message_runId_fkey");
    expect(
      await locksOfMonthCreation(before.db, "Message_y2031m05", "2031-05-01", "2031-06-01"),
    ).toEqual([
      // The keys' checks of the attached month's rows (none here), and the keys' triggers.
      { relation: '"JourneyRun"', mode: "AccessShareLock" },
      { relation: '"JourneyRun"', mode: "RowShareLock" },
      { relation: '"JourneyRun"', mode: "ShareRowExclusiveLock" },
      { relation: '"Workspace"', mode: "AccessShareLock" },
      { relation: '"Workspace"', mode: "RowShareLock" },
      { relation: '"Workspace"', mode: "ShareRowExclusiveLock" },
    ]);
    // The sweeper's own call: each month waits its 1 s lock timeout and is left to the next sweep.
    const created = await whileWriting(before.db, "JourneyRun", () =>
      ensureMonthPartitions(ctxOn(before.db), MESSAGES, JUNE_2031),
    );
    expect(created).toEqual([]);
  });

  it("after it: no foreign key on Message or any month; creating a month takes no lock on JourneyRun or Workspace", async () => {
    expect(await foreignKeys(h.db)).toEqual([]);
    expect(
      await locksOfMonthCreation(h.db, "Message_y2031m05", "2031-05-01", "2031-06-01"),
    ).toEqual([]);
    const started = Date.now();
    const created = await whileWriting(h.db, "JourneyRun", () =>
      whileWriting(h.db, "Workspace", () => ensureMonthPartitions(h.ctx, MESSAGES, JUNE_2031)),
    );
    expect(created).toEqual(MONTHS);
    expect(Date.now() - started).toBeLessThan(1000 * MONTHS.length); // none waited its timeout
    // Dropping a month (retention) does not wait for run transitions either.
    expect(
      await whileWriting(h.db, "JourneyRun", () =>
        dropMonthPartition(h.ctx, MESSAGES, "Message_y2031m08"),
      ),
    ).toBe(true);
  });

  it("a message whose run is gone is not sent, and is set aside so the sweeper stops offering it", async () => {
    const createdAt = new Date();
    await h.db.prisma.messageKey.create({
      data: { idempotencyKey: "k-orphan", messageId: "m-orphan", createdAt },
    });
    await h.db.prisma.message.create({
      data: {
        id: "m-orphan",
        workspaceId: h.workspaceId,
        runId: "r-gone", // no such run: nothing checks it any more
        stepId: "m",
        runSeq: 1,
        channel: "webhook",
        idempotencyKey: "k-orphan",
        createdAt,
      },
    });
    expect(
      await processSendJob(
        h.ctx,
        { messageId: "m-orphan", createdAt: createdAt.getTime() },
        { made: 0, max: 3 },
      ),
    ).toBe("missing");
    expect(
      await h.db.prisma.message.findFirstOrThrow({
        where: { id: "m-orphan" },
        select: { status: true, error: true },
      }),
    ).toEqual({ status: "SKIPPED", error: "not sent: its run no longer exists" });
  });
});
