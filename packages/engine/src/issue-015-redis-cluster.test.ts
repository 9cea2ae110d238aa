// Issue 15, item 5: the queues on a Redis Cluster. The test starts three local redis-server
// processes in cluster mode (three masters, no replicas), joins them with `redis-cli --cluster
// create`, and runs the engine's core path on it with the hot queues sharded: an event enrols
// customers, a wait's timer fires, an email goes out exactly once per customer — with the
// customers' work spread over several shards and the shards over more than one master. Also our
// own Lua script (the workspace's messages per minute) and job-id de-duplication across shards.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createProvider, type Provider } from "@postpath/channels";
import { parseEnv } from "@postpath/config";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { rateLimitHold } from "./limits.ts";
import { createLogger } from "./logger.ts";
import { assertRedis, runJobId, shardOf, type RunJob } from "./queues.ts";
import { openRuntime } from "./runtime.ts";
import { runProgress, startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

const SHARDS = 6;
const CUSTOMERS = 12;

interface LocalCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** A TCP port free now, whose cluster bus port (port + 10000) is free too. */
async function freePort(): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | null>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(null));
      s.listen(port, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
  for (;;) {
    const port = await listen(0);
    if (port && port < 55_000 && (await listen(port + 10_000))) return port;
  }
}

const cli = (port: number, ...args: string[]) =>
  spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { encoding: "utf8" });

async function startCluster(): Promise<LocalCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pp-redis-cluster-"));
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      "redis-server",
      [
        ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
        ...["--cluster-enabled", "yes", "--cluster-config-file", `${dir}/nodes-${port}.conf`],
        ...["--save", "", "--appendonly", "no", "--daemonize", "no"],
        // Delayed jobs (waits) wake through blocking-command timeouts, checked hz times a second.
        ...["--hz", "100"],
      ],
      { stdio: "ignore" },
    ),
  );
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGKILL");
          }),
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Each node answers (progress: how many do).
    await waitFor(
      "the three redis-server processes to answer",
      () => Promise.resolve(ports.every((p) => cli(p, "ping").stdout.trim() === "PONG")),
      { progress: () => Promise.resolve(ports.map((p) => cli(p, "ping").stdout.trim())) },
    );
    const created = spawnSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { encoding: "utf8" },
    );
    if (created.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    // Every node sees the whole cluster: state ok, all 16384 slots, three masters.
    const info = () =>
      ports.map((p) => {
        const text = cli(p, "cluster", "info").stdout;
        const field = (k: string) => new RegExp(`${k}:(\\S+)`).exec(text)?.[1] ?? "?";
        return `${field("cluster_state")}/${field("cluster_slots_ok")}/${field("cluster_known_nodes")}`;
      });
    await waitFor(
      "cluster_state:ok on every node",
      () => Promise.resolve(info().every((s) => s === "ok/16384/3")),
      { progress: () => Promise.resolve(info()) },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: ports.map((port) => ({ host: "127.0.0.1", port })), stop };
}

let cluster: LocalCluster;
let smtp: SmtpSink;
let email: Provider;
let h: EngineHarness;

beforeAll(async () => {
  cluster = await startCluster();
  smtp = await startSmtpSink();
  email = createProvider("email", { url: smtp.url, from: "Shop <s@pp.test>" });
  h = await startEngineHarness({
    redis: { clusterNodes: cluster.nodes },
    queueShards: SHARDS,
    providers: { email },
    // Waits ending 300 ms or more ahead ride the (sharded) timer buckets.
    timers: { bucketMs: 100, directWithinMs: 300 },
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await email?.close?.(); // its pooled SMTP connection, or the sink waits for it to time out
  await smtp?.close();
  await cluster?.stop();
});

/** Which master holds each shard that has keys, by queue: `{ runs: { "{runs-3}": "127.0.0.1:7001" } }`. */
async function shardHomes(): Promise<Record<string, Record<string, string>>> {
  const redis = h.redis as Cluster;
  const homes: Record<string, Record<string, string>> = {};
  for (const node of redis.nodes("master")) {
    const where = `${node.options.host}:${node.options.port}`;
    for (const key of await node.keys(`${h.prefix}:*`)) {
      const tag = /\{([a-z]+)-(\d+)\}/.exec(key);
      if (!tag) continue;
      (homes[tag[1]!] ??= {})[`{${tag[1]}-${tag[2]}}`] = where;
    }
  }
  return homes;
}

describe("issue 15: the engine on a 3-master Redis Cluster with sharded queues", () => {
  it("names every hot queue's shards with a hash tag and has every worker consume all of them", () => {
    expect(h.ctx.queues.layout).toEqual({ shards: SHARDS, hashTags: true });
    expect(h.ctx.queues.runs.names).toEqual(
      Array.from({ length: SHARDS }, (_, i) => `{runs-${i}}`),
    );
    expect(h.ctx.queues.jobs.name).toBe("{jobs}");
    const consumed = new Set(h.workers!.workers.map((w) => w.name));
    for (const q of [
      h.ctx.queues.events,
      h.ctx.queues.runs,
      h.ctx.queues.sends,
      h.ctx.queues.timers,
    ])
      for (const name of q.names) expect(consumed.has(name), name).toBe(true);
    expect(consumed.has("{jobs}")).toBe(true);
  });

  it("an event enrols customers, the wait's timer fires, each email is sent exactly once; the shards sit on more than one master", async () => {
    const { journeyId } = await h.publish("thanks", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "seconds" }, next: "m" },
      {
        id: "m",
        type: "action.email",
        data: { subject: "Thanks {{ first_name }}", body: "Hi", format: "text" },
        next: "end",
      },
    ]);
    const people = Array.from({ length: CUSTOMERS }, (_, i) => `c${i}`);
    for (const p of people) await h.customer(p, { email: `${p}@example.com`, first_name: p });
    await Promise.all(
      people.map((p) => track(h.ctx, h.workspaceId, { userId: p, event: "purchase" })),
    );
    const runs = await waitFor(
      "every run completed",
      async () => {
        const rows = await h.db.prisma.journeyRun.findMany({
          where: { journeyId, status: "COMPLETED" },
          select: { id: true, customerId: true },
        });
        return rows.length === CUSTOMERS ? rows : null;
      },
      { progress: () => runProgress(h.db, journeyId) },
    );
    // The wait went through a timer bucket (not one job per run) and was traced as fired.
    const fired = await h.db.prisma.runTrace.count({
      where: { runId: { in: runs.map((r) => r.id) }, stepId: "w" },
    });
    expect(fired).toBeGreaterThanOrEqual(CUSTOMERS);
    expect(await h.ctx.queues.timers.getJobCountByTypes("completed")).toBeGreaterThan(0);

    // Exactly one email per customer, each message SENT once.
    await smtp.waitFor(CUSTOMERS);
    const to = smtp.received.flatMap((m) => m.to).sort();
    expect(to).toEqual(people.map((p) => `${p}@example.com`).sort());
    const keys = smtp.received.map((m) => m.idempotencyKey);
    expect(new Set(keys).size).toBe(CUSTOMERS);
    const messages = await h.db.prisma.message.findMany({
      where: { runId: { in: runs.map((r) => r.id) } },
      select: { status: true },
    });
    expect(messages.map((m) => m.status)).toEqual(Array(CUSTOMERS).fill("SENT"));

    // The work was spread: several shards of each hot queue used, on more than one master.
    const homes = await shardHomes();
    for (const queue of ["events", "runs", "sends"]) {
      const used = Object.keys(homes[queue] ?? {});
      expect(used.length, `${queue} shards used: ${used.join(", ")}`).toBeGreaterThan(1);
    }
    const masters = new Set(Object.values(homes).flatMap((m) => Object.values(m)));
    expect(masters.size, JSON.stringify(homes)).toBeGreaterThan(1);
    // Where BullMQ put them is where the hash tag says: a shard's keys live in its tag's slot.
    const redis = h.redis as Cluster;
    for (const [queue, shards] of Object.entries(homes))
      for (const [shard, where] of Object.entries(shards)) {
        const slot = Number(await redis.cluster("KEYSLOT", shard.slice(1, -1)));
        const range = (await redis.cluster("SLOTS")).find(
          ([from, upto]) => slot >= from && slot <= upto,
        );
        const master = range?.[2];
        expect(master && `${master[0]}:${master[1]}`, `${queue} ${shard}`).toBe(where);
      }
  });

  it("a run's job is one job whichever process adds it: the same run always lands on the same shard", async () => {
    const job: RunJob = { runId: "cluster-run-1", seq: 7, input: { kind: "entered" } };
    const shard = h.ctx.queues.runs.shardOfData(job);
    expect(shard.name).toBe(`{runs-${shardOf(job.runId, SHARDS)}}`);
    await h.workers!.close();
    h.workers = null;
    try {
      await h.ctx.queues.runs.add("entered", job, { jobId: runJobId(job) });
      await h.ctx.queues.runs.addBulk([
        { name: "entered", data: job, opts: { jobId: runJobId(job) } },
      ]);
      const found = await h.ctx.queues.runs.getJob(runJobId(job));
      expect(found?.queueName).toBe(shard.name);
      expect(await h.ctx.queues.runs.getJobCountByTypes("waiting")).toBe(1);
      await found?.remove();
    } finally {
      h.startWorkers();
    }
  });

  it("the workspace's messages per minute (a Lua script) counts across processes on the cluster", async () => {
    const run = await h.db.prisma.journeyRun.findFirstOrThrow({ select: { id: true } });
    const limits = { quietHours: null, frequencyCap: null, maxPerMinute: 3 };
    const now = Date.now();
    // Two workspaces (their keys on their own shards), five sends each at once.
    for (const workspaceId of ["ws-cluster-a", "ws-cluster-b"]) {
      const held = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          rateLimitHold(
            h.ctx,
            { id: `m${i}`, runId: run.id, stepId: "m", workspaceId, channel: "email" },
            limits,
            now,
          ),
        ),
      );
      expect(held.filter((x) => x === null)).toHaveLength(3);
      expect(held.filter((x) => x !== null)).toHaveLength(2);
    }
  });

  it("REDIS_CLUSTER_NODES and QUEUE_SHARDS at start-up: the runtime connects to the cluster and lays the queues out in shards", async () => {
    const env = parseEnv({
      DATABASE_URL: h.db.url,
      REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(","),
      QUEUE_SHARDS: "3",
      QUEUE_PREFIX: `rt${randomBytes(4).toString("hex")}`,
      POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
      SEED_DEMO: "false",
    });
    const rt = await openRuntime(env, createLogger("silent"));
    try {
      expect("isCluster" in rt.redis && rt.redis.isCluster).toBe(true);
      expect(rt.redisChild).toBeNull();
      expect(rt.engine.queues.layout).toEqual({ shards: 3, hashTags: true });
      expect(rt.engine.queues.sends.names).toEqual(["{sends-0}", "{sends-1}", "{sends-2}"]);
      expect(await rt.monitor.probe()).toMatchObject({ redis: { up: true } });
    } finally {
      await rt.close();
    }
    // A cluster that does not answer is a start-up error naming its nodes.
    await expect(assertRedis({ clusterNodes: [{ host: "127.0.0.1", port: 1 }] })).rejects.toThrow(
      /Redis unreachable at the Redis Cluster 127\.0\.0\.1:1/,
    );
  });
});
