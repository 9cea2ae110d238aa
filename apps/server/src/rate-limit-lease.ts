// The ingest rate limit's store for @fastify/rate-limit (issue 15: the plugin's Redis store asked
// Redis once per request — 14 % of a /v1/track request's CPU and a round trip before every
// answer). Counting stays in Redis, so it holds across server processes, but a process takes its
// counts in leases: one INCRBY of `size` reserves the next `size` counts of the window, and the
// requests that follow are counted from the lease without asking Redis. Requests arriving while a
// lease is being fetched wait for it and share it.
//
// A lease is 1 % of the limit (at least 1, at most 1,000): a limit of 4 per minute is counted
// request by request exactly as before; 6,000 per minute asks Redis once per 60 requests. Counts
// leased but unused when the window ends are lost, so a key is never let through more often than
// its limit, and at worst 1 % per server process less often.
import type { Cluster, Redis } from "ioredis";

/** The part of @fastify/rate-limit's store contract ingest uses. */
interface StoreResult {
  current: number;
  ttl: number;
}
type Callback = (err: Error | null, res?: StoreResult) => void;

/** INCRBY with the window's expiry set on its first count (or on a key that lost its expiry). */
const LEASE_LUA = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == tonumber(ARGV[1]) or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {current, ttl}`;

type LeasingRedis = (Redis | Cluster) & {
  rateLimitLease?: (key: string, size: number, windowMs: number) => Promise<[number, number]>;
};

/** Counts taken from Redis per lease for a limit of `max` per window. */
export function leaseSize(max: number): number {
  return Math.min(1000, Math.max(1, Math.floor(max / 100)));
}

interface Lease {
  /** The next count to hand out, and the last one the lease holds. */
  next: number;
  last: number;
  /** When the window the lease belongs to ends (ms since the epoch). */
  endsAt: number;
  waiting: Callback[];
  fetching: boolean;
}

/** Entries kept before ended windows are swept from the map. */
const MAX_KEYS = 10_000;

/** A store class for `@fastify/rate-limit`'s `store` option, counting in `redis` under `prefix`. */
export function leasedRedisStore(redis: Redis | Cluster, prefix: string) {
  const r = redis as LeasingRedis;
  if (!r.rateLimitLease) r.defineCommand("rateLimitLease", { numberOfKeys: 1, lua: LEASE_LUA });

  class LeasedStore {
    private readonly leases = new Map<string, Lease>();

    constructor(
      _params?: unknown,
      private readonly key = prefix,
    ) {}

    incr(id: string, cb: Callback, timeWindow: number, max: number): void {
      const key = this.key + id;
      const now = Date.now();
      let lease = this.leases.get(key);
      if (!lease) {
        if (this.leases.size >= MAX_KEYS) this.sweep(now);
        lease = { next: 1, last: 0, endsAt: 0, waiting: [], fetching: false };
        this.leases.set(key, lease);
      }
      if (!lease.fetching && lease.next <= lease.last && now < lease.endsAt) {
        cb(null, { current: lease.next++, ttl: lease.endsAt - now });
        return;
      }
      lease.waiting.push(cb);
      if (!lease.fetching) this.fetch(key, lease, timeWindow, max);
    }

    /**
     * Per route, as the plugin's own stores do (track and batch are counted apart). The plugin
     * passes the route's rate-limit settings with `routeInfo` (its typings say RouteOptions).
     */
    child(routeOptions: object): LeasedStore {
      const { method, url } = (routeOptions as { routeInfo: { method: string; url: string } })
        .routeInfo;
      return new LeasedStore(undefined, `${this.key}${method}${url}-`);
    }

    private fetch(key: string, lease: Lease, timeWindow: number, max: number): void {
      // Enough for everyone waiting, whatever the limit (their counts decide who is over it).
      const size = Math.max(leaseSize(max), lease.waiting.length);
      lease.fetching = true;
      r.rateLimitLease!(key, size, timeWindow).then(
        ([total, ttl]) => {
          const now = Date.now();
          lease.fetching = false;
          lease.next = total - size + 1;
          lease.last = total;
          lease.endsAt = now + ttl;
          // Those who came while it was asked for are served too, as far as the lease goes.
          const served = lease.waiting.splice(0, lease.last - lease.next + 1);
          for (const cb of served) cb(null, { current: lease.next++, ttl });
          if (lease.waiting.length > 0) this.fetch(key, lease, timeWindow, max);
        },
        (err: unknown) => {
          lease.fetching = false;
          const waiting = lease.waiting;
          lease.waiting = [];
          for (const cb of waiting) cb(err as Error);
        },
      );
    }

    private sweep(now: number): void {
      for (const [k, l] of this.leases) if (l.endsAt <= now && !l.fetching) this.leases.delete(k);
    }
  }
  return LeasedStore;
}
