// Shared set-up for the engine benchmarks (not a benchmark itself: run.ts skips files starting
// with "_"). Each benchmark gets its own redis-server (no persistence) on a free port, so figures
// are not disturbed by other users of the machine's Redis, and a fresh Postgres database.
import { spawn, type ChildProcess } from "node:child_process";
import type { Database, Prisma } from "@postpath/db";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import {
  assertRedis,
  createEngineContext,
  createLogger,
  createRedis,
  staticProviders,
  type EngineContext,
  type TimerSettings,
} from "@postpath/engine";
import { compile, draftFromSteps, triggerOf, type StepSpec } from "@postpath/journey";
import type { Redis } from "ioredis";
import { freePort } from "./_process.ts";

export interface BenchEnv {
  db: TestDatabase;
  redis: Redis;
  redisUrl: string;
  ctx: EngineContext;
  prefix: string;
  workspaceId: string;
  close(): Promise<void>;
}

export async function startRedisServer(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn(
    "redis-server",
    // hz 100 as the product recommends (README, "Redis"): BullMQ wakes delayed jobs through
    // blocking-command timeouts, which an otherwise idle Redis checks hz times a second.
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--hz",
      process.env.REDIS_HZ ?? "100",
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    try {
      await assertRedis(url);
      return { url, child };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error("redis-server did not start");
}

/** The engine as the benchmarks run it: errors-only logging, no channel providers. */
export async function benchContext(
  db: Database,
  redisUrl: string,
  prefix: string,
  timers?: Partial<TimerSettings>,
): Promise<{ ctx: EngineContext; redis: Redis }> {
  const redis = createRedis(redisUrl);
  await redis.connect();
  const ctx = createEngineContext({
    db,
    connection: redis,
    prefix,
    log: createLogger("error"),
    providers: staticProviders({}),
    ...(timers ? { timers } : {}),
  });
  return { ctx, redis };
}

export async function openBench(timers?: Partial<TimerSettings>): Promise<BenchEnv> {
  const { url, child } = await startRedisServer();
  const db = await createTestDatabase("postpath_bench");
  const prefix = "bench";
  const { ctx, redis } = await benchContext(db, url, prefix, timers);
  const ws = await db.prisma.workspace.create({
    data: { name: "Bench", slug: `bench-${Date.now()}` },
  });
  return {
    db,
    redis,
    redisUrl: url,
    ctx,
    prefix,
    workspaceId: ws.id,
    async close() {
      await ctx.queues.close();
      redis.disconnect();
      child.kill("SIGKILL");
      await db.drop();
    },
  };
}

export async function publish(
  env: BenchEnv,
  steps: StepSpec[],
): Promise<{ journeyId: string; versionId: string }> {
  const result = compile(draftFromSteps(steps));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const trigger = triggerOf(result.plan);
  const j = await env.db.prisma.journey.create({
    data: { workspaceId: env.workspaceId, name: "bench", status: "LIVE", draft: {} },
  });
  const v = await env.db.prisma.journeyVersion.create({
    data: {
      journeyId: j.id,
      workspaceId: env.workspaceId,
      version: 1,
      schemaVersion: result.plan.schemaVersion,
      plan: result.plan as unknown as Prisma.InputJsonValue,
      triggerType: trigger.type,
      triggerEvent: trigger.event ?? null,
    },
  });
  return { journeyId: j.id, versionId: v.id };
}

/** N customers in one statement (generate_series): set-up, not measured. */
export async function createCustomers(env: BenchEnv, n: number): Promise<void> {
  await env.db.prisma.$executeRaw`
    INSERT INTO "Customer" (id, "workspaceId", "externalId", email, timezone, attributes, "updatedAt")
    SELECT 'c' || lpad(g::text, 9, '0'), ${env.workspaceId}, 'u' || g, 'u' || g || '@example.com', 'Europe/Berlin',
           jsonb_build_object('first_name', 'Ann', 'tier', CASE WHEN g % 2 = 0 THEN 'gold' ELSE 'silver' END), now()
    FROM generate_series(1, ${n}) AS g`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

/**
 * The V8 flags the product's processes start with (apps/server and apps/worker package.json
 * `start`; bench/package.json's `bench` gives the same to a benchmark that runs the engine in its
 * own process): a 64 MB young generation instead of V8's 16 MB. The engine allocates a run's
 * state, its transition and its share of a batch document per step, nearly all short-lived;
 * with 16 MB, scavenges took 28-45 µs of CPU per timer run (a quarter of the worker's time) in
 * engine-lateness, with 64 MB 6-7 µs (bench/README.md). Child processes that run the engine
 * are started with them too.
 */
export const PRODUCT_NODE_FLAGS = ["--max-semi-space-size=64"];

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
