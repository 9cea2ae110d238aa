import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

describe("prepared statement names", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("runs a named statement and refuses a name Postgres would cut to 63 bytes", async () => {
    const name = `t.${"x".repeat(61)}`;
    expect(await db.query<{ n: number }>("SELECT 1 AS n", [], { prepare: name })).toEqual([
      { n: 1 },
    ]);
    // Two names sharing their first 63 bytes would be one statement to Postgres.
    await expect(db.query("SELECT 2 AS n", [], { prepare: `${name}-a` })).rejects.toThrow(
      /over 63 bytes/,
    );
    await db.withSession(async (s) => {
      await expect(s.query("SELECT 3", [], { prepare: `${name}-b` })).rejects.toThrow(
        /over 63 bytes/,
      );
    });
  });
});

describe("generic plans for batched statements", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.exec(`CREATE TABLE gp (id int PRIMARY KEY, v text)`);
    await db.exec(`INSERT INTO gp SELECT g, 'v' || g FROM generate_series(1, 1000) g`);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("runs a genericPlan statement with one generic plan, and the others as before", async () => {
    const mode = (genericPlan: boolean) =>
      db.query<{ m: string }>("SELECT current_setting('plan_cache_mode') AS m", [], {
        prepare: `t.mode.${genericPlan}`,
        genericPlan,
      });
    expect(await mode(true)).toEqual([{ m: "force_generic_plan" }]);
    expect(await mode(false)).toEqual([{ m: "auto" }]);
    // Not prepared: nothing to keep a plan for, so it runs as any other query.
    expect(
      await db.query<{ m: string }>("SELECT current_setting('plan_cache_mode') AS m", [], {
        genericPlan: true,
      }),
    ).toEqual([{ m: "auto" }]);
    // Same answers either way.
    const sql = `SELECT g.id, g.v FROM gp g JOIN unnest($1::int[]) AS i(id) ON i.id = g.id ORDER BY g.id`;
    for (const ids of [[3, 1], [999], []]) {
      const a = await db.query(sql, [ids], { prepare: "t.gp.generic", genericPlan: true });
      const b = await db.query(sql, [ids], { prepare: "t.gp.custom" });
      expect(a).toEqual(b);
      expect(a.map((r) => r["id"])).toEqual([...ids].sort((x, y) => x - y));
    }
  });
});
