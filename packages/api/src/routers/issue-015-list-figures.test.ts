// issue 15, item 4: the journey list reads the figures (entered, converted) of the journeys on the
// page it answers, not of the whole workspace, and with a max age shares each journey's figures
// for that long: an older copy is answered while one refresh runs, a journey never read waits for
// its own. Real Postgres; rows written straight into it.
import { createTestDatabase, waitFor, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listJourneys } from "./journeys.list.ts";

let db: TestDatabase;
let ws: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ws = (await db.prisma.workspace.create({ data: { name: "Figures", slug: "figures" } })).id;
});
afterAll(async () => {
  await db?.drop();
});

/**
 * A journey with two versions (triggers t1 and t2), edited `minutesAgo`; per version and shard
 * its trigger counted `entered` and a goal step `converted` (another step's entries never count).
 */
async function journey(id: string, minutesAgo: number, entered: number, converted: number) {
  await db.query(
    `INSERT INTO "Journey" (id, "workspaceId", name, status, draft, "updatedAt")
     VALUES ($1, $2, $1, 'LIVE', '{}', now() - $3 * interval '1 minute')`,
    [id, ws, minutesAgo],
  );
  for (const n of [1, 2]) {
    await db.query(
      `INSERT INTO "JourneyVersion" (id, "journeyId", "workspaceId", version, status, "schemaVersion",
                                     plan, "triggerType", "triggerEvent")
       VALUES ($1 || '-v' || $2::int, $1, $3, $2::int,
               CASE WHEN $2::int = 2 THEN 'LIVE' ELSE 'SUPERSEDED' END::"VersionStatus",
               1, jsonb_build_object('triggerStepId', 't' || $2::int), 'trigger.event', 'purchase')`,
      [id, n, ws],
    );
    for (const shard of [0, 5])
      await db.query(
        `INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId", entered, converted)
         VALUES ($1 || '-v' || $2, 't' || $2, $3, $1, $4, 0),
                ($1 || '-v' || $2, 'goal', $3, $1, 1000, $5),
                ($1 || '-v' || $2, 'other', $3, $1, 1000, 0)`,
        [id, n, shard, entered, converted],
      );
  }
}

const setEntered = (id: string, entered: number) =>
  db.query(`UPDATE "StepCounter" SET entered = $2 WHERE "journeyId" = $1 AND "stepId" LIKE 't%'`, [
    id,
    entered,
  ]);

const figuresOf = (list: { id: string; entered: number; converted: number }[]) =>
  list.map((j) => [j.id, j.entered, j.converted]);

describe("issue 15: the journey list's figures", () => {
  it("counts each journey on each page (trigger entries and conversions over versions and shards)", async () => {
    await journey("a", 1, 2, 1);
    await journey("b", 2, 3, 0);
    await journey("c", 3, 0, 4);
    await db.query(
      `INSERT INTO "Journey" (id, "workspaceId", name, status, draft, "updatedAt")
       VALUES ('d', $1, 'd', 'DRAFT', '{}', now() - interval '4 minutes')`,
      [ws],
    );
    const first = await listJourneys(db, ws, undefined, db, { limit: 2 });
    // 2 versions × 2 shards of each figure.
    expect(figuresOf(first)).toEqual([
      ["a", 8, 4],
      ["b", 12, 0],
    ]);
    expect(first.map((j) => j.liveVersion)).toEqual([2, 2]);
    const last = first.at(-1)!;
    const second = await listJourneys(db, ws, undefined, db, {
      limit: 2,
      cursor: { updatedAt: last.updatedAt, id: last.id },
    });
    expect(figuresOf(second)).toEqual([
      ["c", 0, 16],
      ["d", 0, 0],
    ]);
    expect(second.map((j) => j.liveVersion)).toEqual([2, null]);
  });

  it("shares each journey's figures for the max age, answers the older copy while it refreshes", async () => {
    const hour = 3_600_000;
    expect(figuresOf(await listJourneys(db, ws, hour, db, { limit: 1 }))).toEqual([["a", 8, 4]]);
    await setEntered("a", 10);
    await setEntered("b", 10);
    // Within the max age: the shared copy of a; b was never read with a max age, so it is read.
    expect(figuresOf(await listJourneys(db, ws, hour, db, { limit: 2 }))).toEqual([
      ["a", 8, 4],
      ["b", 40, 0],
    ]);
    // Older than the max age: the older copy now, the new figures once the refresh has run.
    await new Promise((r) => setTimeout(r, 5));
    expect(figuresOf(await listJourneys(db, ws, 1, db, { limit: 1 }))).toEqual([["a", 8, 4]]);
    await waitFor("a's figures refreshed", async () => {
      const [a] = await listJourneys(db, ws, hour, db, { limit: 1 });
      return a?.entered === 40;
    });
    // Without a max age they are read every time.
    await setEntered("a", 1);
    expect(figuresOf(await listJourneys(db, ws, undefined, db, { limit: 1 }))).toEqual([
      ["a", 4, 4],
    ]);
  });
});
