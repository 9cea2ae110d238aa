import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { hashPassword } from "@postpath/api";
import { parseEnv } from "@postpath/config";
import { openDatabase } from "@postpath/db";
import { createTestDatabase, type OutageProxy, type TestDatabase } from "@postpath/db/testing";
import {
  createEngineContext,
  createLogger,
  createRedis,
  credentialProviders,
  DependencyMonitor,
  outboundFromEnv,
  providersFromEnv,
  startWorkers,
  staticProviders,
  type EngineContext,
  type Keyring,
  type Logger,
  type RunningWorkers,
  type WorkerOptions,
} from "@postpath/engine";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { buildApp, type AppOptions } from "../app.ts";

export interface Harness {
  db: TestDatabase;
  engine: EngineContext;
  app: FastifyInstance;
  baseUrl: string;
  workers: RunningWorkers;
  workspaceId: string;
  writeKey: string;
  marketer: { email: string; password: string };
  /** admin issue: an admin of the same workspace. */
  admin: { email: string; password: string };
  /** The queue prefix (Redis keys of this test start with it). */
  prefix: string;
  redis: Redis;
  monitor: DependencyMonitor;
  close(): Promise<void>;
}

/**
 * The real app on real services: a fresh Postgres database, the local Redis under a unique queue
 * prefix, Fastify on a random port, and BullMQ workers in-process.
 */
export async function startHarness(
  opts: {
    smtpUrl?: string;
    /** admin issue */ log?: Logger;
    keyring?: Keyring;
    /** Reach Postgres and/or Redis through proxies the test can cut (outage tests). */
    via?: { postgres?: OutageProxy; redis?: OutageProxy };
    /** Worker settings over the defaults (e.g. `sweepEveryMs: 0` to prove another path recovers). */
    workers?: Partial<WorkerOptions>;
    /** issue 12: app settings (PUBLIC_URL, the web app and its source maps). */
    app?: Pick<AppOptions, "publicUrl" | "webDist" | "serveSourceMaps">;
  } = {},
): Promise<Harness> {
  const prefix = `t${randomBytes(5).toString("hex")}`;
  const testDb = await createTestDatabase();
  const db: TestDatabase = opts.via?.postgres
    ? Object.assign(await openDatabase({ url: opts.via.postgres.via(testDb.url) }), {
        url: testDb.url,
        drop: async () => {
          await db.close().catch(() => undefined);
          await testDb.drop();
        },
      })
    : testDb;
  const env = parseEnv({
    DATABASE_URL: db.url,
    SMTP_URL: opts.smtpUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "warn",
    // Test receivers (webhook, SMS, push) listen on 127.0.0.1, a private address.
    OUTBOUND_ALLOW_HOSTS: "127.0.0.1",
  });
  const log = opts.log ?? createLogger(env.LOG_LEVEL);
  const redis: Redis = createRedis(
    opts.via?.redis ? opts.via.redis.via(env.REDIS_URL) : env.REDIS_URL,
  );
  await redis.connect();
  const providers = providersFromEnv(env);
  // admin issue: with a keyring, workspace channel credentials are used (decrypted at send time).
  const credentials = opts.keyring
    ? credentialProviders(db, opts.keyring, staticProviders(providers))
    : null;
  const engine = createEngineContext({
    db,
    connection: redis,
    prefix,
    log,
    providers: credentials ?? staticProviders(providers),
    outbound: outboundFromEnv(env),
  });
  const monitor = new DependencyMonitor({ db, redis, log }).start();
  const workers = startWorkers(engine, {
    connection: redis,
    prefix,
    concurrency: 10,
    monitor,
    ...opts.workers,
  });
  const app = await buildApp({
    db,
    engine,
    log,
    monitor,
    ...(opts.keyring ? { keyring: opts.keyring } : {}),
    ...opts.app,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;

  const password = "correct horse battery";
  const writeKey = `pp_${randomBytes(16).toString("hex")}`;
  const ws = await db.prisma.workspace.create({
    data: {
      name: "Test Co",
      slug: prefix,
      users: {
        create: [
          {
            email: `marketer-${prefix}@example.com`,
            name: "Tess",
            role: "MARKETER",
            passwordHash: await hashPassword(password),
          },
          {
            email: `admin-${prefix}@example.com`,
            name: "Adam",
            role: "ADMIN",
            passwordHash: await hashPassword(password),
          }, // admin issue
        ],
      },
      apiKeys: {
        create: {
          name: "test",
          prefix: writeKey.slice(0, 8),
          keyHash: createHash("sha256").update(writeKey).digest("hex"),
        },
      },
    },
  });
  return {
    db,
    engine,
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    workers,
    workspaceId: ws.id,
    writeKey,
    marketer: { email: `marketer-${prefix}@example.com`, password },
    admin: { email: `admin-${prefix}@example.com`, password },
    prefix,
    redis,
    monitor,
    async close() {
      monitor.stop();
      await app.close();
      await workers.close();
      await engine.queues.close();
      await Promise.all(Object.values(providers).map((p) => p.close?.() ?? Promise.resolve()));
      await credentials?.close(); // admin issue: pooled SMTP of workspace credentials
      // Remove this test's keys from the shared Redis.
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await db.drop();
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary tRPC envelopes
type TrpcEnvelope = any;

/** Minimal tRPC-over-HTTP client (no transformer), keeping the session cookie like a browser. */
export function trpcHttp(baseUrl: string) {
  let cookie = "";
  async function call(
    kind: "query" | "mutation",
    path: string,
    input?: unknown,
  ): Promise<{ status: number; body: TrpcEnvelope }> {
    const url =
      kind === "query"
        ? `${baseUrl}/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
        : `${baseUrl}/trpc/${path}`;
    const res = await fetch(url, {
      method: kind === "query" ? "GET" : "POST",
      headers: {
        "content-type": "application/json",
        "x-postpath-client": "test", // issue 12: as the web app's client sends it
        ...(cookie ? { cookie } : {}),
      },
      body: kind === "mutation" ? JSON.stringify(input ?? null) : undefined,
    });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0] ?? "";
    return { status: res.status, body: await res.json() };
  }
  return {
    query: (path: string, input?: unknown) => call("query", path, input),
    mutation: (path: string, input?: unknown) => call("mutation", path, input),
    get cookie() {
      return cookie;
    },
  };
}

export { waitFor } from "@postpath/db/testing";
