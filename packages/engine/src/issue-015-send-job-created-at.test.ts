// Issue 15: send jobs carry their message's createdAt, so the send reads the one month of the
// partitioned "Message" that holds it instead of every month. Jobs without it (queued before the
// change) and jobs whose createdAt is wrong still deliver their message (read by id alone).
// Real Postgres and Redis; the provider is a stand-in that counts its calls.
import type { Provider } from "@postpath/channels";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sweep } from "./maintenance.ts";
import { ensureFollowUps, processRunJob } from "./runner.ts";
import { processSendJob } from "./sends.ts";
import {
  startEngineHarness,
  waitFor,
  webhookRunBeforeFirstJob,
  type EngineHarness,
} from "./testing/harness.ts";

let h: EngineHarness;
let calls: string[];

beforeEach(async () => {
  calls = [];
  const webhook = {
    channel: "webhook",
    name: "webhook (test)",
    send: (req: { idempotencyKey: string }) => {
      calls.push(req.idempotencyKey);
      return Promise.resolve({ providerMessageId: `p-${calls.length}` });
    },
  } as unknown as Provider;
  // No workers: the test runs each job itself.
  h = await startEngineHarness({ providers: { webhook }, workers: false });
});
afterEach(async () => {
  await h.close();
});

/** A run of a one-webhook journey and its PENDING message, created at `createdAt`. */
async function pendingMessage(id: string, createdAt: Date) {
  const made = await webhookRunBeforeFirstJob(h, `j-${id}`, `c-${id}`);
  const { customerId } = made;
  // Past its first step: waiting on the webhook's message.
  const run = await h.db.prisma.journeyRun.update({
    where: { id: made.run.id },
    data: { state: {}, currentStepId: "m", seq: 1 },
  });
  const key = `key-${id}`;
  await h.db.prisma.messageKey.create({ data: { idempotencyKey: key, messageId: id, createdAt } });
  await h.db.prisma.message.create({
    data: {
      id,
      workspaceId: h.workspaceId,
      runId: run.id,
      customerId,
      stepId: "m",
      runSeq: 1,
      channel: "webhook",
      idempotencyKey: key,
      payload: { url: "http://127.0.0.1:9/x", body: "{}" },
      createdAt,
    },
  });
  return { run, key };
}

/** Runs `sql` in a transaction of its own and keeps it open (its locks held) until release(). */
async function holdLock(sql: string): Promise<{ release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const tx = h.db.prisma.$transaction(
    async (t) => {
      await t.$executeRawUnsafe(sql);
      locked();
      await released;
    },
    { timeout: 120_000 },
  );
  await Promise.race([isLocked, tx]);
  return {
    release: async () => {
      release();
      await tx;
    },
  };
}

const status = async (id: string) =>
  (await h.db.prisma.message.findFirstOrThrow({ where: { id } })).status;

const JAN_2031 = new Date("2031-01-15T10:20:30.456Z");

describe("send jobs and the message's month", () => {
  it("a job with createdAt reads only its message's month: a lock on another month does not hold it up", async () => {
    // Two months of their own; another session holds the February month exclusively (as dropping
    // or attaching it would). A read by id alone must open every month, so it would wait.
    await h.db.prisma.$executeRawUnsafe(
      `CREATE TABLE "Message_y2031m01" PARTITION OF "Message" FOR VALUES FROM ('2031-01-01') TO ('2031-02-01')`,
    );
    await h.db.prisma.$executeRawUnsafe(
      `CREATE TABLE "Message_y2031m02" PARTITION OF "Message" FOR VALUES FROM ('2031-02-01') TO ('2031-03-01')`,
    );
    const { key } = await pendingMessage("msg-jan", JAN_2031);
    const lock = await holdLock(`LOCK TABLE "Message_y2031m02" IN ACCESS EXCLUSIVE MODE`);
    try {
      const send = processSendJob(
        h.ctx,
        { messageId: "msg-jan", createdAt: JAN_2031.getTime() },
        { made: 0, max: 3 },
      ).then((outcome) => ({ outcome }));
      // Whichever comes first: the send's outcome, or a session waiting on the locked month.
      const waiting = waitFor(
        "a session waiting on the locked month",
        async () => {
          const rows = await h.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks
             WHERE relation = '"Message_y2031m02"'::regclass AND NOT granted`,
          );
          return (rows[0]?.n ?? 0) > 0 ? { outcome: "waited on another month" } : null;
        },
        { stallMs: 30_000 },
      );
      expect(await Promise.race([send, waiting])).toEqual({ outcome: "sent" });
    } finally {
      await lock.release();
    }
    expect(await status("msg-jan")).toBe("SENT");
    expect(calls).toEqual([key]);
  });

  it("a job queued before createdAt existed (id only) still delivers its message", async () => {
    const { key } = await pendingMessage("msg-old", new Date());
    expect(await processSendJob(h.ctx, { messageId: "msg-old" }, { made: 0, max: 3 })).toBe("sent");
    expect(await status("msg-old")).toBe("SENT");
    expect(calls).toEqual([key]);
  });

  it("a job whose createdAt is wrong still delivers its message (read by id), once", async () => {
    const createdAt = new Date();
    const { key } = await pendingMessage("msg-wrong", createdAt);
    const wrong = new Date(createdAt.getTime() - 40 * 86_400_000); // another month
    const job = (createdAt: number | string) =>
      processSendJob(h.ctx, { messageId: "msg-wrong", createdAt }, { made: 0, max: 3 });
    expect(await job(wrong.getTime())).toBe("sent");
    expect(await status("msg-wrong")).toBe("SENT");
    // The same message found again by a wrong ISO createdAt and an unreadable one: already sent.
    expect(await job(wrong.toISOString())).toBe("already");
    expect(await job("not a date")).toBe("already");
    expect(calls).toEqual([key]);
    // A message that is really gone is still missing, with or without createdAt.
    expect(
      await processSendJob(
        h.ctx,
        { messageId: "msg-none", createdAt: createdAt.toISOString() },
        { made: 0, max: 3 },
      ),
    ).toBe("missing");
  });

  it("the jobs the engine queues carry the message's createdAt, under the same job id", async () => {
    const jobOf = async (id: string) => {
      const job = await h.ctx.queues.sends.shardOfData({ messageId: id }).getJob(`send-${id}`);
      return job?.data;
    };
    // The runner's follow-ups after the transition that wrote the message.
    // No state yet: the first job builds it from the trigger, as enrolment leaves a run.
    const { run } = await webhookRunBeforeFirstJob(h, "follow-ups");
    expect(await processRunJob(h.ctx, { runId: run.id, seq: 0, input: { kind: "entered" } })).toBe(
      "applied",
    );
    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    expect(await jobOf(msg.id)).toEqual({ messageId: msg.id, createdAt: msg.createdAt.getTime() });

    // Recovery of a run whose follow-ups were lost (the job is gone from Redis).
    await h.ctx.queues.sends.shardOfData({ messageId: msg.id }).remove(`send-${msg.id}`);
    await ensureFollowUps(h.ctx, run.id, { recover: true });
    expect(await jobOf(msg.id)).toEqual({ messageId: msg.id, createdAt: msg.createdAt.getTime() });

    // The sweeper's pass over messages left PENDING.
    await h.ctx.queues.sends.shardOfData({ messageId: msg.id }).remove(`send-${msg.id}`);
    await sweep(h.ctx, -60_000); // messages created up to a minute from now count as overdue
    expect(await jobOf(msg.id)).toEqual({ messageId: msg.id, createdAt: msg.createdAt.getTime() });

    // And the job reads the message in its month.
    expect(await processSendJob(h.ctx, (await jobOf(msg.id)) as unknown, { made: 0, max: 3 })).toBe(
      "sent",
    );
  });
});
