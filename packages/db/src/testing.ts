import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "./database.ts";
import { migrate } from "./migrate.ts";

/** The Postgres server tests use; each test file gets its own database on it. */
export const TEST_SERVER_URL =
  process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase extends Database {
  readonly url: string;
  /** Closes connections and drops the database. */
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, migrated database on the real Postgres server for one test file. */
export async function createTestDatabase(prefix = "postpath_test"): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await admin(TEST_SERVER_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(TEST_SERVER_URL, name);
  const db = await openDatabase({ url });
  await migrate(db);
  return {
    ...db,
    url,
    async drop() {
      await db.close();
      await admin(TEST_SERVER_URL, (c) =>
        c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}

/** Polls `fn` every 100 ms until it returns something truthy; fails naming `what` after the timeout. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
