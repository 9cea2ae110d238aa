import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Database, SqlSession } from "./database.ts";

export const MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../prisma/migrations",
);

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Applies pending `prisma/migrations/<name>/migration.sql` files, each in its own transaction,
 * recording them in `_prisma_migrations` exactly as `prisma migrate deploy` does (so the official
 * CLI agrees the database is up to date). Works on Postgres and on the embedded PGlite default,
 * where the Prisma CLI cannot run. Refuses to continue if an applied migration was edited.
 */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  return db.withSession((session) => migrateOn(session, db.kind === "postgres", dir));
}

async function migrateOn(db: SqlSession, lock: boolean, dir: string): Promise<string[]> {
  // One migrator at a time across processes (server and worker may start together).
  if (lock) await db.query("SELECT pg_advisory_lock(7261426)");
  try {
    await db.exec(CREATE_TABLE);
    const applied = await db.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const done = new Map(applied.map((r) => [r.migration_name, r.checksum]));
    const ran: string[] = [];
    for (const m of readMigrations(dir)) {
      const prior = done.get(m.name);
      if (prior !== undefined) {
        if (prior !== m.checksum) {
          throw new Error(
            `Migration ${m.name} was changed after it was applied (checksum differs). Add a new migration instead.`,
          );
        }
        continue;
      }
      const id = randomUUID();
      await db
        .exec(
          `BEGIN;\n${m.sql}\n;INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ('${id}', '${m.checksum}', '${m.name.replace(/'/g, "''")}', now(), now(), 1);\nCOMMIT;`,
        )
        .catch(async (err: unknown) => {
          await db.exec("ROLLBACK").catch(() => undefined);
          throw new Error(
            `Migration ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        });
      ran.push(m.name);
    }
    return ran;
  } finally {
    if (lock) await db.query("SELECT pg_advisory_unlock(7261426)");
  }
}
