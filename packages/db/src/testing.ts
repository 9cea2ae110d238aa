import { randomBytes } from "node:crypto";
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
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
export interface WaitOptions {
  /**
   * Fail when nothing moved for this long (default 120 s). With `progress`, the clock restarts
   * whenever its value changes, so a slow but moving machine never fails the wait; without it,
   * this is the whole budget.
   */
  stallMs?: number;
  /** A reading of the work's progress (a count, a status…); compared as JSON between polls. */
  progress?: () => unknown;
}

/**
 * Polls `fn` until it returns something truthy. Waiting follows progress, not wall time: it fails
 * only when nothing moved for `stallMs` (a number as the third argument is `stallMs`).
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  opts: number | WaitOptions = {},
): Promise<T> {
  const { stallMs = 120_000, progress } = typeof opts === "number" ? { stallMs: opts } : opts;
  let last = progress ? JSON.stringify(await progress()) : undefined;
  let movedAt = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (progress) {
      const now = JSON.stringify(await progress());
      if (now !== last) {
        last = now;
        movedAt = Date.now();
      }
    }
    if (Date.now() - movedAt > stallMs)
      throw new Error(
        `timed out waiting for ${what}: nothing moved for ${Math.round(stallMs / 1000)} s${progress ? ` (progress stuck at ${last})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A TCP proxy in front of a real server (Postgres, Redis) that a test can cut and restore: cut
 * closes every open connection and refuses new ones, as a stopped or unreachable server does.
 */
export interface OutageProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startOutageProxy(target: {
  host: string;
  port: number;
}): Promise<OutageProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createNetServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: OutageProxy = {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
