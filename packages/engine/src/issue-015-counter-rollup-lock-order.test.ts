// Issue 15: "recording an accepted send failed: deadlock detected" (CI). Every writer of a step's
// figures must lock its "StepCounter" rows before its "JourneyRollup" rows. A failed send
// (sends.ts failAttempt), a move (move.ts) and the helpers (counters.ts bumpCounters, then
// rollups.ts bumpRollup) do, statement after statement. The send's record (recordSent) and the run
// commit (store.ts commitBatch) write both in ONE statement of data-modifying CTEs, and Postgres
// runs the CTEs no one reads at the end of the statement, the LAST written first: the rollup rows
// before the counter rows. A record holding a rollup row and waiting for the counter row that a
// failed send of the same step holds, while that one waits for the rollup row: a deadlock.
// Here two other sessions hold the step's counter rows and its rollup rows; which one the
// statement waits for first is the order it locks them in. Real Postgres and Redis.
import type { Provider } from "@postpath/channels";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processRunJob } from "./runner.ts";
import { processSendJob } from "./sends.ts";
import { utcDay } from "./rollups.ts";
import {
  startEngineHarness,
  waitFor,
  webhookRunBeforeFirstJob,
  type EngineHarness,
} from "./testing/harness.ts";

const NOW = Date.parse("2031-03-04T05:06:07Z");
let h: EngineHarness;

beforeEach(async () => {
  const webhook = {
    channel: "webhook",
    name: "webhook (test)",
    send: () => Promise.resolve({ providerMessageId: "p-1" }),
  } as unknown as Provider;
  h = await startEngineHarness({ providers: { webhook }, workers: false, now: () => NOW });
});
afterEach(async () => {
  await h.close();
});

/** A run of a one-webhook journey, before its first job. */
async function newRun() {
  const { run, versionId, journeyId } = await webhookRunBeforeFirstJob(h, "lock-order");
  // Every counter and rollup row the version's steps can get today (all shards, no variant),
  // so that the statements under test update existing rows (and wait for their holders).
  await h.db.query(
    `INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId")
     SELECT $1, s, n, $2 FROM unnest(ARRAY['t', 'm', 'end']) s, generate_series(0, 63) n`,
    [versionId, journeyId],
  );
  await h.db.query(
    `INSERT INTO "JourneyRollup" ("versionId", "stepId", variant, day, shard, "journeyId")
     SELECT $1, s, '', $3::date, n, $2 FROM unnest(ARRAY['t', 'm', 'end']) s, generate_series(0, 63) n`,
    [versionId, journeyId, utcDay(NOW)],
  );
  return { run, versionId };
}

/** Another session's open transaction holding `sql`'s row locks; its transaction id. */
async function hold(sql: string, params: unknown[]) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let gotXid!: (xid: string) => void;
  const xid = new Promise<string>((r) => (gotXid = r));
  const tx = h.db.prisma.$transaction(
    async (t) => {
      await t.$queryRawUnsafe(sql, ...params);
      const [row] = await t.$queryRawUnsafe<{ xid: string }[]>(
        `SELECT (txid_current() % 4294967296)::text AS xid`,
      );
      gotXid(row!.xid);
      await released;
    },
    { timeout: 120_000 },
  );
  const id = await Promise.race([xid, tx.then(() => "")]);
  return {
    xid: id,
    release: async () => {
      release();
      await tx;
    },
  };
}

/** The transaction ids sessions are waiting for (row locks wait on their holder's transaction). */
async function awaited(): Promise<string[]> {
  const rows = await h.db.query<{ xid: string }>(
    `SELECT transactionid::text AS xid FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted`,
  );
  return rows.map((r) => r.xid);
}

/**
 * Holds the version's counter rows and rollup rows in two other sessions, starts `statement`,
 * and returns which of them it waited for first, then second (each released in turn).
 */
async function lockOrder(versionId: string, statement: () => Promise<unknown>) {
  const counters = await hold(`SELECT 1 FROM "StepCounter" WHERE "versionId" = $1 FOR UPDATE`, [
    versionId,
  ]);
  const rollups = await hold(`SELECT 1 FROM "JourneyRollup" WHERE "versionId" = $1 FOR UPDATE`, [
    versionId,
  ]);
  const name = (xid: string) =>
    xid === counters.xid ? "StepCounter" : xid === rollups.xid ? "JourneyRollup" : null;
  const order: string[] = [];
  const done = statement();
  try {
    for (const holder of [0, 1]) {
      const waitedFor = await waitFor(
        `the statement waits on a held row (${holder})`,
        async () => (await awaited()).map(name).find((n) => n !== null) ?? null,
      );
      order.push(waitedFor);
      await (waitedFor === "StepCounter" ? counters : rollups).release();
    }
  } finally {
    await counters.release();
    await rollups.release();
  }
  return { order, result: await done };
}

describe("counter rows before rollup rows, in every writer", () => {
  it("the record of an accepted send (recordSent) locks the step's counter row before its rollup row", async () => {
    const { run, versionId } = await newRun();
    expect(await processRunJob(h.ctx, { runId: run.id, seq: 0, input: { kind: "entered" } })).toBe(
      "applied",
    );
    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    const { order, result } = await lockOrder(versionId, () =>
      processSendJob(
        h.ctx,
        { messageId: msg.id, createdAt: msg.createdAt.getTime() },
        { made: 0, max: 3 },
      ),
    );
    expect(order).toEqual(["StepCounter", "JourneyRollup"]);
    expect(result).toBe("sent");
  });

  it("the run commit (commitBatch) locks its counter rows before its rollup rows", async () => {
    const { run, versionId } = await newRun();
    const { order, result } = await lockOrder(versionId, () =>
      processRunJob(h.ctx, { runId: run.id, seq: 0, input: { kind: "entered" } }),
    );
    expect(order).toEqual(["StepCounter", "JourneyRollup"]);
    expect(result).toBe("applied");
  });
});
