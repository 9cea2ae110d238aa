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
