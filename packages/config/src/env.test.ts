import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env.ts";

describe("parseEnv", () => {
  it("fills documented defaults when nothing is set", () => {
    const env = parseEnv({});
    expect(env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.RUN_WORKER).toBe(true);
    expect([env.WORKER_CONCURRENCY, env.RUN_CONCURRENCY]).toEqual([50, 200]);
  });

  it("keeps events 90 days unless told otherwise; 0 keeps them forever", () => {
    expect(parseEnv({}).EVENT_RETENTION_DAYS).toBe(90);
    expect(parseEnv({ EVENT_RETENTION_DAYS: "0" }).EVENT_RETENTION_DAYS).toBe(0);
    expect(() => parseEnv({ EVENT_RETENTION_DAYS: "-1" })).toThrow(/EVENT_RETENTION_DAYS/);
    expect(() => parseEnv({ EVENT_RETENTION_DAYS: "a week" })).toThrow(
      /EVENT_RETENTION_DAYS.*whole number of days/,
    );
  });

  it("keeps run traces forever unless told otherwise; refuses negative or unreadable days", () => {
    expect(parseEnv({}).TRACE_RETENTION_DAYS).toBe(0);
    expect(parseEnv({ TRACE_RETENTION_DAYS: "400" }).TRACE_RETENTION_DAYS).toBe(400);
    expect(() => parseEnv({ TRACE_RETENTION_DAYS: "-1" })).toThrow(/TRACE_RETENTION_DAYS/);
    expect(() => parseEnv({ TRACE_RETENTION_DAYS: "a year" })).toThrow(
      /TRACE_RETENTION_DAYS.*whole number of days/,
    );
  });

  it("keeps messages forever unless told otherwise; refuses negative or unreadable days", () => {
    expect(parseEnv({}).MESSAGE_RETENTION_DAYS).toBe(0);
    expect(parseEnv({ MESSAGE_RETENTION_DAYS: "730" }).MESSAGE_RETENTION_DAYS).toBe(730);
    expect(() => parseEnv({ MESSAGE_RETENTION_DAYS: "-1" })).toThrow(/MESSAGE_RETENTION_DAYS/);
    expect(() => parseEnv({ MESSAGE_RETENTION_DAYS: "two years" })).toThrow(
      /MESSAGE_RETENTION_DAYS.*whole number of days/,
    );
  });

  it("reads the run concurrency on its own and refuses one that is not a whole number", () => {
    expect(parseEnv({ RUN_CONCURRENCY: "500" }).RUN_CONCURRENCY).toBe(500);
    expect(() => parseEnv({ RUN_CONCURRENCY: "lots" })).toThrow(/RUN_CONCURRENCY.*whole number/);
  });

  it("reads the outbound allow-list as a list (none by default) and refuses what is not a host", () => {
    expect(parseEnv({}).OUTBOUND_ALLOW_HOSTS).toEqual([]);
    expect(
      parseEnv({ OUTBOUND_ALLOW_HOSTS: " 10.0.0.5, hooks.internal ,fd00::/8," })
        .OUTBOUND_ALLOW_HOSTS,
    ).toEqual(["10.0.0.5", "hooks.internal", "fd00::/8"]);
    expect(() => parseEnv({ OUTBOUND_ALLOW_HOSTS: "http://10.0.0.5/" })).toThrow(
      /OUTBOUND_ALLOW_HOSTS.*CIDR/,
    );
  });

  it("issue 15: reads Redis Cluster nodes as host/port pairs and the queue shards (1 by default)", () => {
    expect(parseEnv({}).REDIS_CLUSTER_NODES).toBeUndefined();
    expect(parseEnv({}).QUEUE_SHARDS).toBe(1);
    expect(
      parseEnv({
        REDIS_CLUSTER_NODES: "redis-1:7000, 10.0.0.2:7001,[::1]:7002",
        QUEUE_SHARDS: "8",
      }),
    ).toMatchObject({
      REDIS_CLUSTER_NODES: [
        { host: "redis-1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
        { host: "::1", port: 7002 },
      ],
      QUEUE_SHARDS: 8,
    });
    expect(() => parseEnv({ REDIS_CLUSTER_NODES: "redis://redis-1:7000" })).toThrow(
      /REDIS_CLUSTER_NODES.*host:port/,
    );
    expect(() => parseEnv({ QUEUE_SHARDS: "0" })).toThrow(/QUEUE_SHARDS/);
  });

  it("names the variable and the expected form for a malformed value", () => {
    try {
      parseEnv({ DATABASE_URL: "mysql://x", PORT: "eighty" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      const lines = (err as EnvError).lines;
      expect(lines).toHaveLength(2);
      expect(lines.find((l) => l.includes("DATABASE_URL"))).toMatch(/postgresql:\/\//);
      expect(lines.find((l) => l.includes("PORT"))).toMatch(/port number/);
    }
  });

  it("treats empty strings as unset", () => {
    expect(parseEnv({ DATABASE_URL: "" }).DATABASE_URL).toBeUndefined();
  });
});
