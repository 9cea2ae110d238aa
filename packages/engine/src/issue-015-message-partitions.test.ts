// issue 15, item 6: messages are partitioned by month of createdAt, and retention
// (MESSAGE_RETENTION_DAYS, default 0: forever) drops whole months, never one holding a message not
// sent yet, being sent, or a dead letter nobody dismissed. The at-most-once guarantee's idempotency
// key stays unique across every month through "MessageKey", inserted in the same statement as every
// message (store.ts commitBatch), so a second message under a stored key fails the statement
// (23505) as the unique index on "Message" did. The migration (20261206020000_message_partitions)
// copies no message: the old table becomes the legacy partition, its keys fill "MessageKey".
// Real Postgres (fresh databases) and Redis.
import { createProvider } from "@postpath/channels";
import { migrate, type Database } from "@postpath/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { MESSAGES, processMaintenanceJob, sweep } from "./maintenance.ts";
import { ensureMonthPartitions, listMonthPartitions } from "./partitions.ts";
import { processSendJob } from "./sends.ts";
import { runStore } from "./store.ts";
import { databaseBefore, headerStatements } from "./testing/migration-db.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { startSink, type Sink } from "./testing/sink.ts";

const MIGRATION = "20261206020000_message_partitions";
const DAY = 24 * 3600_000;
const GRACE = 3650 * DAY; // the sweeper re-queues no pending message of these tests

let h: EngineHarness;
let sink: Sink;
let clock: number | null = null;
beforeAll(async () => {
  sink = await startSink();
  h = await startEngineHarness({
    now: () => clock ?? Date.now(),
    providers: { webhook: createProvider("webhook", { secret: "s", timeoutMs: 5000 }) },
  });
});
afterAll(async () => {
  await h?.close();
  await sink?.close();
});

const names = async () => (await listMonthPartitions(h.ctx, MESSAGES)).map((p) => p.name);

/** Foreign keys on "Message" and its partitions ("table.constraint -> referenced"). */
async function foreignKeys(db: Database): Promise<string[]> {
  const rows = await db.query<{ fk: string }>(
    `SELECT c.conrelid::regclass::text || '.' || c.conname || ' -> ' || c.confrelid::regclass::text AS fk
       FROM pg_constraint c
      WHERE c.contype = 'f'
        AND (c.conrelid = '"Message"'::regclass
             OR c.conrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = '"Message"'::regclass))
      ORDER BY 1`,
  );
  return rows.map((r) => r.fk.replace(/"/g, ""));
}

/** One sent message, end to end: a journey with a webhook step, one event. */
let sent: { id: string; runId: string; key: string } | null = null;

describe("messages are partitioned by month, their idempotency keys unique across months", () => {
  it("Message is partitioned by range of createdAt, keyed on (id, createdAt); months ahead are created; nothing references it", async () => {
    const [p] = await h.db.query<{ strategy: string; column: string }>(
      `SELECT p.partstrat AS strategy, a.attname AS column
         FROM pg_partitioned_table p
         JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = '"Message"'::regclass`,
    );
    expect(p).toEqual({ strategy: "r", column: "createdAt" });
    const key = await h.db.query<{ column: string }>(
      `SELECT a.attname AS column FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = '"Message"'::regclass AND i.indisprimary ORDER BY a.attnum`,
    );
    expect(key.map((k) => k.column)).toEqual(["id", "createdAt"]);
    const idx = await h.db.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'Message' ORDER BY 1`,
    );
    expect(idx.map((i) => i.name)).toEqual([
      "Message_customerId_channel_createdAt_idx",
      "Message_pkey",
      "Message_runId_idx",
      "Message_workspaceId_providerMessageId_idx",
      "Message_workspaceId_status_idx",
    ]);
    // A month far ahead: created by the sweeper's upkeep. No foreign keys on the parent or any
    // month since 20261206040000_message_no_foreign_keys (issue-015-message-no-foreign-keys).
    expect(await names()).not.toContain("Message_y2030m03");
    await ensureMonthPartitions(h.ctx, MESSAGES, Date.parse("2030-03-10T00:00:00Z"));
    expect(await names()).toEqual(
      expect.arrayContaining([
        "Message_y2030m03",
        "Message_y2030m04",
        "Message_y2030m05",
        "Message_default",
      ]),
    );
    expect(await foreignKeys(h.db)).toEqual([]);
    // Nothing references "Message" by foreign key (a partitioned table may be referenced, but
    // nothing needs to: CouponCode, Purl, MessageEngagement name it by id).
    const [refs] = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND confrelid = '"Message"'::regclass`,
    );
    expect(refs?.n).toBe(0);
  });

  it("a send goes out exactly once end to end, its key stored with it", async () => {
    const { journeyId } = await h.publish("j-send", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
      {
        id: "m",
        type: "action.webhook",
        data: { url: `${sink.url}/hook`, body: '{"c":"{{ customer.externalId }}"}' },
        next: "end",
      },
    ]);
    await h.customer("ann");
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
    const run = await waitFor("the run ends", async () => {
      const r = await h.db.prisma.journeyRun.findFirst({ where: { journeyId } });
      return r && r.status === "COMPLETED" ? r : null;
    });
    const msgs = await h.db.prisma.message.findMany({ where: { runId: run.id } });
    expect(msgs).toHaveLength(1);
    const msg = msgs[0]!;
    expect(msg.status).toBe("SENT");
    expect(sink.deliveries.map((d) => d.key)).toEqual([msg.idempotencyKey]);
    const keys = await h.db.prisma.messageKey.findMany({
      where: { idempotencyKey: msg.idempotencyKey },
    });
    expect(keys).toEqual([
      { idempotencyKey: msg.idempotencyKey, messageId: msg.id, createdAt: msg.createdAt },
    ]);
    // Its send job again (a replay from Redis): found by id alone, not sent again.
    expect(await processSendJob(h.ctx, { messageId: msg.id }, { made: 0, max: 3 })).toBe("already");
    expect(sink.deliveries).toHaveLength(1);
    sent = { id: msg.id, runId: run.id, key: msg.idempotencyKey };

    // The same in another month (a clock in March 2030, milliseconds included): the send's
    // statements name the message's createdAt, and find it in that month.
    clock = Date.parse("2030-03-15T10:00:00.123Z");
    try {
      await h.customer("bob");
      await track(h.ctx, h.workspaceId, { userId: "bob", event: "purchase" });
      const later = await waitFor("bob's message is sent", async () => {
        const [m] = await h.db.query<{ key: string; status: string; part: string }>(
          `SELECT m."idempotencyKey" AS key, m.status, c.relname AS part
             FROM "Message" m JOIN pg_class c ON c.oid = m.tableoid
             JOIN "Customer" cu ON cu.id = m."customerId"
            WHERE cu."externalId" = 'bob'`,
        );
        return m?.status === "SENT" ? m : null;
      });
      expect(later.part).toBe("Message_y2030m03");
      expect(sink.deliveries.map((d) => d.key)).toEqual([msg.idempotencyKey, later.key]);
    } finally {
      clock = null;
    }
  });

  it("a message under a key stored in another month is refused: the transition's statement fails and writes nothing", async () => {
    expect(sent).not.toBeNull();
    const { id, runId, key } = sent!;
    // The message (and its key) in March 2030 (made above): another partition than this month's.
    await h.db.exec(
      `UPDATE "Message" SET "createdAt" = '2030-03-10 10:00:00' WHERE id = '${id}';
       UPDATE "MessageKey" SET "createdAt" = '2030-03-10 10:00:00' WHERE "idempotencyKey" = '${key}';`,
    );
    const [where] = await h.db.query<{ part: string }>(
      `SELECT c.relname AS part FROM "Message" m JOIN pg_class c ON c.oid = m.tableoid WHERE m.id = $1`,
      [id],
    );
    expect(where?.part).toBe("Message_y2030m03");
    const run = await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: runId } });
    const transition = (messageKey: string, messageId: string) => ({
      runId,
      seq: run.seq,
      workspaceId: run.workspaceId,
      journeyId: run.journeyId,
      versionId: run.versionId,
      customerId: run.customerId,
      status: run.status,
      state: run.state,
      stepId: run.currentStepId ?? "m",
      waitingUntil: null,
      parkedEvent: null,
      parkedKey: null,
      endedAt: run.endedAt?.getTime() ?? null,
      now: Date.now(),
      traces: [{ stepId: "m", kind: "test.marker", detail: {} }],
      messages: [
        {
          id: messageId,
          stepId: "m",
          channel: "webhook",
          idempotencyKey: messageKey,
          recipient: null,
          payload: {},
          status: null,
          error: null,
          output: null,
        },
      ],
      counters: new Map(),
      attributes: null,
      tags: null,
    });
    await expect(runStore(h.ctx).commit(transition(key, "m-dup"))).rejects.toThrow(
      /duplicate key value violates unique constraint "MessageKey_pkey"/,
    );
    // Nothing of it was written: not the message, not the run's seq, not its trace.
    expect(await h.db.prisma.message.count({ where: { id: "m-dup" } })).toBe(0);
    expect((await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: runId } })).seq).toBe(
      run.seq,
    );
    expect(await h.db.prisma.runTrace.count({ where: { runId, kind: "test.marker" } })).toBe(0);
    // The same transition under a new key commits (the refusal was the key's).
    expect(await runStore(h.ctx).commit(transition(`${key}:other`, "m-other"))).toBe(true);
    expect(await h.db.prisma.message.count({ where: { id: "m-other" } })).toBe(1);
    expect(await h.db.prisma.messageKey.count({ where: { messageId: "m-other" } })).toBe(1);
    await h.db.exec(`UPDATE "Message" SET status = 'SKIPPED' WHERE id = 'm-other'`);
  });

  it("retention drops an old month and its keys, keeps live months and months holding unfinished messages or dead letters", async () => {
    expect(sent).not.toBeNull();
    const { runId } = sent!;
    for (const d of ["2031-01-15", "2031-04-15", "2031-06-15"])
      await ensureMonthPartitions(h.ctx, MESSAGES, Date.parse(d));
    /** A message with its key, as the engine stores them. */
    const put = (id: string, at: string, status: string) =>
      h.db.query(
        `WITH m AS (
           INSERT INTO "Message" (id, "workspaceId", "runId", "stepId", "runSeq", channel, "idempotencyKey", status, "createdAt")
           VALUES ($1, $2, $3, 'm', 1, 'webhook', 'k-' || $1, $4::"MessageStatus", $5::timestamp)
           RETURNING id, "idempotencyKey", "createdAt")
         INSERT INTO "MessageKey" SELECT "idempotencyKey", id, "createdAt" FROM m`,
        [id, h.workspaceId, runId, status, at],
      );
    await put("jan-sent", "2031-01-05 10:00:00", "SENT");
    await put("jan-failed", "2031-01-25 10:00:00", "FAILED");
    await put("feb-sent", "2031-02-05 10:00:00", "SENT");
    await put("feb-pending", "2031-02-06 10:00:00", "PENDING");
    await put("mar-dead", "2031-03-06 10:00:00", "DEAD");
    await put("jun-sent", "2031-06-10 10:00:00", "SENT");
    await put("jun-sending", "2031-06-11 10:00:00", "SENDING");
    const placed = async () =>
      (
        await h.db.query<{ id: string; part: string }>(
          `SELECT m.id, c.relname AS part FROM "Message" m JOIN pg_class c ON c.oid = m.tableoid
            WHERE m.id IN ('jan-sent', 'jan-failed', 'feb-sent', 'feb-pending', 'mar-dead', 'jun-sent', 'jun-sending')
            ORDER BY m."createdAt"`,
        )
      ).map((r) => `${r.id}@${r.part}`);
    expect(await placed()).toEqual([
      "jan-sent@Message_y2031m01",
      "jan-failed@Message_y2031m01",
      "feb-sent@Message_y2031m02",
      "feb-pending@Message_y2031m02",
      "mar-dead@Message_y2031m03",
      "jun-sent@Message_y2031m06",
      "jun-sending@Message_y2031m06",
    ]);
    const keys = async () =>
      (
        await h.db.query<{ id: string }>(
          `SELECT "messageId" AS id FROM "MessageKey" WHERE "messageId" LIKE '___-%' ORDER BY "createdAt"`,
        )
      ).map((r) => r.id);

    // 2 July 2031. Retention 0 (the default): nothing goes; the sweeper creates the months
    // ahead (September).
    expect(await names()).not.toContain("Message_y2031m09");
    clock = Date.parse("2031-07-02T00:00:00Z");
    try {
      const keep = await sweep(h.ctx, GRACE, 0, 0, 0);
      expect(keep.messagePartitionsDropped).toBe(0);
      expect(await names()).toContain("Message_y2031m01");
      expect(await names()).toContain("Message_y2031m09");
      clock = Date.parse("2031-06-15T00:00:00Z");

      // 15 June 2031, 60 days: before 16 April may go. January goes whole, with its keys;
      // February holds a message not sent yet, March a dead letter nobody dismissed: both stay
      // whole. Earlier months go too: March 2030 (the sent message moved there above) and the
      // legacy partition (before the migration's first month), all of their messages final.
      const res = await sweep(h.ctx, GRACE, 0, 0, 60);
      const after = await names();
      expect(after).not.toContain("Message_y2031m01");
      expect(after).not.toContain("Message_y2030m03");
      expect(after).not.toContain("Message_legacy");
      expect(after).toEqual(
        expect.arrayContaining([
          "Message_y2031m02",
          "Message_y2031m03",
          "Message_y2031m06",
          "Message_y2031m07",
          "Message_y2031m08",
          "Message_default",
        ]),
      );
      expect(res.messagePartitionsDropped).toBeGreaterThanOrEqual(3);
      expect(await placed()).toEqual([
        "feb-sent@Message_y2031m02",
        "feb-pending@Message_y2031m02",
        "mar-dead@Message_y2031m03",
        "jun-sent@Message_y2031m06",
        "jun-sending@Message_y2031m06",
      ]);
      expect(await keys()).toEqual([
        "feb-sent",
        "feb-pending",
        "mar-dead",
        "jun-sent",
        "jun-sending",
      ]);
      expect(await h.db.prisma.messageKey.count({ where: { idempotencyKey: sent!.key } })).toBe(0);

      // February's message sent, March's dead letter dismissed: the next sweep drops both months.
      await h.db.exec(
        `UPDATE "Message" SET status = 'SENT' WHERE id = 'feb-pending';
         UPDATE "Message" SET "dismissedAt" = now() WHERE id = 'mar-dead';`,
      );
      // This time as the scheduled sweep job carries MESSAGE_RETENTION_DAYS (engine.ts, runtime.ts).
      const again = (await processMaintenanceJob(h.ctx, {
        kind: "sweep",
        graceMs: GRACE,
        eventRetentionDays: 0,
        messageRetentionDays: 60,
      })) as Awaited<ReturnType<typeof sweep>>;
      expect(again.messagePartitionsDropped).toBe(2);
      expect(await names()).not.toContain("Message_y2031m02");
      expect(await names()).not.toContain("Message_y2031m03");
      expect(await placed()).toEqual(["jun-sent@Message_y2031m06", "jun-sending@Message_y2031m06"]);
      expect(await keys()).toEqual(["jun-sent", "jun-sending"]);
    } finally {
      clock = null;
    }
  });
});

describe("the migration on existing messages", () => {
  /** A fresh database migrated up to the one before the partitioning, holding a few messages. */
  const before = () =>
    databaseBefore(
      h.db,
      MIGRATION,
      `
      INSERT INTO "Workspace" (id, name, slug) VALUES ('w1', 'W', 'w1');
      INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber", "updatedAt")
      VALUES ('r1', 'w1', 'j1', 'v1', 'c1', 1, now());
      INSERT INTO "Message" (id, "workspaceId", "runId", "stepId", "runSeq", channel, "idempotencyKey", status, "createdAt")
      SELECT 'm' || i, 'w1', 'r1', 's', i, 'email', 'r1:' || i || ':s',
             CASE WHEN i % 2 = 0 THEN 'SENT' ELSE 'PENDING' END::"MessageStatus",
             now() - make_interval(days => i)
      FROM generate_series(1, 500) i;`,
    );

  /** What the migration must leave: every message in the legacy partition, each with its key. */
  async function check(db: Database, messages: number): Promise<void> {
    const [row] = await db.query<{ legacy: number; keys: number; matched: number }>(
      `SELECT (SELECT count(*) FROM "Message_legacy")::int AS legacy,
              (SELECT count(*) FROM "MessageKey")::int AS keys,
              (SELECT count(*) FROM "MessageKey" k JOIN "Message" m
                 ON m.id = k."messageId" AND m."createdAt" = k."createdAt"
                AND m."idempotencyKey" = k."idempotencyKey")::int AS matched`,
    );
    expect(row).toEqual({ legacy: messages, keys: messages, matched: messages });
    const idx = await db.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'Message_legacy' ORDER BY 1`,
    );
    expect(idx.map((i) => i.name)).toEqual([
      "Message_legacy_customerId_channel_createdAt_idx",
      "Message_legacy_pkey",
      "Message_legacy_runId_idx",
      "Message_legacy_workspaceId_providerMessageId_idx",
      "Message_legacy_workspaceId_status_idx",
    ]);
    const [att] = await db.query<{ bound: string }>(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname = 'Message_legacy'`,
    );
    expect(att?.bound).toMatch(/^FOR VALUES FROM \(MINVALUE\) TO \('\d{4}-\d{2}-01 00:00:00'\)$/);
    // The legacy table's foreign keys were adopted by the parent's (not duplicated), so the later
    // migration dropping the parent's (20261206040000_message_no_foreign_keys, applied by the same
    // migrate) leaves none on any partition, the legacy one included.
    expect(await foreignKeys(db)).toEqual([]);
    // A stored key cannot be stored again, whatever the month; the messages read back by id.
    await expect(
      db.query(`INSERT INTO "MessageKey" VALUES ('r1:1:s', 'x', now() AT TIME ZONE 'UTC')`),
    ).rejects.toThrow(/duplicate key/);
    const [m] = await db.query<{ status: string }>(`SELECT status FROM "Message" WHERE id = 'm7'`);
    expect(m?.status).toBe("PENDING");
  }

  it("builds the keys and the new primary key itself on a table nobody prepared", async () => {
    const { db, drop } = await before();
    try {
      expect(await migrate(db)).toContain(MIGRATION);
      await check(db, 500);
    } finally {
      await drop();
    }
  });

  it("uses what was prepared from psql (the statements of the migration's header), keys of messages stored meanwhile included", async () => {
    const { db, drop } = await before();
    try {
      const { statements, bound } = headerStatements(MIGRATION);
      expect(statements.length).toBe(8);
      for (const [i, st] of statements.entries()) {
        await db.query(st);
        if (i === 3)
          await db.exec(`INSERT INTO "Message" (id, "workspaceId", "runId", "stepId", "runSeq", channel, "idempotencyKey", status)
                         VALUES ('m-late', 'w1', 'r1', 's', 999, 'email', 'r1:999:s', 'SENT')`);
      }
      const [keys] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "MessageKey"`);
      expect(keys?.n).toBe(501);
      expect(await migrate(db)).toContain(MIGRATION);
      await check(db, 501);
      const [trig] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'MessageKey_mirror'`,
      );
      expect(trig?.n).toBe(0);
      const [b] = await db.query<{ bound: string }>(
        `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname = 'Message_legacy'`,
      );
      expect(b?.bound).toContain(bound);
    } finally {
      await drop();
    }
  });
});
