import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  allowListProblem,
  createLogEmailProvider,
  createProvider,
  type OutboundPolicy,
  type Provider,
} from "@postpath/channels";
import type { Env } from "@postpath/config";
import { migrate, openDatabase, type Database } from "@postpath/db";
import { createEngineContext, startWorkers, type RunningWorkers } from "./engine.ts";
import type { EngineContext } from "./context.ts";
import { DependencyMonitor } from "./health.ts";
import type { Logger } from "./logger.ts";
import { staticProviders } from "./providers.ts";
import {
  credentialProviders,
  KeyringError,
  loadKeyring,
  type Keyring,
} from "./credentials/index.ts"; // admin issue
import { assertRedis, createRedis, type RedisClient, type RedisTarget } from "./queues.ts";

/** Repository root: relative paths in the environment (POSTPATH_DATA_DIR, WEB_DIST) resolve here. */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

export class StartupError extends Error {
  override name = "StartupError";
}

export interface Runtime {
  env: Env;
  db: Database;
  /** issue 15: DATABASE_REPLICA_URL opened for read-only figures; null: reads go to `db`. */
  replica: Database | null;
  /** One Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES, issue 15). */
  redis: RedisClient;
  engine: EngineContext;
  /** Master keys for channel credentials (admin issue), and where they came from. */
  keyring: Keyring;
  masterKey: { source: string; generated: boolean };
  /** Postgres/Redis reachability (started; stopped by close). */
  monitor: DependencyMonitor;
  close(): Promise<void>;
}

function isLocal(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "::1" || host === "[::1]";
}

function commandExists(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Where the queues live: the cluster of REDIS_CLUSTER_NODES when set (issue 15), else REDIS_URL. */
export function redisTarget(env: Env): RedisTarget {
  return env.REDIS_CLUSTER_NODES ? { clusterNodes: env.REDIS_CLUSTER_NODES } : env.REDIS_URL;
}

/**
 * Arguments for a local redis-server keeping its data in `dir`: AOF on, so delayed jobs survive a
 * restart (no RDB snapshots), and hz 100: delayed jobs (waits) wake through blocking-command
 * timeouts, which an otherwise idle Redis checks only hz times a second (default 10: up to 100 ms
 * late).
 */
export function localRedisArgs(port: string, dir: string): string[] {
  const place = ["--port", port, "--bind", "127.0.0.1", "--dir", dir];
  return [...place, "--appendonly", "yes", "--save", "", "--hz", "100"];
}

/**
 * Makes sure Redis answers. With REDIS_AUTOSTART and a local REDIS_URL, a missing Redis is started
 * from the machine's `redis-server` (data in POSTPATH_DATA_DIR/redis, AOF on, so delayed jobs
 * survive a restart); otherwise it stops with what to install.
 */
export async function ensureRedis(env: Env, log: Logger): Promise<ChildProcess | null> {
  // issue 15: a cluster is never started from here; it must answer.
  if (env.REDIS_CLUSTER_NODES) {
    try {
      await assertRedis(redisTarget(env));
      return null;
    } catch (err) {
      throw new StartupError((err as Error).message);
    }
  }
  try {
    await assertRedis(env.REDIS_URL);
    return null;
  } catch (err) {
    if (!env.REDIS_AUTOSTART || !isLocal(env.REDIS_URL))
      throw new StartupError((err as Error).message);
    if (!commandExists("redis-server")) {
      throw new StartupError(
        `${(err as Error).message}. No redis-server found to start. Install Redis (Debian/Ubuntu: "sudo apt-get install redis-server", macOS: "brew install redis"), or set REDIS_URL to a running Redis.`,
      );
    }
  }
  const port = new URL(env.REDIS_URL).port || "6379";
  const dir = path.resolve(REPO_ROOT, env.POSTPATH_DATA_DIR, "redis");
  fs.mkdirSync(dir, { recursive: true });
  log.info({ port, dir }, "Redis not running: starting a local redis-server");
  const child = spawn("redis-server", localRedisArgs(port, dir), {
    stdio: "ignore",
    detached: false,
  });
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      await assertRedis(env.REDIS_URL);
      return child;
    } catch {
      // still starting
    }
  }
  child.kill();
  throw new StartupError(`Started redis-server on port ${port} but it did not answer within 5 s.`);
}

/** The database: DATABASE_URL when set, else the embedded PGlite default in POSTPATH_DATA_DIR. Migrated. */
export async function openAppDatabase(env: Env, log: Logger): Promise<Database> {
  let db: Database;
  try {
    db = env.DATABASE_URL
      ? await openDatabase({ url: env.DATABASE_URL })
      : await openDatabase({ dataDir: path.resolve(REPO_ROOT, env.POSTPATH_DATA_DIR, "pglite") });
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const ran = await migrate(db);
  log.info(
    { database: db.location, applied: ran },
    ran.length ? "database migrated" : "database up to date",
  );
  return db;
}

/** The database as openAppDatabase opened it, without migrating (another runtime did). */
async function openConnectedDatabase(env: Env): Promise<Database> {
  if (!env.DATABASE_URL)
    throw new StartupError(
      "The embedded database (no DATABASE_URL) can be opened by one runtime of a process only",
    );
  try {
    return await openDatabase({ url: env.DATABASE_URL });
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
}

/**
 * issue 15: the read replica (DATABASE_REPLICA_URL), never migrated from here (a standby follows
 * the primary's schema). Unreachable at start-up: a clear start-up error, as for the primary.
 */
export async function openReplica(env: Env, log: Logger): Promise<Database | null> {
  if (!env.DATABASE_REPLICA_URL) return null;
  if (!env.DATABASE_URL)
    throw new StartupError(
      "DATABASE_REPLICA_URL is set but DATABASE_URL is not: a replica needs a PostgreSQL primary",
    );
  try {
    const replica = await openDatabase({ url: env.DATABASE_REPLICA_URL });
    await replica.query("SELECT 1");
    log.info({ database: replica.location }, "read replica connected");
    return replica;
  } catch (err) {
    throw new StartupError(`DATABASE_REPLICA_URL: ${(err as Error).message}`);
  }
}

/** Which private hosts provider requests may reach: OUTBOUND_ALLOW_HOSTS (checked at start-up). */
export function outboundFromEnv(env: Env): OutboundPolicy {
  const problem = allowListProblem(env.OUTBOUND_ALLOW_HOSTS);
  if (problem)
    throw new StartupError(`Invalid environment variable OUTBOUND_ALLOW_HOSTS: ${problem}`);
  return { allowHosts: env.OUTBOUND_ALLOW_HOSTS };
}

/** Process-wide providers from the environment (workspace credentials come with the admin issue). */
export function providersFromEnv(env: Env): Record<string, Provider> {
  const email = env.SMTP_URL
    ? createProvider("email", { url: env.SMTP_URL, from: env.EMAIL_FROM })
    : createLogEmailProvider({ from: env.EMAIL_FROM });
  return { email };
}

/** The master keyring (generating a dev key file once, and saying so) and the credential-backed resolver. */
export function openCredentialProviders(
  env: Env,
  log: Logger,
  db: Database,
  providers: Record<string, Provider>,
) {
  let loaded: ReturnType<typeof loadKeyring>;
  try {
    loaded = loadKeyring(env, REPO_ROOT);
  } catch (err) {
    if (err instanceof KeyringError) throw new StartupError(err.message);
    throw err;
  }
  if (loaded.generated) {
    log.warn(
      { file: loaded.generated },
      "No POSTPATH_MASTER_KEY(_FILE) set: generated a development master key for channel credentials. Back it up; set POSTPATH_MASTER_KEY or POSTPATH_MASTER_KEY_FILE in production.",
    );
  }
  return {
    keyring: loaded.keyring,
    masterKey: { source: loaded.source, generated: loaded.generated !== null },
    resolver: credentialProviders(db, loaded.keyring, staticProviders(providers)),
  };
}

/**
 * The journey workers of a runtime, configured from its environment (WORKER_CONCURRENCY,
 * RUN_CONCURRENCY, EVENT_RETENTION_DAYS, TRACE_RETENTION_DAYS, MESSAGE_RETENTION_DAYS, QUEUE_PREFIX): the same wherever
 * they run — the worker process, the server's worker thread, or the server's own loop with the
 * embedded database.
 */
export function startRuntimeWorkers(rt: Runtime): RunningWorkers {
  return startWorkers(rt.engine, {
    connection: rt.redis,
    prefix: rt.env.QUEUE_PREFIX,
    concurrency: rt.env.WORKER_CONCURRENCY,
    runConcurrency: rt.env.RUN_CONCURRENCY,
    eventRetentionDays: rt.env.EVENT_RETENTION_DAYS,
    traceRetentionDays: rt.env.TRACE_RETENTION_DAYS,
    messageRetentionDays: rt.env.MESSAGE_RETENTION_DAYS,
    monitor: rt.monitor,
  });
}

export interface RuntimeOptions {
  /**
   * Another runtime of this process (the server's, when its workers run in a thread of their
   * own) has already started Redis if needed, migrated the database and checked the replica:
   * open the connections only (no replica unless `replica`: workers do not read it).
   */
  alongside?: boolean;
  /** With `alongside`: open the read replica too (an HTTP process of HTTP_PROCESSES > 1 reads it). */
  replica?: boolean;
}

/**
 * Where people reach the app, for links in messages (PURLs, QR codes, unsubscribe, webhook
 * addresses): PUBLIC_URL, else the address the server listens on (HOST and PORT; a wildcard host
 * is this machine), as the README says. (A fixed :3000 made every link dead on another port.)
 */
export function publicUrlOf(env: Pick<Env, "PUBLIC_URL" | "HOST" | "PORT">): string {
  if (env.PUBLIC_URL) return env.PUBLIC_URL;
  const wildcard = ["0.0.0.0", "::", "[::]", "*"].includes(env.HOST);
  const host = wildcard ? "127.0.0.1" : env.HOST;
  const named = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  // Port 0 asks the system for any free port, unknown here: the listen default then.
  return `http://${named}:${env.PORT || 3000}`;
}

export async function openRuntime(
  env: Env,
  log: Logger,
  opts: RuntimeOptions = {},
): Promise<Runtime & { redisChild: ChildProcess | null }> {
  const redisChild = opts.alongside ? null : await ensureRedis(env, log);
  const db = opts.alongside ? await openConnectedDatabase(env) : await openAppDatabase(env, log);
  const replica = opts.alongside && !opts.replica ? null : await openReplica(env, log);
  const redis = createRedis(redisTarget(env));
  await redis.connect();
  const monitor = new DependencyMonitor({ db, redis, log }).start();
  // Providers: a workspace's own channel credentials (decrypted at send time), else the environment's.
  const providers = providersFromEnv(env);
  const { keyring, masterKey, resolver } = openCredentialProviders(env, log, db, providers);
  const engine = createEngineContext({
    db,
    connection: redis,
    prefix: env.QUEUE_PREFIX,
    queueShards: env.QUEUE_SHARDS, // issue 15
    log,
    providers: resolver,
    outbound: outboundFromEnv(env),
    keyring, // issue 16: unsubscribe links
    // issue 16: links in messages (unsubscribe, PURLs) point where people reach the app.
    publicUrl: publicUrlOf(env),
  });
  return {
    env,
    db,
    replica,
    redis,
    engine,
    keyring,
    masterKey,
    redisChild,
    monitor,
    async close() {
      monitor.stop();
      await engine.queues.close();
      await resolver.close();
      await Promise.all(Object.values(providers).map((p) => p.close?.() ?? Promise.resolve()));
      redis.disconnect();
      await db.close();
      await replica?.close();
      redisChild?.kill();
    },
  };
}
