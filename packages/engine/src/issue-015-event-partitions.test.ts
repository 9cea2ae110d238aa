// issue 15, item 6: events are partitioned by month of receivedAt, and retention drops whole
// months (partitions.ts, maintenance.ts expireEventMonths, called by the sweeper) instead of
// deleting rows in rounds. De-duplication on (workspace, messageId) moved to "EventKey": ingest's
// one statement per batch inserts the keys and only the events whose key went in. The migration
// (20261205200000_event_partitions) copies no event: the old table becomes the legacy partition,
// and its keys fill "EventKey" (in the migration, or beforehand from psql with a trigger).
// Real Postgres (fresh databases) and Redis.
import { migrate, type Database } from "@postpath/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventCommitter, type IngestRow } from "./group-commit.ts";
import { track } from "./ingest.ts";
import { sweep } from "./maintenance.ts";
import {
  ensureMonthPartitions,
  EVENT_DEFAULT_PARTITION,
  EVENTS,
  listMonthPartitions,
} from "./partitions.ts";
import { databaseBefore, headerStatements } from "./testing/migration-db.ts";
import { moveEvent, startEngineHarness, type EngineHarness } from "./testing/harness.ts";

const MIGRATION = "20261205200000_event_partitions";
const LEGACY = "Event_legacy";

let h: EngineHarness;
let clock: number | null = null;
beforeAll(async () => {
  h = await startEngineHarness({ now: () => clock ?? Date.now(), workers: false });
});
afterAll(async () => {
  await h?.close();
});

const names = async () => (await listMonthPartitions(h.ctx, EVENTS)).map((p) => p.name);

/** Moves an event (and its key) to `iso`, processed or not. */
const receivedAt = (eventId: string, iso: string, processed: boolean) =>
  moveEvent(h.db, eventId, iso, processed);

/** Foreign keys held by "Event", any of its partitions, or "EventKey" ("table.constraint"). */
async function foreignKeys(db: Database): Promise<string[]> {
  const rows = await db.query<{ fk: string }>(
    `SELECT c.conrelid::regclass::text || '.' || c.conname AS fk FROM pg_constraint c
      WHERE c.contype = 'f'
        AND (c.conrelid IN ('"Event"'::regclass, '"EventKey"'::regclass)
             OR c.conrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = '"Event"'::regclass))
      ORDER BY 1`,
  );
  return rows.map((r) => r.fk);
}

/** Where each of a customer's events is: messageId and partition. */
async function placed(userId: string): Promise<{ mid: string; part: string }[]> {
  return h.db.query<{ mid: string; part: string }>(
    `SELECT e."messageId" AS mid, c.relname AS part
       FROM "Event" e JOIN pg_class c ON c.oid = e.tableoid
       JOIN "Customer" cu ON cu.id = e."customerId"
      WHERE cu."workspaceId" = $1 AND cu."externalId" = $2 ORDER BY e."messageId"`,
    [h.workspaceId, userId],
  );
}

describe("events are partitioned by month, de-duplicated through their keys", () => {
  it("Event is a partitioned table: by range of receivedAt, keyed on (id, receivedAt), with its indexes on the parent", async () => {
    const [p] = await h.db.query<{ strategy: string; column: string }>(
      `SELECT p.partstrat AS strategy, a.attname AS column
         FROM pg_partitioned_table p
         JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = '"Event"'::regclass`,
    );
    expect(p).toEqual({ strategy: "r", column: "receivedAt" });
    const key = await h.db.query<{ column: string }>(
      `SELECT a.attname AS column FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = '"Event"'::regclass AND i.indisprimary ORDER BY a.attnum`,
    );
    expect(key.map((k) => k.column)).toEqual(["id", "receivedAt"]);
    const parts = await listMonthPartitions(h.ctx, EVENTS);
    expect(parts.find((x) => x.isDefault)?.name).toBe(EVENT_DEFAULT_PARTITION);
    const legacy = parts.find((x) => x.name === LEGACY);
    expect(legacy?.from).toBeNull();
    expect(legacy?.to?.getTime()).toBeGreaterThan(Date.now());
    // Months after the legacy one: Event_y2027m01 ...
    expect(parts.some((x) => /^Event_y\d{4}m\d{2}$/.test(x.name))).toBe(true);
    const indexes = await h.db.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'Event' ORDER BY 1`,
    );
    expect(indexes.map((i) => i.name)).toEqual([
      "Event_pkey",
      "Event_receivedAt_idx",
      "Event_unprocessed_customer_idx",
      "Event_unprocessed_idx",
      "Event_workspaceId_customerId_name_timestamp_idx",
      "Event_workspaceId_name_timestamp_customerId_idx",
    ]);
    for (const partial of ["Event_unprocessed_customer_idx", "Event_unprocessed_idx"])
      expect(indexes.find((i) => i.name === partial)?.def).toMatch(
        /WHERE \("processedAt" IS NULL\)/,
      );
    // The de-duplication key, the one unique key on (workspace, messageId).
    const [ek] = await h.db.query<{ def: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
        WHERE i.indrelid = '"EventKey"'::regclass AND i.indisprimary`,
    );
    expect(ek?.def).toMatch(/UNIQUE.*\("workspaceId", "messageId"\)/);
    // No foreign keys (migration 20261205230000_event_no_foreign_keys): none on the parent, the
    // months, the legacy and default partitions or the key table.
    expect(await foreignKeys(h.db)).toEqual([]);
    // A month the sweeper creates gets none either (ATTACH clones the parent's).
    const created = await ensureMonthPartitions(h.ctx, EVENTS, Date.parse("2036-03-10T00:00:00Z"));
    expect(created).toContain("Event_y2036m03");
    expect(await foreignKeys(h.db)).toEqual([]);
  });

  it("a messageId sent in two batches committed at once, and twice in one batch, is stored once", async () => {
    // Two committers: two statements in flight, as two server processes would send.
    const a = new EventCommitter(h.ctx, { lingerMs: 50 });
    const b = new EventCommitter(h.ctx, { lingerMs: 50 });
    const row = (userId: string, messageId: string): IngestRow => ({
      workspaceId: h.workspaceId,
      userId,
      name: "page_seen",
      properties: {},
      timestamp: new Date(),
      messageId,
    });
    const mids = Array.from({ length: 40 }, (_, i) => `dup-${i}`);
    const [ra, rb] = await Promise.all([
      a.push(mids.map((m, i) => row(`dup-user-${i % 5}`, m))),
      b.push([...mids].reverse().map((m, i) => row(`dup-user-${i % 5}`, m))),
    ]);
    // Twice in one batch.
    const rc = await a.push([row("dup-user-0", "dup-x"), row("dup-user-0", "dup-x")]);
    const stored = await h.db.query<{ mid: string; n: number; id: string }>(
      `SELECT "messageId" AS mid, count(*)::int AS n, min(id) AS id FROM "Event"
        WHERE "workspaceId" = $1 AND "messageId" LIKE 'dup-%' GROUP BY 1`,
      [h.workspaceId],
    );
    expect(stored.length).toBe(mids.length + 1);
    expect(stored.every((s) => s.n === 1)).toBe(true);
    // Each messageId's two answers name the one stored event, exactly one of them as new.
    const byMid = new Map(stored.map((s) => [s.mid, s.id]));
    for (const [i, m] of mids.entries()) {
      const x = ra[i]!;
      const y = rb[mids.length - 1 - i]!;
      expect([x.eventId, y.eventId]).toEqual([byMid.get(m), byMid.get(m)]);
      expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
    }
    expect(rc.map((r) => r.eventId)).toEqual([byMid.get("dup-x"), byMid.get("dup-x")]);
    expect(rc.map((r) => r.duplicate).sort()).toEqual([false, true]);
    // One key per event, pointing at it with the event's own receivedAt.
    const [keys] = await h.db.query<{ n: number; matched: number }>(
      `SELECT count(*)::int AS n, count(e.id)::int AS matched FROM "EventKey" k
         LEFT JOIN "Event" e ON e.id = k."eventId" AND e."receivedAt" = k."receivedAt"
        WHERE k."workspaceId" = $1 AND k."messageId" LIKE 'dup-%'`,
      [h.workspaceId],
    );
    expect(keys).toEqual({ n: mids.length + 1, matched: mids.length + 1 });
  });

  it("the sweeper drops an old month of processed events whole, keeps this month's, and keeps a month holding an unprocessed event", async () => {
    const ids = new Map<string, string>();
    for (const m of ["jan-a", "jan-b", "feb-a", "feb-pending", "jun-a", "jun-pending"])
      ids.set(
        m,
        (await track(h.ctx, h.workspaceId, { userId: "mo", event: "browse", messageId: m }))
          .eventId,
      );
    // January to August 2031 exist; the events go to their months.
    for (const d of ["2031-01-15", "2031-04-15", "2031-06-15"])
      await ensureMonthPartitions(h.ctx, EVENTS, Date.parse(d));
    await receivedAt(ids.get("jan-a")!, "2031-01-05T10:00:00Z", true);
    await receivedAt(ids.get("jan-b")!, "2031-01-25T10:00:00Z", true);
    await receivedAt(ids.get("feb-a")!, "2031-02-05T10:00:00Z", true);
    await receivedAt(ids.get("feb-pending")!, "2031-02-06T10:00:00Z", false);
    await receivedAt(ids.get("jun-a")!, "2031-06-10T10:00:00Z", true);
    await receivedAt(ids.get("jun-pending")!, "2031-06-11T10:00:00Z", false);
    const before = await placed("mo");
    expect(before).toEqual([
      { mid: "feb-a", part: "Event_y2031m02" },
      { mid: "feb-pending", part: "Event_y2031m02" },
      { mid: "jan-a", part: "Event_y2031m01" },
      { mid: "jan-b", part: "Event_y2031m01" },
      { mid: "jun-a", part: "Event_y2031m06" },
      { mid: "jun-pending", part: "Event_y2031m06" },
    ]);

    // 15 June 2031, 60 days: before 16 April may go. January and February end before that;
    // February holds an unprocessed event and stays, its processed one deleted with its key.
    clock = Date.parse("2031-06-15T00:00:00Z");
    const res = await sweep(h.ctx, 365 * 24 * 3600_000, 60, 0);
    const after = await names();
    expect(after).not.toContain("Event_y2031m01");
    expect(after).toEqual(
      expect.arrayContaining(["Event_y2031m02", "Event_y2031m06", EVENT_DEFAULT_PARTITION]),
    );
    expect(res.eventPartitionsDropped).toBeGreaterThanOrEqual(1);
    expect(res.events).toBeGreaterThanOrEqual(1);
    expect(await placed("mo")).toEqual([
      { mid: "feb-pending", part: "Event_y2031m02" },
      { mid: "jun-a", part: "Event_y2031m06" },
      { mid: "jun-pending", part: "Event_y2031m06" },
    ]);
    const keys = await h.db.query<{ mid: string }>(
      `SELECT "messageId" AS mid FROM "EventKey" WHERE "eventId" = ANY($1::text[]) ORDER BY 1`,
      [[...ids.values()]],
    );
    expect(keys.map((k) => k.mid)).toEqual(["feb-pending", "jun-a", "jun-pending"]);
    // A replay of a dropped month's event is a new event (received in June, as the clock says);
    // one of a kept event is a duplicate.
    const replay = await track(h.ctx, h.workspaceId, {
      userId: "mo",
      event: "browse",
      messageId: "jan-a",
    });
    expect(replay.duplicate).toBe(false);
    await receivedAt(replay.eventId, "2031-06-12T10:00:00Z", true);
    expect(
      (await track(h.ctx, h.workspaceId, { userId: "mo", event: "browse", messageId: "jun-a" }))
        .duplicate,
    ).toBe(true);

    // February's event processed: the next sweep drops the month whole.
    await h.db.query(`UPDATE "Event" SET "processedAt" = "receivedAt" WHERE id = $1`, [
      ids.get("feb-pending"),
    ]);
    const again = await sweep(h.ctx, 365 * 24 * 3600_000, 60, 0);
    expect(again.eventPartitionsDropped).toBe(1);
    expect(await names()).not.toContain("Event_y2031m02");
    expect((await placed("mo")).map((e) => e.mid)).toEqual(["jan-a", "jun-a", "jun-pending"]);
    clock = null;
  });
});

describe("the migration on existing events", () => {
  /** A fresh database migrated up to the one before the partitioning, holding a few events. */
  const before = () =>
    databaseBefore(
      h.db,
      MIGRATION,
      `
      INSERT INTO "Workspace" (id, name, slug) VALUES ('w1', 'W', 'w1');
      INSERT INTO "Customer" (id, "workspaceId", "externalId", "updatedAt") VALUES ('c1', 'w1', 'u1', now());
      INSERT INTO "Event" (id, "workspaceId", "customerId", name, timestamp, "messageId", "receivedAt", "processedAt")
      SELECT 'e' || i, 'w1', 'c1', 'browse', now(), 'm' || i, now() - make_interval(days => i),
             CASE WHEN i % 2 = 0 THEN now() END
      FROM generate_series(1, 500) i;`,
    );

  /** What the migration must leave: every event in the legacy partition, each with its key. */
  async function check(db: Database, events: number): Promise<void> {
    const [row] = await db.query<{ legacy: number; keys: number; matched: number }>(
      `SELECT (SELECT count(*) FROM "Event_legacy")::int AS legacy,
              (SELECT count(*) FROM "EventKey")::int AS keys,
              (SELECT count(*) FROM "EventKey" k JOIN "Event" e
                 ON e.id = k."eventId" AND e."receivedAt" = k."receivedAt"
                AND e."workspaceId" = k."workspaceId" AND e."messageId" = k."messageId")::int AS matched`,
    );
    expect(row).toEqual({ legacy: events, keys: events, matched: events });
    const [unprocessed] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Event" WHERE "processedAt" IS NULL`,
    );
    expect(unprocessed?.n).toBe(250);
    // The legacy partition kept its indexes (adopted by the parent's), lost the old unique key.
    const idx = await db.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'Event_legacy' ORDER BY 1`,
    );
    expect(idx.map((i) => i.name)).toEqual([
      "Event_legacy_pkey",
      "Event_legacy_receivedAt_idx",
      "Event_legacy_unprocessed_customer_idx",
      "Event_legacy_unprocessed_idx",
      "Event_legacy_workspaceId_customerId_name_timestamp_idx",
      "Event_legacy_workspaceId_name_timestamp_customerId_idx",
    ]);
    const [att] = await db.query<{ bound: string }>(
      `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname = 'Event_legacy'`,
    );
    expect(att?.bound).toMatch(/^FOR VALUES FROM \(MINVALUE\) TO \('\d{4}-\d{2}-01 00:00:00'\)$/);
    // The old table's foreign keys (adopted by the partitioning) went with the parent's in
    // 20261205230000_event_no_foreign_keys.
    expect(await foreignKeys(db)).toEqual([]);
    // A stored messageId cannot be stored again; a new one goes in.
    await expect(
      db.query(`INSERT INTO "EventKey" VALUES ('w1', 'm1', 'x', now() AT TIME ZONE 'UTC')`),
    ).rejects.toThrow(/duplicate key/);
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

  it("uses what was prepared from psql (the statements of the migration's header), keys of events stored meanwhile included", async () => {
    const { db, drop } = await before();
    try {
      const { statements, bound } = headerStatements(MIGRATION);
      expect(statements.length).toBe(8);
      // Every statement on its own, outside a transaction; an event stored after the trigger.
      for (const [i, st] of statements.entries()) {
        await db.query(st);
        if (i === 3)
          await db.exec(`INSERT INTO "Event" (id, "workspaceId", "customerId", name, timestamp, "messageId", "processedAt")
                         VALUES ('e-late', 'w1', 'c1', 'browse', now(), 'm-late', now())`);
      }
      const [keys] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "EventKey"`);
      expect(keys?.n).toBe(501);
      expect(await migrate(db)).toContain(MIGRATION);
      await check(db, 501);
      // The trigger is gone: the application inserts keys itself now.
      const [trig] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'EventKey_mirror'`,
      );
      expect(trig?.n).toBe(0);
      const [b] = await db.query<{ bound: string }>(
        `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname = 'Event_legacy'`,
      );
      expect(b?.bound).toContain(bound);
    } finally {
      await drop();
    }
  });
});
