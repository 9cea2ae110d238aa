// Which of the two dependencies (Postgres, Redis) answers right now, for the HTTP server (503 with
// Retry-After while one is down, /healthz, /readyz) and for the workers (pause while Postgres is
// down instead of burning every job's attempts; one log line per change of state, not one per job).
import type { Database } from "@postpath/db";
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "./logger.ts";

export type Dependency = "postgres" | "redis";

export interface DependencyState {
  up: boolean;
  /** When the current state began (ms since epoch). */
  since: number;
  /** The last error while down, for /healthz and the log. */
  error?: string;
}

/** Node socket codes: the peer is gone. Which peer, the error's stack or the caller says. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
]);

/** Postgres error classes (SQLSTATE) and Prisma codes that mean "the server is not available". */
const PG_OUTAGE_CODES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up / shutting down)
  "53300", // too_many_connections
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  // Prisma: can't reach the server / timed out / closed the connection / pool timeout
  "P1001",
  "P1002",
  "P1017",
  "P2024",
]);

const PG_OUTAGE_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error",
  "terminating connection due to administrator command",
  "the database system is shutting down",
  "the database system is starting up",
  "Can't reach database server",
  "Timed out fetching a new connection",
];

const REDIS_OUTAGE_MESSAGES = [
  "Connection is closed",
  "Stream isn't writeable",
  "Reached the max retries per request limit",
  "Redis is unreachable",
  "LOADING",
  // issue 15: a Redis Cluster without a quorum, or none of its nodes answering.
  "CLUSTERDOWN",
  "Failed to refresh slots cache",
  "None of startup nodes is available",
];

function* causes(err: unknown): Generator<Record<string, unknown>> {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e && typeof e === "object"; depth++) {
    yield e as Record<string, unknown>;
    const next = (e as { cause?: unknown; originalError?: unknown }).cause;
    e = next ?? (e as { originalError?: unknown }).originalError;
  }
}

/**
 * Which dependency an error says is unavailable (walking its `cause` chain), or null when the
 * error is anything else (a bug, a constraint violation, bad input…). A bare socket error (EPIPE,
 * ECONNRESET…) is attributed by its stack (ioredis/BullMQ or pg/Prisma), else to `source` when
 * the caller knows where it came from.
 */
export function dependencyOutage(err: unknown, source?: Dependency): Dependency | null {
  for (const e of causes(err)) {
    const code = typeof e.code === "string" ? e.code : undefined;
    const message = typeof e.message === "string" ? e.message : "";
    const name = typeof e.name === "string" ? e.name : "";
    if (
      name === "DependencyUnavailableError" &&
      (e.dependency === "postgres" || e.dependency === "redis")
    )
      return e.dependency;
    if (
      name === "MaxRetriesPerRequestError" ||
      REDIS_OUTAGE_MESSAGES.some((m) => message.includes(m))
    )
      return "redis";
    if ((code && PG_OUTAGE_CODES.has(code)) || PG_OUTAGE_MESSAGES.some((m) => message.includes(m)))
      return "postgres";
    if (code && SOCKET_CODES.has(code)) {
      const stack = typeof e.stack === "string" ? e.stack : "";
      if (/[/\\](ioredis|bullmq)[/\\@]/.test(stack)) return "redis";
      if (/[/\\](pg|pg-pool|@prisma)[/\\@]/.test(stack)) return "postgres";
      if (source) return source;
    }
  }
  return null;
}

/** Thrown where work is refused up front because a dependency is known to be down. */
export class DependencyUnavailableError extends Error {
  override name = "DependencyUnavailableError";
  constructor(
    readonly dependency: Dependency,
    detail?: string,
  ) {
    super(
      `${dependency === "postgres" ? "The database" : "The job queue (Redis)"} is unavailable${detail ? ` (${detail})` : ""}; try again shortly.`,
    );
  }
}

export interface DependencyMonitorOptions {
  db: Database;
  redis: Redis | Cluster;
  log: Logger;
  /** How often dependencies are probed while all are up (default 5 s) and while one is down (default 1 s). */
  probeEveryMs?: number;
  probeWhileDownMs?: number;
  /** A probe that takes longer than this counts as down (default 3 s). */
  probeTimeoutMs?: number;
}

type Listener = (dep: Dependency, state: DependencyState) => void;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Keeps the up/down state of Postgres and Redis: probed on a timer (faster while one is down),
 * told about Redis by the shared connection's events, and told about errors by whoever meets
 * one (`report`). Logs one line per change of state.
 */
export class DependencyMonitor {
  private readonly states: Record<Dependency, DependencyState>;
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  private stopped = false;
  private readonly onRedisReady = () => this.set("redis", true);
  private readonly onRedisClose = () => this.set("redis", false, "connection closed");

  constructor(private readonly opts: DependencyMonitorOptions) {
    const now = Date.now();
    this.states = {
      postgres: { up: true, since: now },
      redis: { up: opts.redis.status === "ready" || opts.redis.status === "wait", since: now },
    };
  }

  start(): this {
    this.opts.redis.on("ready", this.onRedisReady);
    this.opts.redis.on("close", this.onRedisClose);
    this.schedule();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.opts.redis.off("ready", this.onRedisReady);
    this.opts.redis.off("close", this.onRedisClose);
  }

  state(dep: Dependency): DependencyState {
    return { ...this.states[dep] };
  }

  /** The first dependency that is down, or null when both answer. */
  down(): Dependency | null {
    if (!this.states.postgres.up) return "postgres";
    if (!this.states.redis.up) return "redis";
    return null;
  }

  snapshot(): Record<Dependency, DependencyState> {
    return { postgres: this.state("postgres"), redis: this.state("redis") };
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An error met while working: if it says a dependency is down, mark it down now. True if it did. */
  report(err: unknown, source?: Dependency): boolean {
    const dep = dependencyOutage(err, source);
    if (!dep) return false;
    this.set(dep, false, err instanceof Error ? err.message : String(err));
    return true;
  }

  /** Probes both dependencies now (also what the timer does). */
  async probe(): Promise<Record<Dependency, DependencyState>> {
    if (this.probing) return this.snapshot();
    this.probing = true;
    const timeout = this.opts.probeTimeoutMs ?? 3000;
    try {
      await Promise.all([
        withTimeout(this.opts.db.query("SELECT 1"), timeout, "Postgres").then(
          () => this.set("postgres", true),
          (err: unknown) => this.set("postgres", false, (err as Error).message),
        ),
        this.opts.redis.status !== "ready"
          ? Promise.resolve(this.set("redis", false, `connection ${this.opts.redis.status}`))
          : withTimeout(this.opts.redis.ping(), timeout, "Redis").then(
              () => this.set("redis", true),
              (err: unknown) => this.set("redis", false, (err as Error).message),
            ),
      ]);
    } finally {
      this.probing = false;
    }
    return this.snapshot();
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.down()
      ? (this.opts.probeWhileDownMs ?? 1000)
      : (this.opts.probeEveryMs ?? 5000);
    this.timer = setTimeout(() => {
      void this.probe().finally(() => this.schedule());
    }, every);
    this.timer.unref();
  }

  private set(dep: Dependency, up: boolean, error?: string): void {
    const s = this.states[dep];
    if (s.up === up) {
      if (!up && error) s.error = error;
      return;
    }
    const now = Date.now();
    const after = now - s.since;
    this.states[dep] = up ? { up, since: now } : { up, since: now, ...(error ? { error } : {}) };
    if (up) this.opts.log.warn({ dependency: dep, downForMs: after }, `${dep} is reachable again`);
    else this.opts.log.error({ dependency: dep, err: error }, `${dep} is unreachable`);
    for (const l of this.listeners) l(dep, this.state(dep));
    // Probe faster while something is down.
    if (!up && this.timer && !this.stopped) {
      clearTimeout(this.timer);
      this.schedule();
    }
  }
}
