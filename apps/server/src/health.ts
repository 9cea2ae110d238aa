// Honest answers during an outage: /healthz says which dependency is down (503 when one is),
// /readyz is the cheap yes/no a load balancer polls, and while Postgres or Redis is known to be
// down, ingest answers 503 with Retry-After at once (Segment's clients retry on it) instead of a
// 500 or a request that hangs until the connection comes back.
import { dependencyOutage, type DependencyMonitor } from "@postpath/engine";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Seconds a client is asked to wait before retrying while a dependency is down. */
export const RETRY_AFTER_SECONDS = 5;

export function unavailableMessage(dep: "postgres" | "redis"): string {
  return `Postpath is temporarily unavailable (${dep === "postgres" ? "database" : "job queue"} unreachable). Nothing was stored; retry in a few seconds.`;
}

export function sendUnavailable(reply: FastifyReply, dep: "postgres" | "redis"): FastifyReply {
  return reply
    .code(503)
    .header("retry-after", String(RETRY_AFTER_SECONDS))
    .send({ error: unavailableMessage(dep), unavailable: dep });
}

/** Whether an error means a dependency is down (and tells the monitor); the dependency or null. */
export function outageOf(monitor: DependencyMonitor | undefined, err: unknown) {
  monitor?.report(err);
  return dependencyOutage(err);
}

export function registerHealth(app: FastifyInstance, monitor: DependencyMonitor): void {
  app.get("/healthz", async (_req, reply) => {
    const deps = await monitor.probe();
    const down = (Object.keys(deps) as (keyof typeof deps)[]).filter((d) => !deps[d].up);
    const body = {
      ok: down.length === 0,
      postgres: deps.postgres.up ? "up" : "down",
      redis: deps.redis.up ? "up" : "down",
      ...(down.length
        ? {
            down: Object.fromEntries(
              down.map((d) => [d, { since: new Date(deps[d].since).toISOString() }]),
            ),
          }
        : {}),
    };
    if (down.length) reply.code(503).header("retry-after", String(RETRY_AFTER_SECONDS));
    return body;
  });

  // No probe here: a load balancer polls this often; the monitor's last state answers.
  app.get("/readyz", async (_req, reply) => {
    const down = monitor.down();
    if (down) return sendUnavailable(reply, down);
    return { ready: true };
  });

  app.addHook("onRequest", async (req, reply) => {
    if (!req.url.startsWith("/v1/")) return;
    const down = monitor.down();
    if (down) return sendUnavailable(reply, down);
  });
}
