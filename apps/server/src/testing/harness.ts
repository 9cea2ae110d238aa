import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { hashPassword } from "@postpath/api";
import { parseEnv } from "@postpath/config";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import {
  createEngineContext,
  createLogger,
  createRedis,
  credentialProviders,
  providersFromEnv,
  startWorkers,
  staticProviders,
  type EngineContext,
  type Keyring,
  type Logger,
  type RunningWorkers,
} from "@postpath/engine";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { buildApp } from "../app.ts";

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
  close(): Promise<void>;
}

/**
 * The real app on real services: a fresh Postgres database, the local Redis under a unique queue
 * prefix, Fastify on a random port, and BullMQ workers in-process.
 */
export async function startHarness(
  opts: { smtpUrl?: string; /** admin issue */ log?: Logger; keyring?: Keyring } = {},
): Promise<Harness> {
  const prefix = `t${randomBytes(5).toString("hex")}`;
  const db = await createTestDatabase();
  const env = parseEnv({
    DATABASE_URL: db.url,
    SMTP_URL: opts.smtpUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "warn",
  });
  const log = opts.log ?? createLogger(env.LOG_LEVEL);
  const redis: Redis = createRedis(env.REDIS_URL);
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
  });
  const workers = startWorkers(engine, { connection: redis, prefix, concurrency: 10 });
  const app = await buildApp({
    db,
    engine,
    log,
    ...(opts.keyring ? { keyring: opts.keyring } : {}),
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
    async close() {
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
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
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
