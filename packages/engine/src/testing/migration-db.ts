// Tests of a migration that converts existing data (issue 15: the partitioning migrations): a fresh
// database migrated up to the one before it, and the statements its header tells an operator to run
// from psql beforehand, as they would paste them.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MIGRATIONS_DIR, migrate, openDatabase, readMigrations, type Database } from "@postpath/db";
import { TEST_SERVER_URL } from "@postpath/db/testing";

/**
 * A new database on the test server (created through `server`, any open connection to it) with
 * every migration before `migration` applied, and `seed` run in it. `drop` closes and removes it.
 */
export async function databaseBefore(
  server: Database,
  migration: string,
  seed: string,
): Promise<{ db: Database; drop: () => Promise<void> }> {
  const name = `pp_before_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await server.query(`CREATE DATABASE "${name}"`);
  const u = new URL(TEST_SERVER_URL);
  u.pathname = `/${name}`;
  const db = await openDatabase({ url: u.toString() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pp-before-"));
  try {
    for (const m of readMigrations()) {
      if (m.name >= migration) continue;
      fs.cpSync(path.join(MIGRATIONS_DIR, m.name), path.join(dir, m.name), { recursive: true });
    }
    await migrate(db, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await db.exec(seed);
  return {
    db,
    drop: async () => {
      await db.close();
      await server.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/**
 * The statements a migration's header gives for preparing a big table from psql (its lines indented
 * `--       `), one by one as an operator would paste them, with the header's example bound
 * '2027-02-01' replaced by `bound`, the first day of the month after next.
 */
export function headerStatements(migration: string): { statements: string[]; bound: string } {
  const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, migration, "migration.sql"), "utf8");
  const header = sql
    .split("\n")
    .filter((l) => l.startsWith("--       "))
    .map((l) => l.slice(9).replace(/\s+--.*$/, ""))
    .join("\n");
  const now = new Date();
  const bound = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1))
    .toISOString()
    .slice(0, 10);
  const statements = header
    .replace("'2027-02-01'", `'${bound}'`)
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => s.replace(/^--.*$/gm, ""));
  return { statements, bound };
}
