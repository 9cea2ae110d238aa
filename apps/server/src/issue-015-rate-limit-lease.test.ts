// Issue 15: the ingest rate limit counts in Redis a lease at a time (rate-limit-lease.ts). Against
// the real Redis, with two stores standing in for two server processes: every request gets a count
// of its own, a key is never let through more often than its limit (and at most a lease per
// process less often), Redis is asked once per lease instead of once per request, a new window
// starts again from 1, and a Redis that cannot be reached is reported to the plugin (which lets
// the request through: skipOnError).
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { leaseSize, leasedRedisStore } from "./rate-limit-lease.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

type Store = InstanceType<ReturnType<typeof leasedRedisStore>>;
const incr = (store: Store, id: string, windowMs: number, max: number) =>
  new Promise<{ current: number; ttl: number }>((ok, fail) =>
    store.incr(
      id,
      (err, res) => (err || !res ? fail(err ?? new Error("no result")) : ok(res)),
      windowMs,
      max,
    ),
  );

/** A Redis connection whose lease commands are counted (the real command runs). */
function countedRedis(): { redis: Redis; leases: () => number } {
  const redis = new Redis(REDIS_URL);
  const prefix = `rl-test-${randomBytes(4).toString("hex")}:`;
  leasedRedisStore(redis, prefix); // defines the command
  const r = redis as Redis & { rateLimitLease: (...a: unknown[]) => Promise<unknown> };
  const real = r.rateLimitLease.bind(r);
  let calls = 0;
  r.rateLimitLease = (...a: unknown[]) => {
    calls++;
    return real(...a);
  };
  return { redis, leases: () => calls };
}

const opened: Redis[] = [];
afterAll(() => {
  for (const r of opened) r.disconnect();
});

describe("issue 15: the ingest rate limit, counted in leases", () => {
  it("two processes share one limit: unique counts, never more than the limit, one Redis call per lease", async () => {
    const prefix = `rl-test-${randomBytes(4).toString("hex")}:`;
    const a = countedRedis();
    const b = countedRedis();
    opened.push(a.redis, b.redis);
    const max = 1000; // a lease of 10
    const route = { routeInfo: { method: "POST", url: "/v1/track" } };
    const storeA = new (leasedRedisStore(a.redis, prefix))().child(route);
    const storeB = new (leasedRedisStore(b.redis, prefix))().child(route);
    // 1,200 requests for one key, in bursts of 40 spread over both processes.
    const counts: number[] = [];
    for (let burst = 0; burst < 30; burst++) {
      const got = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          incr((burst + i) % 3 === 0 ? storeB : storeA, "key-1", 60_000, max),
        ),
      );
      for (const g of got) {
        expect(g.ttl).toBeGreaterThan(0);
        counts.push(g.current);
      }
    }
    // Every request got a count of its own.
    expect(new Set(counts).size).toBe(counts.length);
    const admitted = counts.filter((c) => c <= max).length;
    expect(admitted).toBeLessThanOrEqual(max);
    expect(admitted).toBeGreaterThanOrEqual(max - 2 * leaseSize(max));
    // The counts live in Redis under the route's key (a third process would see them).
    const stored = Number(await a.redis.get(`${prefix}POST/v1/track-key-1`));
    expect(stored).toBeGreaterThanOrEqual(counts.length);
    expect(stored).toBeLessThanOrEqual(counts.length + 2 * leaseSize(max) + 40);
    // Redis was asked about once per lease, not once per request.
    expect(a.leases() + b.leases()).toBeLessThan(counts.length / 5);
  });

  it("a small limit is counted request by request, exactly, across processes", async () => {
    const prefix = `rl-test-${randomBytes(4).toString("hex")}:`;
    const a = new Redis(REDIS_URL);
    const b = new Redis(REDIS_URL);
    opened.push(a, b);
    const storeA = new (leasedRedisStore(a, prefix))();
    const storeB = new (leasedRedisStore(b, prefix))();
    const seen: number[] = [];
    for (let i = 0; i < 6; i++)
      seen.push((await incr(i % 2 ? storeB : storeA, "k", 60_000, 4)).current);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("a window that ended starts again from 1", async () => {
    const prefix = `rl-test-${randomBytes(4).toString("hex")}:`;
    const redis = new Redis(REDIS_URL);
    opened.push(redis);
    const store = new (leasedRedisStore(redis, prefix))();
    const first = await incr(store, "w", 300, 1000);
    expect(first.current).toBe(1);
    expect((await incr(store, "w", 300, 1000)).current).toBe(2);
    // Wait for Redis to end the window (the key expires), then for the local lease's end too.
    for (;;) {
      if ((await redis.exists(`${prefix}w`)) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (;;) {
      const next = await incr(store, "w", 300, 1000);
      if (next.current === 1) break;
      // Still inside the lease's window as this process saw it: counts go on, never restart early.
      expect(next.current).toBeGreaterThan(2);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("Redis unreachable: the error reaches the plugin for every waiting request", async () => {
    const redis = new Redis({
      host: "127.0.0.1",
      port: 1, // nothing listens there
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on("error", () => undefined);
    opened.push(redis);
    const store = new (leasedRedisStore(redis, "rl-test-down:"))();
    const results = await Promise.allSettled(
      Array.from({ length: 3 }, () => incr(store, "k", 60_000, 1000)),
    );
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
  });
});
