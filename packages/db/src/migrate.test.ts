import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, readMigrations } from "./migrate.ts";
import { migrate } from "./migrate.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";
import { openDatabase } from "./database.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

describe("migration runner on real Postgres", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("records every migration the way prisma migrate deploy does", async () => {
    const rows = await db.query<{
      migration_name: string;
      checksum: string;
      applied_steps_count: number;
    }>(
      `SELECT migration_name, checksum, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    const files = readMigrations();
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    expect(rows.map((r) => r.checksum)).toEqual(files.map((f) => f.checksum));
    expect(rows.every((r) => r.applied_steps_count === 1)).toBe(true);
  });

  it("is idempotent: a second run applies nothing", async () => {
    expect(await migrate(db)).toEqual([]);
  });

  it("gives a working Prisma client with the unique constraints the engine relies on", async () => {
    const ws = await db.prisma.workspace.create({ data: { name: "W", slug: `w-${Date.now()}` } });
    const c = await db.prisma.customer.create({
      data: { workspaceId: ws.id, externalId: "u1", attributes: { first_name: "Ada" } },
    });
    await expect(
      db.prisma.customer.create({ data: { workspaceId: ws.id, externalId: "u1" } }),
    ).rejects.toThrow(/Unique constraint/);
    expect(c.attributes).toEqual({ first_name: "Ada" });
  });

  it("refuses an applied migration whose file was edited", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pp-mig-"));
    const name = "20990101000000_edited";
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, "migration.sql"), "CREATE TABLE edited_probe (id int);");
    expect(await migrate(db, dir)).toEqual([name]);
    fs.writeFileSync(
      path.join(dir, name, "migration.sql"),
      "CREATE TABLE edited_probe (id bigint);",
    );
    await expect(migrate(db, dir)).rejects.toThrow(/was changed after it was applied/);
  });
});

describe("embedded default (PGlite)", () => {
  it(
    "migrates a fresh local folder and reads back data through Prisma",
    { timeout: 120_000 },
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pp-pglite-"));
      const db = await openDatabase({ dataDir: dir });
      try {
        expect(await migrate(db)).toEqual(readMigrations().map((m) => m.name));
        const ws = await db.prisma.workspace.create({ data: { name: "Embedded", slug: "emb" } });
        const found = await db.prisma.workspace.findUniqueOrThrow({ where: { slug: "emb" } });
        expect(found.id).toBe(ws.id);
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("migration files", () => {
  it("end at the current schema: the newest snapshot equals prisma/schema.prisma", () => {
    const latest = readMigrations().at(-1)!;
    const snapshot = fs.readFileSync(
      path.join(MIGRATIONS_DIR, latest.name, "schema.prisma"),
      "utf8",
    );
    const schema = fs.readFileSync(path.join(MIGRATIONS_DIR, "..", "schema.prisma"), "utf8");
    expect(
      snapshot,
      "prisma/schema.prisma changed without a migration: run pnpm db:migration <name>",
    ).toBe(schema);
  });
});
