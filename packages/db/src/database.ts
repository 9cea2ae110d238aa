import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "./generated/prisma/client.ts";

/** Raw SQL on one connection. */
export interface SqlSession {
  /** Run a multi-statement SQL script as one simple query (no parameters). */
  exec(sql: string): Promise<void>;
  /**
   * Parameterised query returning rows. `prepare` names a prepared statement: each connection
   * parses and plans it once (hot paths; the same name must always carry the same SQL).
   * `genericPlan` (with `prepare`): run it on connections that keep one generic plan per
   * statement (`plan_cache_mode = force_generic_plan`) instead of planning it for each call's
   * values — for a statement whose plan does not depend on them (batched `unnest` of arrays) and
   * whose planning costs as much as its execution. The embedded database ignores it.
   */
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    opts?: QueryOptions,
  ): Promise<T[]>;
}

export interface QueryOptions {
  prepare?: string;
  genericPlan?: boolean;
}

/** A Prisma client plus direct access to the driver, for migration scripts and hot raw SQL. */
export interface Database extends SqlSession {
  readonly prisma: PrismaClient;
  /** "postgres" for a real server, "embedded" for the PGlite default in a local folder. */
  readonly kind: "postgres" | "embedded";
  /** Where it is, for messages (password removed). */
  readonly location: string;
  /** Runs fn with raw SQL pinned to one connection (session-level locks, SET, ...). */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DatabaseOptions = { url: string; poolSize?: number } | { dataDir: string };

export class DatabaseUnreachableError extends Error {
  constructor(location: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`Database unreachable at ${location}: ${reason}`);
    this.name = "DatabaseUnreachableError";
  }
}

/** Removes the password from a connection string for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if ("url" in opts) return openPostgres(opts.url, opts.poolSize ?? 10);
  return openEmbedded(opts.dataDir);
}

/**
 * Postgres keeps the first 63 bytes of a prepared statement's name, so two longer names that
 * share them collide ("prepared statement already exists") on one connection: refused here.
 */
export function statementName(name: string | undefined): string | undefined {
  if (name !== undefined && Buffer.byteLength(name) > 63)
    throw new Error(`Prepared statement name over 63 bytes: ${name}`);
  return name;
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const location = redactUrl(url);
  // Idle connections are kept 5 minutes (pg's default closes them after 10 s): a new backend's
  // first statements plan with cold catalog caches, and a page visit after a 10 s lull waited
  // ~90 ms for that (bench/landing-page, the first requests of its 200/s phase).
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 300_000,
    // Idle connections do not keep a process alive (a script ends when its work is done).
    allowExitOnIdle: true,
  });
  // Surface idle-client errors (e.g. the server restarting) instead of crashing the process.
  pool.on("error", () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnreachableError(location, err);
  }
  // Connections for `genericPlan` statements, opened on first use (a few: the statements using
  // them are batched). Postgres plans a prepared statement anew on each call while that looks
  // cheaper than its generic plan: for page visits' statement that planning was ~0.8 ms of
  // Postgres CPU a call, as much as its execution (bench/README.md, landing-page).
  let genericPool: pg.Pool | null = null;
  const generic = () =>
    (genericPool ??= (() => {
      const p = new pg.Pool({
        connectionString: url,
        options: "-c plan_cache_mode=force_generic_plan",
        max: Math.min(poolSize, 4),
        connectionTimeoutMillis: 5000,
        idleTimeoutMillis: 300_000,
        allowExitOnIdle: true,
      });
      p.on("error", () => undefined);
      return p;
    })());
  // A busy worker shares the pool with batched raw SQL: wait longer than the 2 s default for a
  // connection before an interactive transaction gives up.
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool),
    transactionOptions: { maxWait: 10_000, timeout: 15_000 },
  });
  // Loads Prisma's query compiler now (~100 ms: a WebAssembly module), not on the first query: a
  // worker process added under load made every run of its first buckets wait for it (its first
  // second's p99 292–321 ms against 75–145 ms with this and plans.ts; bench/README.md,
  // engine-lateness, 2026-12-07 10:15), and a server its first request.
  try {
    await prisma.$connect();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    prisma,
    kind: "postgres",
    location,
    async exec(sql) {
      await pool.query(sql);
    },
    async query<T>(sql: string, params: unknown[] = [], opts: QueryOptions = {}) {
      const res = await (opts.genericPlan && opts.prepare ? generic() : pool).query({
        text: sql,
        values: params,
        name: statementName(opts.prepare),
      });
      return res.rows as T[];
    },
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          async exec(sql) {
            await client.query(sql);
          },
          async query<T>(sql: string, params: unknown[] = [], opts: QueryOptions = {}) {
            const res = await client.query({
              text: sql,
              values: params,
              name: statementName(opts.prepare),
            });
            return res.rows as T[];
          },
        });
      } finally {
        client.release();
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
      await genericPool?.end();
    },
  };
}

async function openEmbedded(dataDir: string): Promise<Database> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(client) });
  // Its query compiler now, as for a server (openPostgres).
  try {
    await prisma.$connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  const session: SqlSession = {
    async exec(sql) {
      await client.exec(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      const res = await client.query(sql, params);
      return res.rows as T[];
    },
  };
  return {
    prisma,
    kind: "embedded",
    location: `embedded PGlite in ${dir}`,
    ...session,
    // PGlite is a single connection already.
    withSession: (fn) => fn(session),
    async close() {
      await prisma.$disconnect();
      await client.close();
    },
  };
}
